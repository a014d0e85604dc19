"""Reminders through the notifications: work due within 24 hours (unless handed in) and sessions within 24 hours.
`flask lms send-notifications` makes them before it sends, every minute; each is made once."""
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.auth.models import User
from lms.clock import local_today
from lms.curriculum.models import Assignment
from lms.extensions import db
from lms.grading.models import Submission
from lms.learning.models import Cohort, Enrolment
from lms.notifications.services import notify, path_for
from lms.schedule.deadlines import cohort_deadlines
from lms.schedule.models import CohortSession, DeadlineExtension, ReminderSent

AHEAD = timedelta(hours=24)


def make_reminders(now):
    """Make the reminders due at `now` in the caller's transaction; returns how many were made."""
    wanted = list(_session_reminders(now)) + list(_deadline_reminders(now))
    if not wanted:
        return 0
    done = set(db.session.scalars(select(ReminderSent.key).where(ReminderSent.key.in_([k for k, *_ in wanted]))))
    wanted = [w for w in wanted if w[0] not in done]
    if not wanted:
        return 0
    try:
        with db.session.begin_nested():
            db.session.add_all(ReminderSent(key=key) for key, *_ in wanted)
    except IntegrityError:
        return 0  # another sender made them at the same moment
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({w[1] for w in wanted})))}
    for _key, user_id, kind, url, params in wanted:
        notify(users[user_id], kind, url, **params)
    return len(wanted)


def _session_reminders(now):
    sessions = db.session.scalars(select(CohortSession).where(
        CohortSession.cancelled_at.is_(None), CohortSession.starts_at > now,
        CohortSession.starts_at <= now + AHEAD)).all()
    for session in sessions:
        trainees = db.session.scalars(select(Enrolment.trainee_id).where(Enrolment.cohort_id == session.cohort_id))
        for trainee_id in trainees:
            yield (f"session:{session.id}:{trainee_id}", trainee_id, "session_tomorrow",
                   path_for("schedule.session_page", session_id=session.id), {"title": session.title})


def _deadline_reminders(now):
    today = local_today()
    cohorts = db.session.scalars(select(Cohort).where(Cohort.starts_on.is_not(None), Cohort.starts_on <= today,
                                                      (Cohort.ends_on.is_(None)) | (Cohort.ends_on >= today))).all()
    for cohort in cohorts:
        assignments = db.session.scalars(select(Assignment).where(Assignment.course_id == cohort.course_id,
                                                                  Assignment.retired.is_(False))).all()
        deadlines = cohort_deadlines(cohort, assignments)
        trainees = set(db.session.scalars(select(Enrolment.trainee_id).where(Enrolment.cohort_id == cohort.id)))
        extensions = {(e.trainee_id, e.assignment_id): e.due_at for e in db.session.scalars(
            select(DeadlineExtension).where(DeadlineExtension.trainee_id.in_(trainees)))}
        handed_in = set(db.session.execute(select(Submission.trainee_id, Submission.assignment_id).where(
            Submission.trainee_id.in_(trainees), Submission.status != "draft")).all())
        for assignment in assignments:
            for trainee_id in trainees:
                due = extensions.get((trainee_id, assignment.id), deadlines[assignment.id].due_at)
                if due is None or not now < due <= now + AHEAD or (trainee_id, assignment.id) in handed_in:
                    continue
                yield (f"deadline:{assignment.id}:{trainee_id}:{due:%Y%m%d%H%M}", trainee_id, "deadline_soon",
                       path_for("grading.assignment_page", course_slug=cohort.course.slug,
                                module_slug=assignment.module.slug, key=assignment.key),
                       {"title": assignment.title})
