"""When each piece of work is due: the module's default (`due_week` after the cohort starts), an administrator's
date for the cohort, a mentor's extension for one trainee; and whether work handed in is late or closed."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select

from lms.clock import utc_from_local
from lms.curriculum.models import Assignment
from lms.extensions import db
from lms.learning.services import trainee_cohort
from lms.schedule.models import AssignmentDeadline, DeadlineExtension

END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class Deadline:
    due_at: datetime | None  # naive UTC; None: no due date
    cutoff_at: datetime | None = None
    extended: bool = False

    def is_late(self, moment):
        return self.due_at is not None and moment > self.due_at

    def is_closed(self, moment):
        return self.cutoff_at is not None and moment > self.cutoff_at


def end_of_local_day(day):
    return utc_from_local(day, END_OF_DAY)


def default_due_at(cohort, assignment):
    return default_due_on(cohort.starts_on, assignment.spec)


def default_due_on(starts_on, spec):
    """The last moment of the due week (`due_week` in the assignment's spec), counted from the cohort's first day
    (week 1 is its first seven days)."""
    return due_week_end(starts_on, (spec or {}).get("due_week"))


def due_week_column():
    """The assignment's `due_week` read in SQL: lists of due dates need nothing else of the spec, which holds the
    questions and the rubric and took a third of the start page to decode for 60 assignments."""
    return Assignment.spec["due_week"].as_integer()


def due_week_end(starts_on, week):
    if not week or starts_on is None:
        return None
    return end_of_local_day(starts_on + timedelta(days=7 * week - 1))


def cohort_deadlines(cohort, assignments):
    """{assignment id: Deadline} for the cohort, in one query."""
    overrides = {row.assignment_id: row for row in db.session.scalars(select(AssignmentDeadline).where(
        AssignmentDeadline.cohort_id == cohort.id,
        AssignmentDeadline.assignment_id.in_([a.id for a in assignments])))}
    result = {}
    for assignment in assignments:
        override = overrides.get(assignment.id)
        due = override.due_at if override and override.due_at else default_due_at(cohort, assignment)
        result[assignment.id] = Deadline(due, override.cutoff_at if override else None)
    return result


def deadline_for(trainee_id, assignment, cohort=None):
    """The trainee's deadline for the assignment: the cohort's, moved by an extension if they have one."""
    cohort = cohort or trainee_cohort(trainee_id, assignment.course_id)
    if cohort is None:
        return Deadline(None)
    deadline = cohort_deadlines(cohort, [assignment])[assignment.id]
    extension = db.session.get(DeadlineExtension, (trainee_id, assignment.id))
    if extension is not None:
        return Deadline(extension.due_at, deadline.cutoff_at and max(deadline.cutoff_at, extension.due_at), True)
    return deadline
