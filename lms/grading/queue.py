"""The mentor's queue: submitted assignments and practice-log entries of their trainees, oldest first.

Keyset paging over both kinds at once; every function runs a fixed number of queries, however many
items wait.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, case, cast, func, literal, null, or_, select, union_all

from lms.auth.models import User
from lms.clock import local_today, utc_from_local
from lms.curriculum.models import Assignment, Course, Module
from lms.extensions import db
from lms.grading.models import Submission
from lms.inputs import parse_whole_number, whole_number
from lms.learning.models import Cohort, CohortMentor, Enrolment
from lms.practice.models import PracticeEntry, PracticeSite

PAGE_SIZE = 25
FILTERS = ("cohort", "course", "module", "assignment", "kind")
KINDS = ("text", "file", "practice")


def parse_filters(args):
    """Filters from the query string; unknown or malformed values are ignored."""
    filters = {}
    for name in FILTERS:
        value = args.get(name, "")
        if name == "kind":
            if value in KINDS:
                filters[name] = value
        elif (number := parse_whole_number(value)) is not None and number > 0:
            filters[name] = number
    return filters


def _submissions(mentor, filters, *columns):
    """Submitted attempts of trainees in cohorts this mentor works with, for the cohort's course."""
    query = (select(*columns).select_from(Submission)
             .join(Assignment, Assignment.id == Submission.assignment_id)
             .join(Enrolment, Enrolment.trainee_id == Submission.trainee_id)
             .join(Cohort, and_(Cohort.id == Enrolment.cohort_id, Cohort.course_id == Assignment.course_id))
             .join(CohortMentor, and_(CohortMentor.cohort_id == Cohort.id, CohortMentor.mentor_id == mentor.id))
             .where(Submission.status == "submitted"))
    for name, column in (("cohort", Cohort.id), ("course", Assignment.course_id), ("module", Assignment.module_id),
                         ("assignment", Assignment.id)):
        if name in filters:
            query = query.where(column == filters[name])
    if filters.get("kind") in ("text", "file"):
        query = query.where(Assignment.kind == filters["kind"])
    return query


def _entries(mentor, filters, *columns):
    """Submitted practice-log entries of this mentor's cohorts."""
    query = (select(*columns).select_from(PracticeEntry)
             .join(Cohort, Cohort.id == PracticeEntry.cohort_id)
             .join(CohortMentor, and_(CohortMentor.cohort_id == Cohort.id, CohortMentor.mentor_id == mentor.id))
             .where(PracticeEntry.status == "submitted"))
    if "cohort" in filters:
        query = query.where(Cohort.id == filters["cohort"])
    if "course" in filters:
        query = query.where(Cohort.course_id == filters["course"])
    return query


def _wants(filters, source):
    """Whether the filters can match items of source ('submission' or 'practice')."""
    kind = filters.get("kind")
    if source == "practice":
        return kind in (None, "practice") and "module" not in filters and "assignment" not in filters
    return kind != "practice"


@dataclass
class FilterOption:
    value: object
    label: str
    count: int


@dataclass
class WaitingGroup:
    """Items waiting for a mentor, counted per cohort and assignment (or per cohort, for practice entries)."""
    cohort_id: int
    cohort: str
    course_id: int
    course: str
    module_id: int | None
    position: int | None
    module: str | None
    assignment_id: int | None
    title: str | None
    kind: str
    count: int

    def matches(self, filters):
        return all(getattr(self, "kind" if name == "kind" else f"{name}_id") == value
                   for name, value in filters.items())


def waiting_groups(mentor):
    """Everything waiting for the mentor in two grouped queries; the filters and the total are counted from
    these groups, so the queue page needs no further pass over the waiting items."""
    counted = (_submissions(mentor, {}, Cohort.id.label("cohort_id"), Assignment.id.label("assignment_id"),
                            func.count().label("count"))
               .group_by(Cohort.id, Assignment.id).subquery())  # grouping on ids alone halves the query's time
    rows = db.session.execute(
        select(Cohort.id, Cohort.name, Course.id, Course.title, Module.id, Module.position, Module.title,
               Assignment.id, Assignment.title, Assignment.kind, counted.c.count).select_from(counted)
        .join(Cohort, Cohort.id == counted.c.cohort_id).join(Assignment, Assignment.id == counted.c.assignment_id)
        .join(Module, Module.id == Assignment.module_id).join(Course, Course.id == Assignment.course_id)).all()
    practice = db.session.execute(
        _entries(mentor, {}, Cohort.id, Cohort.name, Course.id, Course.title, func.count())
        .join(Course, Course.id == Cohort.course_id)
        .group_by(Cohort.id, Cohort.name, Course.id, Course.title)).all()
    return ([WaitingGroup(*row) for row in rows] +
            [WaitingGroup(cohort_id, cohort, course_id, course, None, None, None, None, None, "practice", count)
             for cohort_id, cohort, course_id, course, count in practice])


def filter_options(groups):
    """For each filter, its values with the number of waiting items."""
    options = {name: {} for name in FILTERS}

    def add(name, value, label, order, count):
        option = options[name].setdefault(value, [FilterOption(value, label, 0), order])
        option[0].count += count

    for g in groups:
        add("cohort", g.cohort_id, g.cohort, g.cohort, g.count)
        add("course", g.course_id, g.course, g.course, g.count)
        if g.kind != "practice":
            add("module", g.module_id, g.module, (g.course, g.position), g.count)
            add("assignment", g.assignment_id, g.title, (g.course, g.position, g.title), g.count)
        add("kind", g.kind, g.kind, KINDS.index(g.kind), g.count)
    return {name: [o for o, _order in sorted(values.values(), key=lambda pair: pair[1])]
            for name, values in options.items()}


def count_waiting(groups, filters):
    return sum(g.count for g in groups if g.matches(filters))


@dataclass
class QueueItem:
    source: str  # "submission" or "practice"
    id: int
    submitted_at: datetime
    attempt: int | None
    trainee: str
    title: str  # assignment title, or the activity type code of a practice entry
    kind: str  # text / file / practice
    place: str  # module title, or the practice site
    course: str
    cohort: str
    late: bool = False  # handed in after its due date


def queue_page(mentor, filters, after=None, exclude=None, limit=PAGE_SIZE):
    """(items, cursor of the next page or None). `after` is a cursor from a previous page;
    `exclude` is a (source, id) pair to leave out."""
    parts = []
    if _wants(filters, "submission"):
        parts.append((Submission, "submission", _submission_rows, _submissions(
            mentor, filters, Submission.id.label("id"), Submission.submitted_at.label("submitted_at"),
            Cohort.id.label("cohort_id"))))
    if _wants(filters, "practice"):
        parts.append((PracticeEntry, "practice", _entry_rows, _entries(
            mentor, filters, PracticeEntry.id.label("id"), PracticeEntry.submitted_at.label("submitted_at"))))
    if not parts:
        return [], None
    position = parse_cursor(after)
    # Each kind is paged on its own before the two are merged, so a page costs the same however deep it is.
    # Only the keys are paged; what the page shows is joined to the page's rows afterwards: planning both kinds
    # with everything joined (eight and six tables) took PostgreSQL 55 ms at dataset L, this 7 ms.
    branches = []
    for table, source, rows_of, query in parts:
        if position:
            at, after_source, last_id = position
            if source > after_source:
                query = query.where(table.submitted_at >= at)
            elif source == after_source:
                query = query.where(or_(table.submitted_at > at, and_(table.submitted_at == at, table.id > last_id)))
            else:
                query = query.where(table.submitted_at > at)
        if exclude is not None and exclude[0] == source:
            query = query.where(table.id != exclude[1])
        branches.append(rows_of(query.order_by(table.submitted_at, table.id).limit(limit + 1).subquery()))
    waiting = union_all(*branches).subquery()
    rows = db.session.execute(select(waiting).order_by(waiting.c.submitted_at, waiting.c.source, waiting.c.id)
                              .limit(limit + 1)).all()
    items = [QueueItem(*row) for row in rows[:limit]]
    cursor = make_cursor(items[-1]) if len(rows) > limit else None
    return items, cursor


def _submission_rows(keys):
    """Queue rows of the paged submissions `keys` (id, submitted_at, cohort_id)."""
    return (select(literal("submission").label("source"), keys.c.id, keys.c.submitted_at,
                   Submission.attempt.label("attempt"), User.name.label("trainee"), Assignment.title.label("title"),
                   Assignment.kind.label("kind"), Module.title.label("place"), Course.title.label("course"),
                   Cohort.name.label("cohort"), Submission.late.label("late"))
            .select_from(keys).join(Submission, Submission.id == keys.c.id)
            .join(User, User.id == Submission.trainee_id).join(Assignment, Assignment.id == Submission.assignment_id)
            .join(Module, Module.id == Assignment.module_id).join(Course, Course.id == Assignment.course_id)
            .join(Cohort, Cohort.id == keys.c.cohort_id))


def _entry_rows(keys):
    """Queue rows of the paged practice entries `keys` (id, submitted_at)."""
    return (select(literal("practice").label("source"), keys.c.id, keys.c.submitted_at,
                   cast(null(), Integer).label("attempt"), User.name.label("trainee"),
                   PracticeEntry.activity_type.label("title"), literal("practice").label("kind"),
                   PracticeSite.name.label("place"), Course.title.label("course"), Cohort.name.label("cohort"),
                   literal(False).label("late"))
            .select_from(keys).join(PracticeEntry, PracticeEntry.id == keys.c.id)
            .join(User, User.id == PracticeEntry.trainee_id)
            .join(PracticeSite, PracticeSite.id == PracticeEntry.site_id)
            .join(Cohort, Cohort.id == PracticeEntry.cohort_id).join(Course, Course.id == Cohort.course_id))


def make_cursor(item):
    return f"{item.submitted_at.isoformat()}_{item.source}_{item.id}"


def parse_cursor(value):
    try:
        at, source, last_id = (value or "").split("_")
        if source not in ("submission", "practice"):
            return None
        at, last_id = datetime.fromisoformat(at), whole_number(last_id)
    except ValueError:
        return None
    return (at, source, last_id) if at.tzinfo is None else None


AGES = ("today", "recent", "older")  # handed in today, 1-3 days ago, earlier (programme-local days)


def waiting_by_age(mentor):
    """{"answers"|"practice": {age: count}} of what waits for the mentor, for the start page: one query."""
    today = local_today()
    since_today, since_recent = utc_from_local(today), utc_from_local(today - timedelta(days=3))

    def by_age(label, query, column):
        bucket = case((column >= since_today, "today"), (column >= since_recent, "recent"), else_="older").label("age")
        return query(mentor, {}, literal(label).label("kind"), bucket, func.count()).group_by(bucket)

    counts = {"answers": dict.fromkeys(AGES, 0), "practice": dict.fromkeys(AGES, 0)}
    waiting = union_all(by_age("answers", _submissions, Submission.submitted_at),
                        by_age("practice", _entries, PracticeEntry.submitted_at))
    for label, name, count in db.session.execute(waiting):
        counts[label][name] = count
    return counts
