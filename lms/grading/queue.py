"""The mentor's grading queue: what waits for their decision, oldest first, with keyset paging.

Every function runs a fixed number of queries, however many submissions wait.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from lms.auth.models import User
from lms.curriculum.models import Assignment, Course, Module
from lms.extensions import db
from lms.grading.models import Submission
from lms.learning.models import Cohort, CohortMentor, Enrolment

PAGE_SIZE = 25
FILTER_COLUMNS = {
    "cohort": Cohort.id,
    "course": Assignment.course_id,
    "module": Assignment.module_id,
    "assignment": Assignment.id,
    "kind": Assignment.kind,
}


def _waiting(mentor, *columns):
    """Submitted attempts of trainees in cohorts this mentor works with, for the cohort's course."""
    return (select(*columns).select_from(Submission)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .join(Enrolment, Enrolment.trainee_id == Submission.trainee_id)
            .join(Cohort, and_(Cohort.id == Enrolment.cohort_id, Cohort.course_id == Assignment.course_id))
            .join(CohortMentor, and_(CohortMentor.cohort_id == Cohort.id, CohortMentor.mentor_id == mentor.id))
            .where(Submission.status == "submitted"))


def _filtered(query, filters):
    for name, value in filters.items():
        if value not in (None, ""):
            query = query.where(FILTER_COLUMNS[name] == value)
    return query


def parse_filters(args):
    """Filters from the query string; unknown or malformed values are ignored."""
    filters = {}
    for name in FILTER_COLUMNS:
        value = args.get(name, "")
        if name == "kind":
            if value in ("text", "file"):
                filters[name] = value
        elif value.isdigit():
            filters[name] = int(value)
    return filters


@dataclass
class FilterOption:
    value: object
    label: str
    count: int


def filter_options(mentor):
    """For each filter, its values with the number of waiting items: one grouped query."""
    rows = db.session.execute(
        _waiting(mentor, Cohort.id, Cohort.name, Course.id, Course.title, Module.id, Module.position,
                 Module.title, Assignment.id, Assignment.title, Assignment.kind, func.count())
        .join(Module, Module.id == Assignment.module_id).join(Course, Course.id == Assignment.course_id)
        .group_by(Cohort.id, Cohort.name, Course.id, Course.title, Module.id, Module.position, Module.title,
                  Assignment.id, Assignment.title, Assignment.kind)).all()
    options = {name: {} for name in FILTER_COLUMNS}
    for (cohort_id, cohort, course_id, course, module_id, position, module, assignment_id, assignment, kind,
         count) in rows:
        for name, value, label, order in (("cohort", cohort_id, cohort, cohort),
                                          ("course", course_id, course, course),
                                          ("module", module_id, module, (course, position)),
                                          ("assignment", assignment_id, assignment, (course, position, assignment)),
                                          ("kind", kind, kind, kind)):
            option = options[name].setdefault(value, [FilterOption(value, label, 0), order])
            option[0].count += count
    return {name: [o for o, _order in sorted(values.values(), key=lambda pair: pair[1])]
            for name, values in options.items()}


def count_waiting(mentor, filters):
    return db.session.scalar(_filtered(_waiting(mentor, func.count()), filters))


@dataclass
class QueueItem:
    id: int
    submitted_at: datetime
    attempt: int
    trainee: str
    assignment: str
    kind: str
    module: str
    course: str
    cohort: str


def queue_page(mentor, filters, after=None, exclude=None, limit=PAGE_SIZE):
    """(items, cursor of the next page or None). `after` is a cursor from a previous page."""
    query = _filtered(_waiting(mentor, Submission.id, Submission.submitted_at, Submission.attempt, User.name,
                               Assignment.title, Assignment.kind, Module.title, Course.title, Cohort.name)
                      .join(User, User.id == Submission.trainee_id)
                      .join(Module, Module.id == Assignment.module_id)
                      .join(Course, Course.id == Assignment.course_id), filters)
    position = parse_cursor(after)
    if position:
        at, last_id = position
        query = query.where(or_(Submission.submitted_at > at,
                                and_(Submission.submitted_at == at, Submission.id > last_id)))
    if exclude is not None:
        query = query.where(Submission.id != exclude)
    rows = db.session.execute(query.order_by(Submission.submitted_at, Submission.id).limit(limit + 1)).all()
    items = [QueueItem(*row) for row in rows[:limit]]
    cursor = make_cursor(items[-1]) if len(rows) > limit else None
    return items, cursor


def make_cursor(item):
    return f"{item.submitted_at.isoformat()}_{item.id}"


def parse_cursor(value):
    try:
        at, _sep, last_id = (value or "").rpartition("_")
        return datetime.fromisoformat(at), int(last_id)
    except ValueError:
        return None
