"""A cohort's progress at a glance: trainees × modules read, assignments, approved practice, eligibility.

A fixed number of queries whatever the cohort size (300 trainees × 60 modules is the target).
"""
from dataclasses import dataclass, field

from sqlalchemy import select

from lms.auth.models import User
from lms.certificates.eligibility import compute_eligibility
from lms.certificates.models import Certificate
from lms.curriculum.models import Assignment, Module
from lms.extensions import db
from lms.grading.models import Submission
from lms.grading.services import counted_attempt
from lms.learning.models import Enrolment, ModuleProgress


@dataclass
class MatrixRow:
    trainee: User
    done: set = field(default_factory=set)
    attempts: dict = field(default_factory=dict)  # assignment id -> attempt that counts
    eligibility: object = None
    certificate: object = None

    @property
    def passed(self):
        return sum(1 for a in self.attempts.values() if a is not None and a.status == "passed")


@dataclass
class Matrix:
    modules: list
    assignments: list
    rows: list


SORTS = {
    "name": lambda row: row.trainee.name,
    "modules": lambda row: (-len(row.done), row.trainee.name),
    "assignments": lambda row: (-row.passed, row.trainee.name),
    "hours": lambda row: (-row.eligibility.approved_hours, row.trainee.name),
    "eligible": lambda row: (not row.eligibility.eligible, row.trainee.name),
}


def cohort_matrix(cohort, sort="name", trainee_ids=None):
    course = cohort.course
    query = select(User).join(Enrolment).where(Enrolment.cohort_id == cohort.id)
    if trainee_ids is not None:
        query = query.where(User.id.in_(trainee_ids))
    trainees = db.session.scalars(query).all()
    ids = [t.id for t in trainees]
    modules = db.session.scalars(select(Module).where(Module.course_id == course.id)
                                 .order_by(Module.position)).all()
    assignments = db.session.scalars(select(Assignment).join(Module).where(
        Assignment.course_id == course.id, Assignment.retired.is_(False))
        .order_by(Module.position, Assignment.position)).all()
    rows = {t.id: MatrixRow(t) for t in trainees}
    if ids:
        for trainee_id, module_id in db.session.execute(
                select(ModuleProgress.trainee_id, ModuleProgress.module_id).join(Module).where(
                    ModuleProgress.trainee_id.in_(ids), Module.course_id == course.id)):
            rows[trainee_id].done.add(module_id)
        grouped = {}
        for attempt in db.session.scalars(select(Submission).where(
                Submission.trainee_id.in_(ids), Submission.assignment_id.in_([a.id for a in assignments]),
                Submission.status != "draft").order_by(Submission.attempt)):
            grouped.setdefault((attempt.trainee_id, attempt.assignment_id), []).append(attempt)
        for row in rows.values():
            row.attempts = {a.id: counted_attempt(a, grouped.get((row.trainee.id, a.id), [])) for a in assignments}
        for certificate in db.session.scalars(select(Certificate).where(
                Certificate.trainee_id.in_(ids), Certificate.course_id == course.id,
                Certificate.revoked_at.is_(None))):
            rows[certificate.trainee_id].certificate = certificate
    eligibility = compute_eligibility(course, ids)
    for row in rows.values():
        row.eligibility = eligibility[row.trainee.id]
    ordered = sorted(rows.values(), key=SORTS.get(sort, SORTS["name"]))
    return Matrix(modules=modules, assignments=assignments, rows=ordered)
