"""Every access rule of the application, in one place.

Views declare who may call them with one of the decorators below (the access test checks that every
route is classified) and ask the can_* rules about particular objects; templates use the same rules
to hide what a user may not do.
"""
from functools import wraps

from flask import abort, g
from flask_login import current_user
from sqlalchemy import exists, select

from lms.extensions import db, login_manager
from lms.learning.models import Cohort, CohortMentor, Enrolment


def public(view):
    view.access = "public"
    return view


def signed_in(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    wrapper.access = "signed-in"
    return wrapper


def role_required(*roles):
    """Signed-in users holding at least one of roles; others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.roles & set(roles):
                abort(403)
            return view(*args, **kwargs)

        wrapper.access = "+".join(roles)
        return wrapper

    return decorator


def require(allowed, status=404):
    """Abort unless allowed. 404 by default, so that nothing about other people's things leaks."""
    if not allowed:
        abort(status)


def is_enrolled(user, course):
    """Whether user is a trainee of a cohort of course; asked once per request and course."""
    cache = g.setdefault("enrolled", {})
    key = (user.id, course.id)
    if key not in cache:
        cache[key] = _is_enrolled(user, course)
    return cache[key]


def _is_enrolled(user, course):
    return db.session.scalar(select(exists().where(
        Enrolment.trainee_id == user.id, Enrolment.cohort_id == Cohort.id, Cohort.course_id == course.id)))


def can_view_course(user, course):
    return user.is_staff or (user.is_trainee and is_enrolled(user, course))


def can_track_progress(user, course):
    """Only trainees enrolled in the course have progress of their own."""
    return user.is_trainee and is_enrolled(user, course)


def mentors_trainee(mentor, trainee_id, course_id):
    """Whether mentor works with a cohort of course_id that trainee_id belongs to."""
    return db.session.scalar(select(exists().where(
        CohortMentor.mentor_id == mentor.id, CohortMentor.cohort_id == Cohort.id, Cohort.course_id == course_id,
        Enrolment.cohort_id == Cohort.id, Enrolment.trainee_id == trainee_id)))


def can_grade_submission(user, submission):
    return user.is_mentor and mentors_trainee(user, submission.trainee_id, submission.assignment.course_id)


def can_view_submission(user, submission):
    """The trainee who wrote it, their mentors and administrators."""
    return user.id == submission.trainee_id or user.is_admin or can_grade_submission(user, submission)


def can_withdraw_submission(user, submission):
    """The author, while the work waits and no mentor has opened it yet."""
    return (user.id == submission.trainee_id and submission.status == "submitted"
            and submission.review_opened_at is None and not submission.assignment.retired)


def load_cohort(user, cohort_id, *options):
    """The cohort (None if there is none) and, in the same query, whether the user mentors it: the answer is
    what mentors_cohort gives for the rest of the request."""
    found = db.session.execute(
        select(Cohort, CohortMentor.mentor_id).options(*options)
        .outerjoin(CohortMentor, (CohortMentor.cohort_id == Cohort.id) & (CohortMentor.mentor_id == user.id))
        .where(Cohort.id == cohort_id)).first()
    if found is None:
        return None
    g.setdefault("mentors_cohort", {})[(user.id, cohort_id)] = found[1] is not None
    return found[0]


def mentors_cohort(mentor, cohort_id):
    """Whether the mentor works with the cohort; asked once per request and cohort."""
    if not mentor.is_mentor:
        return False
    cache = g.setdefault("mentors_cohort", {})
    key = (mentor.id, cohort_id)
    if key not in cache:
        cache[key] = db.session.get(CohortMentor, (cohort_id, mentor.id)) is not None
    return cache[key]


def can_view_practice_entry(user, entry):
    return user.id == entry.trainee_id or user.is_admin or mentors_cohort(user, entry.cohort_id)


def can_review_practice_entry(user, entry):
    return mentors_cohort(user, entry.cohort_id)


def can_withdraw_practice_entry(user, entry):
    """The author, while the entry waits, no mentor has opened it and the site has not answered about it."""
    return (user.id == entry.trainee_id and entry.status == "submitted" and entry.review_opened_at is None
            and not any(c.answered_at for c in entry.confirmations))


def can_request_site_confirmation(user, entry):
    """The author of a submitted (or returned) entry the site has not answered about yet."""
    return (user.id == entry.trainee_id and entry.status in ("submitted", "returned")
            and not any(c.answered_at for c in entry.confirmations))


def can_view_trainee_practice(user, trainee):
    """The trainee, administrators, and mentors of any cohort the trainee is in."""
    if user.id == trainee.id or user.is_admin:
        return True
    return user.is_mentor and db.session.scalar(select(exists().where(
        CohortMentor.mentor_id == user.id, CohortMentor.cohort_id == Enrolment.cohort_id,
        Enrolment.trainee_id == trainee.id)))


def can_change_certificate(user, certificate):
    """The holder's own choices about their certificate (whether it shows their name)."""
    return user.id == certificate.trainee_id


def can_manage_schedule(user, cohort):
    """Sessions, attendance and deadlines of a cohort: its administrators and mentors."""
    return user.is_admin or mentors_cohort(user, cohort.id)


def can_view_session(user, session):
    return can_manage_schedule(user, session.cohort) or (user.is_trainee and db.session.scalar(select(exists().where(
        Enrolment.cohort_id == session.cohort_id, Enrolment.trainee_id == user.id))))


def can_discuss(user, cohort):
    """The cohort's board and announcements: its trainees and mentors, and administrators."""
    return user.is_admin or mentors_cohort(user, cohort.id) or (user.is_trainee and db.session.scalar(
        select(exists().where(Enrolment.cohort_id == cohort.id, Enrolment.trainee_id == user.id))))


def can_moderate(user, cohort):
    """Pinning, locking and hiding on the cohort's board, and announcing to it."""
    return user.is_admin or mentors_cohort(user, cohort.id)


def can_view_cohort(user, cohort):
    return user.is_admin or mentors_cohort(user, cohort.id)


def can_view_partner(user, partner):
    """Anyone sees a published partner; administrators also one they are still preparing."""
    return partner.published or (user.is_authenticated and user.is_admin)


def can_view_placement(user, placement):
    """The trainee placed, the cohort's mentors and administrators."""
    return user.id == placement.trainee_id or user.is_admin or mentors_cohort(user, placement.cohort_id)


def can_decide_placement(user, placement):
    return placement.status == "requested" and (user.is_admin or mentors_cohort(user, placement.cohort_id))


def can_write_agreement(user, placement):
    """The learning agreement's goals: the trainee placed, while the placement stands."""
    return user.id == placement.trainee_id and placement.status != "declined"


def can_approve_agreement(user, placement):
    return user.is_admin or mentors_cohort(user, placement.cohort_id)


def can_respond_to_evaluation(user, evaluation):
    """The trainee placed, once the supervisor has given the evaluation."""
    return user.id == evaluation.placement.trainee_id and evaluation.submitted_at is not None
