"""Who may receive a course's certificate: the one place the dashboard, admin pages and issuing ask.

Rules come from `certificate:` in course.md: required assignments passed, approved practice hours,
a minimum number of different kinds of practice activity, a share of the cohort's sessions attended, and a final
placement evaluation of at least a level.
"""
from dataclasses import dataclass, field

from sqlalchemy import and_, case, distinct, func, select

from lms.clock import utcnow
from lms.curriculum.models import Assignment
from lms.extensions import db
from lms.grading.models import Submission
from lms.grading.services import counted_attempt
from lms.learning.models import Cohort, Enrolment
from lms.placements.models import Placement, PlacementEvaluation
from lms.practice.models import PracticeTraineeTotal
from lms.schedule.models import Attendance, CohortSession


@dataclass
class Requirement:
    kind: str  # "assignment", "hours", "activity_types", "attendance" or "placement_evaluation"
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
    attendance = attendance_counts(course, trainee_ids)
    evaluations = final_evaluation_levels(course, trainee_ids)

    grouped = {}
    for attempt in attempts:
        grouped.setdefault((attempt.trainee_id, attempt.assignment_id), []).append(attempt)
    return {trainee_id: eligibility_from(course, trainee_id, by_key, grouped, practice.get(trainee_id, (0, 0)),
                                         attendance.get(trainee_id), evaluations.get(trainee_id))
            for trainee_id in trainee_ids}


def final_evaluation_levels(course, trainee_ids):
    """{trainee id: the best level of a final placement evaluation in the course's cohorts}, in one query, when the
    course asks for one (`certificate.placement_evaluation`)."""
    if not (course.certificate or {}).get("placement_evaluation") or not trainee_ids:
        return {}
    return dict(db.session.execute(
        select(Placement.trainee_id, func.max(PlacementEvaluation.level))
        .join(PlacementEvaluation, PlacementEvaluation.placement_id == Placement.id)
        .where(PlacementEvaluation.kind == "final", PlacementEvaluation.submitted_at.is_not(None),
               Placement.cohort_id.in_(select(Cohort.id).where(Cohort.course_id == course.id)),
               Placement.trainee_id.in_(trainee_ids))
        .group_by(Placement.trainee_id)).all())


def attendance_counts(course, trainee_ids):
    """{trainee id: (sessions attended, sessions that count)} when the course asks for attendance, in one query.

    A session counts once it has begun and unless it was cancelled; an excused absence takes that session out of
    the trainee's count (it neither helps nor hurts), as courses/README.md says of `certificate.attendance`."""
    if not (course.certificate or {}).get("attendance") or not trainee_ids:
        return {}
    held = (select(CohortSession.cohort_id, func.count().label("n"))
            .where(CohortSession.cancelled_at.is_(None), CohortSession.starts_at <= utcnow())
            .group_by(CohortSession.cohort_id).subquery())
    marked = (select(Attendance.trainee_id, CohortSession.cohort_id,
                     func.sum(case((Attendance.status.in_(("present", "late")), 1), else_=0)).label("attended"),
                     func.sum(case((Attendance.status == "excused", 1), else_=0)).label("excused"))
              .join(CohortSession, CohortSession.id == Attendance.session_id)
              .where(CohortSession.cancelled_at.is_(None), CohortSession.starts_at <= utcnow())
              .group_by(Attendance.trainee_id, CohortSession.cohort_id).subquery())
    rows = db.session.execute(
        select(Enrolment.trainee_id, func.coalesce(held.c.n, 0), func.coalesce(marked.c.attended, 0),
               func.coalesce(marked.c.excused, 0))
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .outerjoin(held, held.c.cohort_id == Cohort.id)
        .outerjoin(marked, and_(marked.c.trainee_id == Enrolment.trainee_id, marked.c.cohort_id == Cohort.id))
        .where(Cohort.course_id == course.id, Enrolment.trainee_id.in_(trainee_ids)))
    return {trainee_id: (int(attended), int(total) - int(excused)) for trainee_id, total, attended, excused in rows}


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


def eligibility_from(course, trainee_id, by_key, grouped, practice, attendance=None, evaluation_level=None):
    """The certificate rules applied to what is already loaded: by_key {assignment key: Assignment}, grouped
    {(trainee id, assignment id): attempts oldest first}, practice (approved minutes, kinds of activity),
    attendance (sessions attended, sessions that count) and the final evaluation's level when the course asks."""
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
    need_share = rules.get("attendance")
    if need_share:
        attended, counted = attendance or (0, 0)
        share = attended / counted if counted else 1.0
        item.requirements.append(Requirement("attendance", "", share >= need_share, round(share * 100),
                                             round(need_share * 100)))
    need_level = rules.get("placement_evaluation")
    if need_level:
        item.requirements.append(Requirement("placement_evaluation", "", (evaluation_level or 0) >= need_level,
                                             evaluation_level or 0, need_level))
    return item


def eligibility_of(trainee, course):
    return compute_eligibility(course, [trainee.id])[trainee.id]
