"""Who may receive a course's certificate: the one place the dashboard, admin pages and issuing ask.

Rules come from `certificate:` in course.md: required assignments passed, approved practice hours,
and a minimum number of different kinds of practice activity.
"""
from dataclasses import dataclass, field

from sqlalchemy import distinct, func, select

from lms.curriculum.models import Assignment
from lms.extensions import db
from lms.grading.models import Submission
from lms.grading.services import counted_attempt
from lms.learning.models import Cohort
from lms.practice.models import PracticeTraineeTotal


@dataclass
class Requirement:
    kind: str  # "assignment", "hours" or "activity_types"
    label: str  # assignment title; empty for the others
    done: bool
    have: float = 0
    need: float = 0


@dataclass
class Eligibility:
    trainee_id: int
    approved_hours: float = 0
    requirements: list = field(default_factory=list)

    @property
    def eligible(self):
        return all(r.done for r in self.requirements)

    @property
    def missing(self):
        return [r for r in self.requirements if not r.done]


def compute_eligibility(course, trainee_ids):
    """{trainee id: Eligibility} for course, in four queries however many trainees."""
    keys = (course.certificate or {}).get("required_assignments", [])
    trainee_ids = list(trainee_ids)
    assignments = db.session.scalars(select(Assignment).where(
        Assignment.course_id == course.id, Assignment.key.in_(keys))).all() if keys else []
    by_key = {a.key: a for a in assignments}
    attempts = db.session.scalars(select(Submission).where(
        Submission.assignment_id.in_([a.id for a in assignments]), Submission.trainee_id.in_(trainee_ids),
        Submission.status != "draft").order_by(Submission.attempt)).all() if assignments and trainee_ids else []
    practice = approved_practice(course, trainee_ids) if trainee_ids else {}

    grouped = {}
    for attempt in attempts:
        grouped.setdefault((attempt.trainee_id, attempt.assignment_id), []).append(attempt)
    return {trainee_id: eligibility_from(course, trainee_id, by_key, grouped, practice.get(trainee_id, (0, 0)))
            for trainee_id in trainee_ids}


def approved_practice(course, trainee_ids):
    """{trainee id: (approved minutes, kinds of activity)} in the course's cohorts, in one query, from the totals
    kept as entries are approved: a few rows a trainee rather than every entry."""
    totals = PracticeTraineeTotal
    return {trainee_id: (minutes, kinds) for trainee_id, minutes, kinds in db.session.execute(
        select(totals.trainee_id, func.sum(totals.minutes), func.count(distinct(totals.activity_type)))
        .where(totals.cohort_id.in_(select(Cohort.id).where(Cohort.course_id == course.id)),
               totals.trainee_id.in_(trainee_ids))
        .group_by(totals.trainee_id))}


def practice_by_activity(course, trainee_id):
    """{kind of activity: approved minutes} of the trainee in the course's cohorts, for the certificate."""
    totals = PracticeTraineeTotal
    return dict(db.session.execute(
        select(totals.activity_type, func.sum(totals.minutes))
        .where(totals.cohort_id.in_(select(Cohort.id).where(Cohort.course_id == course.id)),
               totals.trainee_id == trainee_id)
        .group_by(totals.activity_type).order_by(totals.activity_type)).all())


def eligibility_from(course, trainee_id, by_key, grouped, practice):
    """The certificate rules applied to what is already loaded: by_key {assignment key: Assignment}, grouped
    {(trainee id, assignment id): attempts oldest first}, practice (approved minutes, kinds of activity)."""
    rules = course.certificate or {}
    need_hours, need_kinds = rules.get("practice_hours", 0), rules.get("min_activity_types", 0)
    minutes, kinds = practice
    hours = round((minutes or 0) / 60, 1)
    item = Eligibility(trainee_id, approved_hours=hours)
    for key in rules.get("required_assignments", []):
        assignment = by_key.get(key)
        counted = counted_attempt(assignment, grouped.get((trainee_id, assignment.id), [])) if assignment else None
        item.requirements.append(Requirement("assignment", assignment.title if assignment else key,
                                             counted is not None and counted.status == "passed"))
    if need_hours:
        item.requirements.append(Requirement("hours", "", hours >= need_hours, hours, need_hours))
    if need_kinds:
        item.requirements.append(Requirement("activity_types", "", kinds >= need_kinds, kinds, need_kinds))
    return item


def eligibility_of(trainee, course):
    return compute_eligibility(course, [trainee.id])[trainee.id]
