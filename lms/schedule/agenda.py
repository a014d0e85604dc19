"""What is next for a person: their cohorts' sessions and their deadlines, for /calendar, the feed and the start
pages. Reads across areas (work handed in), in a fixed number of queries."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, literal, or_, select
from sqlalchemy.orm import joinedload, lazyload

from lms.auth.models import User
from lms.clock import utcnow
from lms.curriculum.models import Assignment, Course, Module
from lms.extensions import db
from lms.grading.models import Submission
from lms.learning.models import Cohort, CohortMentor, Enrolment, ModuleProgress
from lms.practice.models import PracticeEntry
from lms.schedule.deadlines import due_week_column, due_week_end
from lms.schedule.models import AssignmentDeadline, Attendance, CohortSession, DeadlineExtension


@dataclass
class DeadlineItem:
    due_at: datetime
    assignment_id: int
    key: str
    title: str
    module_slug: str
    course_slug: str
    cohort_id: int
    handed_in: bool
    extended: bool


def cohorts_of(user):
    """The cohorts whose time this person follows: their own as a trainee, the ones they mentor, all for admins."""
    query = select(Cohort)
    if not user.is_admin:
        trainee = select(Enrolment.cohort_id).where(Enrolment.trainee_id == user.id)
        mentor = select(CohortMentor.cohort_id).where(CohortMentor.mentor_id == user.id)
        query = query.where(Cohort.id.in_(trainee.union(mentor)))
    return db.session.scalars(query.order_by(Cohort.name)).all()


def sessions_of(cohort_ids, since=None, until=None):
    query = select(CohortSession).options(joinedload(CohortSession.site)).where(
        CohortSession.cohort_id.in_(cohort_ids))
    if since is not None:
        query = query.where(CohortSession.ends_at >= since)
    if until is not None:
        query = query.where(CohortSession.starts_at < until)
    return db.session.scalars(query.order_by(CohortSession.starts_at)).all()


def trainee_deadlines(trainee):
    """Every due date of the trainee's work, earliest first, with whether it is handed in: one query of plain
    columns (the start page shows them on every visit; loading 60 assignments as objects cost it a third)."""
    handed_in = select(Submission.id).where(Submission.trainee_id == trainee.id,
                                            Submission.assignment_id == Assignment.id,
                                            Submission.status != "draft").exists()
    rows = db.session.execute(
        select(Assignment.id, Assignment.key, Assignment.title, due_week_column(), Module.slug, Course.slug, Cohort.id,
               Cohort.starts_on, DeadlineExtension.due_at, AssignmentDeadline.due_at, handed_in)
        .join(Module, Module.id == Assignment.module_id).join(Course, Course.id == Assignment.course_id)
        .join(Cohort, Cohort.course_id == Course.id).join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .outerjoin(DeadlineExtension, and_(DeadlineExtension.trainee_id == trainee.id,
                                           DeadlineExtension.assignment_id == Assignment.id))
        .outerjoin(AssignmentDeadline, and_(AssignmentDeadline.cohort_id == Cohort.id,
                                            AssignmentDeadline.assignment_id == Assignment.id))
        .where(Enrolment.trainee_id == trainee.id, Assignment.retired.is_(False))).all()
    items = []
    for assignment_id, key, title, week, module_slug, course_slug, cohort_id, starts_on, extended_to, set_to, done \
            in rows:
        due = extended_to or set_to or due_week_end(starts_on, week)
        if due is not None:
            items.append(DeadlineItem(due, assignment_id, key, title, module_slug, course_slug, cohort_id,
                                      bool(done), extended_to is not None))
    return sorted(items, key=lambda item: item.due_at)


def trainee_sessions(trainee, since, until):
    """The sessions of the trainee's cohorts between two moments, in one query."""
    cohorts = select(Enrolment.cohort_id).where(Enrolment.trainee_id == trainee.id)
    return db.session.scalars(select(CohortSession).options(joinedload(CohortSession.site))
                              .where(CohortSession.cohort_id.in_(cohorts), CohortSession.cancelled_at.is_(None),
                                     CohortSession.ends_at >= since, CohortSession.starts_at < until)
                              .order_by(CohortSession.starts_at)).all()


def week_start(moment):
    return (moment - timedelta(days=moment.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


def mentor_sessions(mentor, since, until):
    """The sessions of the mentor's cohorts between two moments, and those of the last two weeks that have begun
    but have no attendance yet: one query."""
    cohorts = select(CohortMentor.cohort_id).where(CohortMentor.mentor_id == mentor.id)
    now = utcnow()
    taken = select(Attendance.session_id).where(Attendance.session_id == CohortSession.id).exists()
    rows = db.session.execute(select(CohortSession, taken).options(joinedload(CohortSession.cohort)).where(
        CohortSession.cohort_id.in_(cohorts), CohortSession.cancelled_at.is_(None),
        or_(and_(CohortSession.ends_at >= since, CohortSession.starts_at < until),
            and_(CohortSession.starts_at <= now, CohortSession.starts_at >= now - timedelta(days=14))))
        .order_by(CohortSession.starts_at)).all()
    upcoming = [s for s, _taken in rows if s.ends_at >= since and s.starts_at < until]
    untaken = [s for s, was_taken in rows if not was_taken and now - timedelta(days=14) <= s.starts_at <= now]
    return upcoming, untaken


@dataclass
class BehindItem:
    trainee: User
    cohort: Cohort
    overdue: int  # pieces of work past their due date and not handed in
    inactive: bool  # nothing handed in, logged or read for `days`


def falling_behind(mentor, days=14, limit=10):
    """Trainees of the mentor's cohorts with overdue work, or enrolled for longer than `days` and doing nothing in
    that time (no work handed in, no practice logged, no module read): three queries."""
    return behind_in(select(CohortMentor.cohort_id).where(CohortMentor.mentor_id == mentor.id), days, limit)


def behind_in(cohorts, days=14, limit=None):
    """Falling behind, as on a mentor's start page, among the trainees of the cohorts selected (a subquery of
    cohort ids). The trainees are chosen first, by whether any work is overdue (the search stops at the first
    piece), and the overdue work is counted for the ones listed only: counting every piece for every trainee of a
    300-trainee cohort took the start page 18 ms at dataset L."""
    now = utcnow()
    since = now - timedelta(days=days)
    overdue = _overdue_work(_due_assignments(cohorts, now), now)
    inactive = and_(Enrolment.enrolled_at < since,
                    ~exists().where(Submission.trainee_id == Enrolment.trainee_id, Submission.submitted_at >= since),
                    ~exists().where(PracticeEntry.trainee_id == Enrolment.trainee_id,
                                    PracticeEntry.created_at >= since),
                    ~exists().where(ModuleProgress.trainee_id == Enrolment.trainee_id,
                                    ModuleProgress.completed_at >= since))
    behind = inactive if overdue is None else or_(overdue.exists(), inactive)
    listed = db.session.execute(
        select(Enrolment.id, User, Cohort).options(lazyload(User.role_rows))
        .join(User, User.id == Enrolment.trainee_id).join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Enrolment.cohort_id.in_(cohorts), User.active.is_(True), behind)
        .order_by(User.name, Cohort.name).limit(limit)).all()
    if not listed:
        return []
    counted = literal(0) if overdue is None else overdue.with_only_columns(func.count()).scalar_subquery()
    details = {enrolment_id: (n, bool(idle)) for enrolment_id, n, idle in db.session.execute(
        select(Enrolment.id, counted, inactive)
        .where(Enrolment.id.in_([enrolment_id for enrolment_id, _user, _cohort in listed])))}
    return [BehindItem(user, cohort, *details[enrolment_id]) for enrolment_id, user, cohort in listed]


def _due_assignments(cohorts, now):
    """{cohort id: ids of its assignments past their due date}. Due dates come from the module's due week or the
    cohort's own date (worked out here, as `due_week` lives in the assignment's spec)."""
    rows = db.session.execute(
        select(Cohort.id, Cohort.starts_on, Assignment.id, due_week_column(), AssignmentDeadline.due_at)
        .join(Assignment, Assignment.course_id == Cohort.course_id)
        .outerjoin(AssignmentDeadline, and_(AssignmentDeadline.cohort_id == Cohort.id,
                                            AssignmentDeadline.assignment_id == Assignment.id))
        .where(Cohort.id.in_(cohorts), Assignment.retired.is_(False))).all()
    due = {}
    for cohort_id, starts_on, assignment_id, week, set_to in rows:
        moment = set_to or due_week_end(starts_on, week)
        if moment is not None and moment < now:
            due.setdefault(cohort_id, []).append(assignment_id)
    return due


def _overdue_work(due, now):
    """The overdue work of the enrolment in the enclosing query (a correlated select of assignment ids): past due,
    not handed in, and no extension that has not run out. None when nothing is due in any of the cohorts."""
    if not due:
        return None
    handed_in = select(Submission.id).where(Submission.trainee_id == Enrolment.trainee_id,
                                            Submission.assignment_id == Assignment.id,
                                            Submission.status != "draft").correlate_except(Submission).exists()
    extended = (select(DeadlineExtension.trainee_id)
                .where(DeadlineExtension.trainee_id == Enrolment.trainee_id,
                       DeadlineExtension.assignment_id == Assignment.id, DeadlineExtension.due_at >= now)
                .correlate_except(DeadlineExtension).exists())
    return (select(Assignment.id).where(or_(*(and_(Enrolment.cohort_id == cohort_id, Assignment.id.in_(ids))
                                              for cohort_id, ids in due.items())), ~handed_in, ~extended)
            .correlate(Enrolment))
