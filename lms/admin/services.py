"""Administration: roles, deactivation, cohorts. Every change is in the audit log; the caller commits."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from lms.audit import record_event
from lms.auth.models import ROLES, UserRole
from lms.auth.services import end_sessions
from lms.extensions import db
from lms.learning.models import Cohort, CohortMentor, Enrolment
from lms.learning.services import check_cohort_fields
from lms.notifications.services import drop_pending_email
from lms.practice.models import PracticeEntry
from lms.practice.totals import recount_trainee_practice


class AdminError(ValueError):
    """A change that cannot be made; str() is the message for the administrator."""


def set_user_roles(user, roles, actor):
    """Replace the user's roles; takes effect on their next request."""
    roles = sorted(set(roles))
    if not roles or any(r not in ROLES for r in roles):
        raise AdminError(_l("Choose at least one role."))
    if user.id == actor.id and "admin" not in roles:
        raise AdminError(_l("You cannot take the administrator role from yourself."))
    old = sorted(user.roles)
    if old == roles:
        return
    user.role_rows = [UserRole(role=r) for r in roles]
    record_event(actor, "user.roles", user, old=old, new=roles)
    db.session.flush()


def set_user_active(user, active, actor):
    """Deactivate (every session ends; work and history stay) or reactivate a user."""
    if user.id == actor.id and not active:
        raise AdminError(_l("You cannot deactivate yourself."))
    if user.active == active:
        return
    user.active = active
    if not active:
        end_sessions(user)
        drop_pending_email(user)
    record_event(actor, "user.activate" if active else "user.deactivate", user)
    db.session.flush()


def update_cohort(cohort, actor, name, starts_on, ends_on):
    name = check_cohort_fields(name, starts_on, ends_on)
    cohort.name, cohort.starts_on, cohort.ends_on = name, starts_on, ends_on
    record_event(actor, "cohort.update", cohort, name=name)
    db.session.flush()


def remove_mentor(cohort, mentor, actor):
    link = db.session.get(CohortMentor, (cohort.id, mentor.id))
    if link is not None:
        db.session.delete(link)
        record_event(actor, "cohort.remove_mentor", cohort, mentor_id=mentor.id)
        db.session.flush()


def move_trainee(trainee, target, actor):
    """Move a trainee to another cohort of the same course, with their practice log; nothing is lost."""
    enrolment = db.session.scalar(select(Enrolment).join(Cohort).where(
        Enrolment.trainee_id == trainee.id, Cohort.course_id == target.course_id))
    if enrolment is None:
        raise AdminError(_l("The trainee is not in a cohort of this course."))
    if enrolment.cohort_id == target.id:
        return
    source = enrolment.cohort_id
    enrolment.cohort_id = target.id
    db.session.execute(update(PracticeEntry).where(PracticeEntry.trainee_id == trainee.id,
                                                   PracticeEntry.cohort_id == source)
                       .values(cohort_id=target.id).execution_options(synchronize_session=False))
    recount_trainee_practice(trainee)
    record_event(actor, "cohort.move_trainee", target, trainee_id=trainee.id, from_cohort=source)
    db.session.flush()
