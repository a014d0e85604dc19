"""The mentor's queue: submitted assignments and practice-log entries of their trainees, oldest first.

Keyset paging over both kinds at once; every function runs a fixed number of queries, however many
items wait. Each statement is built once per shape (which filters, which side of a cursor) with the values as
bound parameters: building them anew took longer than running them (4 of 8 ms for a page at dataset L).
Constants are written into the SQL (`_constant`), so that PostgreSQL plans a statement once per connection: with
them as parameters it planned the page afresh on every request (7.5 ms at dataset L, 2.8 ms planned once).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Integer, and_, bindparam, case, cast, func, literal, null, or_, select, union_all

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


def _constant(value):
    """A value written into the SQL rather than sent as a parameter (see above)."""
    return literal(value, literal_execute=True)


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


def _submissions(filters, *columns):
    """Submitted attempts of trainees in cohorts the mentor (parameter mentor_id) works with, for the cohort's
    course; `filters` names the filters in use, each its own parameter."""
    query = (select(*columns).select_from(Submission)
             .join(Assignment, Assignment.id == Submission.assignment_id)
             .join(Enrolment, Enrolment.trainee_id == Submission.trainee_id)
             .join(Cohort, and_(Cohort.id == Enrolment.cohort_id, Cohort.course_id == Assignment.course_id))
             .join(CohortMentor, and_(CohortMentor.cohort_id == Cohort.id,
                                      CohortMentor.mentor_id == bindparam("mentor_id")))
             .where(Submission.status == _constant("submitted")))
    for name, column in (("cohort", Cohort.id), ("course", Assignment.course_id), ("module", Assignment.module_id),
                         ("assignment", Assignment.id), ("kind", Assignment.kind)):
        if name in filters:
            query = query.where(column == bindparam(name))
    return query


def _entries(filters, *columns):
    """Submitted practice-log entries of the mentor's (parameter mentor_id) cohorts."""
    query = (select(*columns).select_from(PracticeEntry)
             .join(Cohort, Cohort.id == PracticeEntry.cohort_id)
             .join(CohortMentor, and_(CohortMentor.cohort_id == Cohort.id,
                                      CohortMentor.mentor_id == bindparam("mentor_id")))
             .where(PracticeEntry.status == _constant("submitted")))
    for name, column in (("cohort", Cohort.id), ("course", Cohort.course_id)):
        if name in filters:
            query = query.where(column == bindparam(name))
    return query


def _wants(filters, kind, source):
    """Whether filters of these names (and this kind, or None) can match items of source ('submission' or
    'practice')."""
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
    answers, practice = _waiting_groups_statements()
    rows = db.session.execute(answers, {"mentor_id": mentor.id}).all()
    entries = db.session.execute(practice, {"mentor_id": mentor.id}).all()
    return ([WaitingGroup(*row) for row in rows] +
            [WaitingGroup(cohort_id, cohort, course_id, course, None, None, None, None, None, "practice", count)
             for cohort_id, cohort, course_id, course, count in entries if count])


@cache
def _waiting_groups_statements():
    counted = (_submissions((), Cohort.id.label("cohort_id"), Assignment.id.label("assignment_id"),
                            func.count().label("count"))
               .group_by(Cohort.id, Assignment.id).subquery())  # grouping on ids alone halves the query's time
    answers = (select(Cohort.id, Cohort.name, Course.id, Course.title, Module.id, Module.position, Module.title,
                      Assignment.id, Assignment.title, Assignment.kind, counted.c.count).select_from(counted)
               .join(Cohort, Cohort.id == counted.c.cohort_id)
               .join(Assignment, Assignment.id == counted.c.assignment_id)
               .join(Module, Module.id == Assignment.module_id).join(Course, Course.id == Assignment.course_id))
    # Counted per cohort in a subquery: SQLite grouped the entries five times slower than it counts them.
    waiting = (select(func.count()).select_from(PracticeEntry)
               .where(PracticeEntry.cohort_id == Cohort.id, PracticeEntry.status == _constant("submitted"))
               .scalar_subquery())
    practice = (select(Cohort.id, Cohort.name, Course.id, Course.title, waiting).select_from(CohortMentor)
                .join(Cohort, Cohort.id == CohortMentor.cohort_id).join(Course, Course.id == Cohort.course_id)
                .where(CohortMentor.mentor_id == bindparam("mentor_id")))
    return answers, practice


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
    position = parse_cursor(after)
    statement = _page_statement(tuple(sorted(filters)), filters.get("kind"), position and position[1],
                                exclude and exclude[0], limit)
    if statement is None:
        return [], None
    values = {"mentor_id": mentor.id, **filters}
    if position:
        values.update(at=position[0], last_id=position[2])
    if exclude is not None:
        values["excluded"] = exclude[1]
    rows = db.session.execute(statement, values).all()
    items = [QueueItem(*row) for row in rows[:limit]]
    cursor = make_cursor(items[-1]) if len(rows) > limit else None
    return items, cursor


@cache
def _page_statement(filters, kind, after_source, excluded_source, limit):
    """The page's statement for filters of these names, a cursor after an item of `after_source` (parameters at,
    last_id) and an item of `excluded_source` left out (parameter excluded); None when no item can match."""
    parts = []
    if _wants(filters, kind, "submission"):
        parts.append((Submission, "submission", _submission_rows, _submissions(
            filters, Submission.id.label("id"), Submission.submitted_at.label("submitted_at"),
            Submission.trainee_id.label("trainee_id"), Submission.attempt.label("attempt"),
            Submission.late.label("late"), Assignment.title.label("title"), Assignment.kind.label("kind"),
            Assignment.module_id.label("module_id"), Assignment.course_id.label("course_id"),
            Cohort.name.label("cohort"))))
    if _wants(filters, kind, "practice"):
        parts.append((PracticeEntry, "practice", _entry_rows, _entries(
            filters, PracticeEntry.id.label("id"), PracticeEntry.submitted_at.label("submitted_at"),
            Cohort.name.label("cohort"), Cohort.course_id.label("course_id"))))
    if not parts:
        return None
    # Each kind is paged on its own before the two are merged, so a page costs the same however deep it is.
    # The paging reads what the tables it already joins hold (the submission's columns from the covering index);
    # what the page shows besides is joined to the page's rows afterwards. Planning both kinds with everything
    # joined (eight and six tables) took PostgreSQL 55 ms at dataset L; joining the paged keys to six and five
    # tables, 4.7 ms of planning; to three and four, as here, 3.5 ms, once per connection (see `_constant`).
    at, last_id = bindparam("at"), bindparam("last_id")
    branches = []
    for table, source, rows_of, query in parts:
        if after_source is not None:
            if source > after_source:
                query = query.where(table.submitted_at >= at)
            elif source == after_source:
                query = query.where(or_(table.submitted_at > at, and_(table.submitted_at == at, table.id > last_id)))
            else:
                query = query.where(table.submitted_at > at)
        if excluded_source == source:
            query = query.where(table.id != bindparam("excluded"))
        branches.append(rows_of(query.order_by(table.submitted_at, table.id).limit(_constant(limit + 1)).subquery()))
    waiting = union_all(*branches).subquery()
    return select(waiting).order_by(waiting.c.submitted_at, waiting.c.source, waiting.c.id).limit(_constant(limit + 1))


def _submission_rows(keys):
    """Queue rows of the paged submissions `keys`."""
    return (select(_constant("submission").label("source"), keys.c.id, keys.c.submitted_at, keys.c.attempt,
                   User.name.label("trainee"), keys.c.title, keys.c.kind, Module.title.label("place"),
                   Course.title.label("course"), keys.c.cohort, keys.c.late)
            .select_from(keys).join(User, User.id == keys.c.trainee_id)
            .join(Module, Module.id == keys.c.module_id).join(Course, Course.id == keys.c.course_id))


def _entry_rows(keys):
    """Queue rows of the paged practice entries `keys`."""
    return (select(_constant("practice").label("source"), keys.c.id, keys.c.submitted_at,
                   cast(null(), Integer).label("attempt"), User.name.label("trainee"),
                   PracticeEntry.activity_type.label("title"), _constant("practice").label("kind"),
                   PracticeSite.name.label("place"), Course.title.label("course"), keys.c.cohort,
                   _constant(False).label("late"))
            .select_from(keys).join(PracticeEntry, PracticeEntry.id == keys.c.id)
            .join(User, User.id == PracticeEntry.trainee_id)
            .join(PracticeSite, PracticeSite.id == PracticeEntry.site_id)
            .join(Course, Course.id == keys.c.course_id))


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
    counts = {"answers": dict.fromkeys(AGES, 0), "practice": dict.fromkeys(AGES, 0)}
    values = {"mentor_id": mentor.id, "since_today": utc_from_local(today),
              "since_recent": utc_from_local(today - timedelta(days=3))}
    for label, name, count in db.session.execute(_waiting_by_age_statement(), values):
        counts[label][name] = count
    return counts


@cache
def _waiting_by_age_statement():
    def by_age(label, query, column):
        bucket = case((column >= bindparam("since_today"), _constant("today")),
                      (column >= bindparam("since_recent"), _constant("recent")), else_=_constant("older")).label("age")
        return query((), _constant(label).label("kind"), bucket, func.count()).group_by(bucket)

    return union_all(by_age("answers", _submissions, Submission.submitted_at),
                     by_age("practice", _entries, PracticeEntry.submitted_at))
