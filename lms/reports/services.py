"""The programme report for funders: every figure aggregated in SQL, in four queries whatever the programme.

A period is [start, end] in days, inclusive; an optional cohort narrows everything to its trainees.

The queries: the courses; every count (people, certificates, assignments, each course's completion funnel)
in one statement of scalar subqueries; approved practice per day, activity and site, from which the
by-activity, by-site, events and weekly figures are summed; approved practice per audience (on PostgreSQL
a SET before them turns JIT off). Practice is read from the totals kept as entries are approved
(lms/practice/totals.py), not from the entries: a million of them at dataset L took 1.2 s to add up.
"""
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import (
    Date,
    String,
    cast,
    distinct,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from lms.certificates.models import Certificate
from lms.clock import utc_bounds
from lms.curriculum.models import Assignment, Course, Module
from lms.discussions.models import DiscussionPost, DiscussionThread
from lms.extensions import db
from lms.grading.models import Submission
from lms.learning.models import Cohort, Enrolment, ModuleProgress
from lms.placements.models import Placement
from lms.practice.models import (
    PracticeAudienceDayTotal,
    PracticeDayTotal,
    PracticeEntry,
    PracticeEntryAudience,
    PracticeSite,
    PracticeTraineeTotal,
)
from lms.schedule.models import Attendance, CohortSession


@dataclass
class FunnelStep:
    key: str
    count: int


@dataclass
class ProgrammeReport:
    start: object
    end: object
    cohort: object
    enrolled: int = 0
    active: int = 0
    completed: int = 0
    certificates_issued: int = 0  # in the period, whatever became of them
    certificates_revoked: int = 0  # of those, revoked since
    submitted: int = 0
    submitted_late: int = 0
    passed: int = 0
    discussion_posts: int = 0  # threads started and replies, on the boards of the cohorts in scope
    sessions_held: int = 0
    attendance_marked: int = 0  # trainee places at held sessions with attendance taken
    attended: int = 0  # of them, present or late
    approved_minutes: int = 0
    by_activity: list = field(default_factory=list)  # (code, minutes, entries)
    by_site: list = field(default_factory=list)  # (name, kind, minutes, entries)
    by_audience: list = field(default_factory=list)  # (code, minutes, participants)
    events: int = 0
    event_participants: int = 0
    partner_sites: int = 0
    partners_on_map: int = 0  # published with coordinates, now: the seed's "organisations on the map"
    # Partners where approved practice was done or an approved placement ran in the period, the pilot centre
    # (kind centre) aside: the seed's "partners we worked with".
    partners_taking_part: int = 0
    weeks: list = field(default_factory=list)  # (week start, minutes)
    funnels: list = field(default_factory=list)  # (course title, [FunnelStep])

    @property
    def approved_hours(self):
        return self.approved_minutes / 60

    @property
    def certificates_valid(self):
        return self.certificates_issued - self.certificates_revoked


FUNNEL_STEPS = ("enrolled", "read", "passed", "hours", "certified")


def programme_report(start, end, cohort=None):
    report = ProgrammeReport(start=start, end=end, cohort=cohort)
    since, until = utc_bounds(start, end)
    if db.engine.dialect.name == "postgresql":
        # The counts' many subqueries push the planner's cost past jit_above_cost, and compiling them took
        # 0.44 s of the 0.61 s the statement took at L: the expressions are too simple to gain from JIT.
        db.session.execute(text("SET LOCAL jit = off"))
    trainees = select(Enrolment.trainee_id)
    if cohort is not None:
        trainees = trainees.where(Enrolment.cohort_id == cohort.id)
    courses = db.session.scalars(select(Course).where(Course.id.in_(
        select(Cohort.course_id).where(Cohort.id == cohort.id) if cohort is not None else select(Cohort.course_id))
    ).order_by(Course.title)).all()

    counts = {
        "enrolled": select(func.count(distinct(Enrolment.trainee_id))).where(
            _enrolled(trainees, cohort), Enrolment.enrolled_at < until),
        "active": _active(trainees, cohort, start, end, since, until),
        "issued": select(func.count(Certificate.id)).where(
            Certificate.trainee_id.in_(trainees), Certificate.issued_at >= since, Certificate.issued_at < until),
        # Of the certificates issued in the period, those revoked since: issued = still valid + revoked.
        "revoked": select(func.count(Certificate.id)).where(
            Certificate.trainee_id.in_(trainees), Certificate.issued_at >= since, Certificate.issued_at < until,
            Certificate.revoked_at.is_not(None)),
        "completed": select(func.count(distinct(Certificate.trainee_id))).where(
            Certificate.trainee_id.in_(trainees), Certificate.issued_at >= since, Certificate.issued_at < until,
            Certificate.revoked_at.is_(None)),
    }
    held = select(CohortSession.id).where(CohortSession.cancelled_at.is_(None), CohortSession.starts_at >= since,
                                          CohortSession.starts_at < until)
    if cohort is not None:
        held = held.where(CohortSession.cohort_id == cohort.id)
    posts = select(func.count()).select_from(DiscussionPost).join(
        DiscussionThread, DiscussionThread.id == DiscussionPost.thread_id).where(
        DiscussionPost.created_at >= since, DiscussionPost.created_at < until, DiscussionPost.deleted_at.is_(None))
    if cohort is not None:
        posts = posts.where(DiscussionThread.cohort_id == cohort.id)
    counts.update({
        "posts": posts,
        "held": select(func.count()).select_from(held.subquery()),
        "marked": select(func.count()).select_from(Attendance).where(Attendance.session_id.in_(held)),
        "attended": select(func.count()).select_from(Attendance).where(
            Attendance.session_id.in_(held), Attendance.status.in_(("present", "late"))),
        "on_map": select(func.count()).select_from(PracticeSite).where(
            PracticeSite.published.is_(True), PracticeSite.latitude.is_not(None)),
    })
    for course in courses:
        counts.update(_funnel_counts(course, cohort, trainees))
    # One statement: the submission counts scan the submissions once; every other count is an uncorrelated
    # scalar subquery, evaluated once.
    figures = db.session.execute(select(
        func.count(Submission.id).filter(Submission.submitted_at >= since, Submission.submitted_at < until),
        func.count(Submission.id).filter(Submission.status == "passed", Submission.graded_at >= since,
                                         Submission.graded_at < until),
        func.count(Submission.id).filter(Submission.late.is_(True), Submission.submitted_at >= since,
                                         Submission.submitted_at < until),
        *(query.scalar_subquery().label(key) for key, query in counts.items()))
        .where(_whole(Submission.trainee_id, cohort).in_(trainees))).one()
    report.submitted, report.passed, report.submitted_late = figures[0], figures[1], figures[2]
    figures = dict(zip(counts, figures[3:], strict=True))
    report.sessions_held, report.attendance_marked = figures["held"], figures["marked"]
    report.attended, report.discussion_posts = figures["attended"], figures["posts"]
    report.enrolled, report.active = figures["enrolled"], figures["active"]
    report.certificates_issued, report.certificates_revoked = figures["issued"], figures["revoked"]
    report.completed, report.partners_on_map = figures["completed"], figures["on_map"]
    for course in courses:
        enrolled = figures[f"enrolled-{course.id}"]
        report.funnels.append((course.title, [FunnelStep(step, figures.get(f"{step}-{course.id}", enrolled))
                                              for step in FUNNEL_STEPS]))

    per_group, per_audience = _approved_practice(start, end, cohort)
    _practice_totals(report, per_group)
    placed = select(Placement.site_id).where(Placement.status == "approved", Placement.starts_on <= end,
                                             Placement.ends_on >= start)
    if cohort is not None:
        placed = placed.where(Placement.cohort_id == cohort.id)
    report.partners_taking_part = db.session.scalar(select(func.count()).select_from(PracticeSite).where(
        PracticeSite.kind != "centre",
        or_(PracticeSite.id.in_(placed), PracticeSite.id.in_(select(per_group.c.site_id)))))
    report.by_audience = db.session.execute(
        select(per_audience.c.audience, func.sum(per_audience.c.minutes), func.sum(per_audience.c.participants))
        .group_by(per_audience.c.audience)
        .order_by(func.sum(per_audience.c.participants).desc())).all()
    return report


def _enrolled(trainees, cohort):
    """Enrolments of the trainees in scope. Over the whole programme that is every enrolment, and saying so
    spares SQLite a lookup of each enrolment in the list of every enrolled trainee (0.3 s a query at L)."""
    return Enrolment.trainee_id.in_(trainees) if cohort is not None else true()


def _whole(column, cohort):
    """The column, kept from SQLite's indexes in a report over the whole programme: most rows count then, and
    reading the table in order beats looking each row up through an index."""
    return _no_index(column) if cohort is None else column


def _active(trainees, cohort, start, end, since, until):
    """Trainees in scope who submitted work, logged practice or read a module in the period: each enrolled
    trainee is looked up in three indexes, rather than collecting every active trainee of the period."""
    people = select(Enrolment.trainee_id.label("id")).where(_enrolled(trainees, cohort)).distinct().subquery()
    return select(func.count()).select_from(people).where(or_(
        exists().where(Submission.trainee_id == people.c.id, Submission.submitted_at >= since,
                       Submission.submitted_at < until),
        exists().where(PracticeEntry.trainee_id == people.c.id, PracticeEntry.date >= start,
                       PracticeEntry.date <= end),
        exists().where(ModuleProgress.trainee_id == people.c.id, ModuleProgress.completed_at >= since,
                       ModuleProgress.completed_at < until)))


def _funnel_counts(course, cohort, trainees):
    """Per course: enrolled → all modules read → required assignments passed → practice hours met →
    certified, as queries keyed "<step>-<course id>". Without required assignments "passed" is "enrolled"."""
    members = select(Enrolment.trainee_id).join(Cohort).where(Cohort.course_id == course.id,
                                                               _enrolled(trainees, cohort))
    modules = select(func.count()).where(Module.course_id == course.id).scalar_subquery()
    counts = {
        f"enrolled-{course.id}": select(func.count(distinct(Enrolment.trainee_id))).join(Cohort).where(
            Cohort.course_id == course.id, _enrolled(trainees, cohort)),
    }
    # Trainees who read every module, then those of them in scope: PostgreSQL misjudges the membership test
    # among the rows read (a nested loop of 600,000 index lookups, 3 s at L).
    read_all = select(ModuleProgress.trainee_id).join(Module, Module.id == _whole(ModuleProgress.module_id, cohort)) \
        .where(Module.course_id == course.id)
    if cohort is not None:
        read_all = read_all.where(ModuleProgress.trainee_id.in_(members))
    read_all = read_all.group_by(ModuleProgress.trainee_id).having(func.count() >= modules).subquery()
    counts[f"read-{course.id}"] = select(func.count()).select_from(read_all).where(
        read_all.c.trainee_id.in_(members))
    keys = (course.certificate or {}).get("required_assignments", [])
    if keys:
        required = select(Assignment.id).where(Assignment.course_id == course.id, Assignment.key.in_(keys))
        counts[f"passed-{course.id}"] = select(func.count()).select_from(
            select(Submission.trainee_id).where(Submission.status == "passed", Submission.assignment_id.in_(required),
                                                Submission.trainee_id.in_(members))
            .group_by(Submission.trainee_id).having(func.count(distinct(Submission.assignment_id)) >= len(keys))
            .subquery())
    need_minutes = (course.certificate or {}).get("practice_hours", 0) * 60
    # An entry belongs to its trainee's cohort, so the cohorts alone select the right trainees.
    cohorts = select(Cohort.id).where(Cohort.course_id == course.id)
    if cohort is not None:
        cohorts = cohorts.where(Cohort.id == cohort.id)
    counts[f"hours-{course.id}"] = select(func.count()).select_from(
        select(PracticeTraineeTotal.trainee_id).where(PracticeTraineeTotal.cohort_id.in_(cohorts))
        .group_by(PracticeTraineeTotal.trainee_id).having(func.sum(PracticeTraineeTotal.minutes) >= need_minutes)
        .subquery())
    counts[f"certified-{course.id}"] = select(func.count(distinct(Certificate.trainee_id))).where(
        Certificate.course_id == course.id, Certificate.revoked_at.is_(None), Certificate.trainee_id.in_(members))
    return counts


def _approved_practice(start, end, cohort):
    """Approved practice of the period as rows of (date, activity_type, site_id, minutes, entries, participants)
    and of (audience, minutes, participants). The whole programme's come from the totals kept as entries are
    approved, a few tens of thousands of rows over a year of a large programme; a cohort's, a small share of all
    practice, from its own entries (through ix_practice_entries_cohort_status)."""
    if cohort is None:
        day, audience = PracticeDayTotal, PracticeAudienceDayTotal
        return (select(day.date, day.activity_type, day.site_id, day.minutes, day.entries, day.participants)
                .where(day.date >= start, day.date <= end).cte(),
                select(audience.audience, audience.minutes, audience.participants)
                .where(audience.date >= start, audience.date <= end).subquery())
    approved = (PracticeEntry.cohort_id == cohort.id, PracticeEntry.status == "approved", PracticeEntry.date >= start,
                PracticeEntry.date <= end)
    return (select(PracticeEntry.date, PracticeEntry.activity_type, PracticeEntry.site_id, PracticeEntry.minutes,
                   literal(1).label("entries"), PracticeEntry.participants).where(*approved).cte(),
            select(PracticeEntryAudience.audience, PracticeEntry.minutes, PracticeEntryAudience.participants)
            .join(PracticeEntry, PracticeEntry.id == PracticeEntryAudience.entry_id).where(*approved).subquery())


def _practice_totals(report, per_group):
    """By activity, by site, events and days (for the weeks): the rows of per_group summed three ways in the
    database, so a few hundred rows come back."""
    totals = (func.sum(per_group.c.minutes), func.sum(per_group.c.entries), func.sum(per_group.c.participants))
    no_day, no_text = cast(null(), Date), cast(null(), String)
    by_activity, by_site, per_day = [], [], {}
    for table, key, kind, day, minutes, entries, participants in db.session.execute(union_all(
            select(literal("activity"), per_group.c.activity_type, no_text, no_day, *totals)
            .group_by(per_group.c.activity_type),
            select(literal("site"), PracticeSite.name, PracticeSite.kind, no_day, *totals)
            .join(PracticeSite, PracticeSite.id == per_group.c.site_id).group_by(PracticeSite.name, PracticeSite.kind),
            select(literal("day"), no_text, no_text, per_group.c.date, *totals).group_by(per_group.c.date))):
        if table == "activity":
            by_activity.append((key, minutes, entries))
            if key == "event_organisation":
                report.events, report.event_participants = entries, participants
        elif table == "site":
            by_site.append((key, kind, minutes, entries))
        else:
            per_day[day] = minutes
    report.by_activity = sorted(by_activity, key=lambda row: row[1], reverse=True)
    report.by_site = sorted(by_site, key=lambda row: row[2], reverse=True)
    report.approved_minutes = sum(per_day.values())
    report.partner_sites = len(report.by_site)
    first = report.start - timedelta(days=report.start.weekday())
    weeks = {}
    for day, minutes in per_day.items():
        monday = day - timedelta(days=day.weekday())
        weeks[monday] = weeks.get(monday, 0) + minutes
    report.weeks = [(first + timedelta(weeks=i), weeks.get(first + timedelta(weeks=i), 0))
                    for i in range((report.end - first).days // 7 + 1)]


class _no_index(FunctionElement):
    """A column as a value SQLite's planner cannot use an index for (its documented unary +); unchanged elsewhere."""

    inherit_cache = True

    def __init__(self, column):
        super().__init__(column)
        self.type = column.type


@compiles(_no_index)
def _compile_no_index(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_no_index, "sqlite")
def _compile_no_index_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.clauses, **kw)
