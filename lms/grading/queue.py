"""The mentor's queue: submitted assignments and practice-log entries of their trainees, oldest first.

Keyset paging over both kinds at once; every function runs a fixed number of queries, however many
items wait.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, literal, null, or_, select, union_all

from lms.auth.models import User
from lms.curriculum.models import Assignment, Course, Module
from lms.extensions import db
from lms.grading.models import Submission
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
        elif value.isdigit():
            filters[name] = int(value)
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


def filter_options(mentor):
    """For each filter, its values with the number of waiting items: two grouped queries."""
    rows = db.session.execute(
        _submissions(mentor, {}, Cohort.id, Cohort.name, Course.id, Course.title, Module.id, Module.position,
                     Module.title, Assignment.id, Assignment.title, Assignment.kind, func.count())
        .join(Module, Module.id == Assignment.module_id).join(Course, Course.id == Assignment.course_id)
        .group_by(Cohort.id, Cohort.name, Course.id, Course.title, Module.id, Module.position, Module.title,
                  Assignment.id, Assignment.title, Assignment.kind)).all()
    practice = db.session.execute(
        _entries(mentor, {}, Cohort.id, Cohort.name, Course.id, Course.title, func.count())
        .join(Course, Course.id == Cohort.course_id)
        .group_by(Cohort.id, Cohort.name, Course.id, Course.title)).all()
    options = {name: {} for name in FILTERS}

    def add(name, value, label, order, count):
        option = options[name].setdefault(value, [FilterOption(value, label, 0), order])
        option[0].count += count

    for cohort_id, cohort, course_id, course, module_id, position, module, assignment_id, title, kind, count in rows:
        add("cohort", cohort_id, cohort, cohort, count)
        add("course", course_id, course, course, count)
        add("module", module_id, module, (course, position), count)
        add("assignment", assignment_id, title, (course, position, title), count)
        add("kind", kind, kind, KINDS.index(kind), count)
    for cohort_id, cohort, course_id, course, count in practice:
        add("cohort", cohort_id, cohort, cohort, count)
        add("course", course_id, course, course, count)
        add("kind", "practice", "practice", KINDS.index("practice"), count)
    return {name: [o for o, _order in sorted(values.values(), key=lambda pair: pair[1])]
            for name, values in options.items()}


def count_waiting(mentor, filters):
    parts = []
    if _wants(filters, "submission"):
        parts.append(_submissions(mentor, filters, Submission.id))
    if _wants(filters, "practice"):
        parts.append(_entries(mentor, filters, PracticeEntry.id))
    if not parts:
        return 0
    return db.session.scalar(select(func.count()).select_from(union_all(*parts).subquery()))


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


def queue_page(mentor, filters, after=None, exclude=None, limit=PAGE_SIZE):
    """(items, cursor of the next page or None). `after` is a cursor from a previous page;
    `exclude` is a (source, id) pair to leave out."""
    parts = []
    if _wants(filters, "submission"):
        parts.append(_submissions(
            mentor, filters, literal("submission").label("source"), Submission.id.label("id"),
            Submission.submitted_at.label("submitted_at"), Submission.attempt.label("attempt"),
            User.name.label("trainee"), Assignment.title.label("title"), Assignment.kind.label("kind"),
            Module.title.label("place"), Course.title.label("course"), Cohort.name.label("cohort"))
            .join(User, User.id == Submission.trainee_id).join(Module, Module.id == Assignment.module_id)
            .join(Course, Course.id == Assignment.course_id))
    if _wants(filters, "practice"):
        parts.append(_entries(
            mentor, filters, literal("practice").label("source"), PracticeEntry.id.label("id"),
            PracticeEntry.submitted_at.label("submitted_at"), null().label("attempt"), User.name.label("trainee"),
            PracticeEntry.activity_type.label("title"), literal("practice").label("kind"),
            PracticeSite.name.label("place"), Course.title.label("course"), Cohort.name.label("cohort"))
            .join(User, User.id == PracticeEntry.trainee_id)
            .join(PracticeSite, PracticeSite.id == PracticeEntry.site_id)
            .join(Course, Course.id == Cohort.course_id))
    if not parts:
        return [], None
    waiting = union_all(*parts).subquery()
    query = select(waiting)
    position = parse_cursor(after)
    if position:
        at, source, last_id = position
        query = query.where(or_(waiting.c.submitted_at > at, and_(waiting.c.submitted_at == at, or_(
            waiting.c.source > source, and_(waiting.c.source == source, waiting.c.id > last_id)))))
    if exclude is not None:
        query = query.where(or_(waiting.c.source != exclude[0], waiting.c.id != exclude[1]))
    rows = db.session.execute(query.order_by(waiting.c.submitted_at, waiting.c.source, waiting.c.id)
                              .limit(limit + 1)).all()
    items = [QueueItem(*row) for row in rows[:limit]]
    cursor = make_cursor(items[-1]) if len(rows) > limit else None
    return items, cursor


def make_cursor(item):
    return f"{item.submitted_at.isoformat()}_{item.source}_{item.id}"


def parse_cursor(value):
    try:
        at, source, last_id = (value or "").split("_")
        if source not in ("submission", "practice"):
            return None
        return datetime.fromisoformat(at), source, int(last_id)
    except ValueError:
        return None
