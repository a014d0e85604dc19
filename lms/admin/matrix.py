"""A cohort's progress at a glance: trainees × modules read, assignments, approved practice, eligibility.

Four queries whatever the cohort size (300 trainees × 60 modules is the target): trainees with their
certificates, modules with their assignments, modules read and attempts sent together, approved practice.
"""
from dataclasses import dataclass, field

from sqlalchemy import func, literal, null, select, union_all
from sqlalchemy.orm import lazyload, load_only

from lms.auth.models import User
from lms.certificates.eligibility import (
    approved_practice,
    attendance_counts,
    eligibility_from,
    final_evaluation_levels,
)
from lms.certificates.models import Certificate
from lms.curriculum.models import Assignment, Module
from lms.discussions.models import DiscussionPost, DiscussionThread
from lms.extensions import db
from lms.grading.models import Submission
from lms.grading.services import counted_attempt
from lms.learning.models import Enrolment, ModuleProgress
from lms.schedule.models import Attendance, CohortSession


@dataclass
class Attempt:
    """What the matrix shows of an attempt, and what counted_attempt needs to choose one."""

    attempt: int
    status: str
    score: int = None
    late: bool = False
    submission_id: int = None
    submitted_at: object = None


@dataclass
class MatrixRow:
    trainee: User
    done: set = field(default_factory=set)
    attempts: dict = field(default_factory=dict)  # assignment id -> attempt that counts, if any was sent
    eligibility: object = None
    certificate: object = None  # the valid certificate of the cohort's course
    certificates: list = field(default_factory=list)  # every certificate of the trainee, newest first
    # The table's cells in column order: module read or not, attempt that counts or None.
    read: list = field(default_factory=list)
    cells: list = field(default_factory=list)
    history: dict = field(default_factory=dict)  # assignment id -> every attempt sent, in order
    attendance: dict = field(default_factory=dict)  # session id -> present / late / absent / excused
    posts: int = 0  # on the cohort's discussion board, threads started and replies

    @property
    def attendance_share(self):
        """Per cent of the sessions the trainee was marked for that they attended, excused ones left out; None
        before any mark."""
        counted = sum(1 for s in self.attendance.values() if s != "excused")
        attended = sum(1 for s in self.attendance.values() if s in ("present", "late"))
        return round(100 * attended / counted) if counted else None

    @property
    def passed(self):
        return sum(1 for a in self.attempts.values() if a is not None and a.status == "passed")


@dataclass
class Matrix:
    modules: list
    assignments: list
    rows: list

    @property
    def assignment_labels(self):
        """Short column headings: "3.2" is the second assignment of module 3."""
        position = {m.id: m.position for m in self.modules}
        labels, counts = [], {}
        for a in self.assignments:
            counts[a.module_id] = counts.get(a.module_id, 0) + 1
            labels.append(f"{position.get(a.module_id, '?')}.{counts[a.module_id]}")
        return labels


SORTS = {
    "name": lambda row: row.trainee.name,
    "modules": lambda row: (-len(row.done), row.trainee.name),
    "assignments": lambda row: (-row.passed, row.trainee.name),
    "hours": lambda row: (-row.eligibility.approved_hours, row.trainee.name),
    "eligible": lambda row: (not row.eligibility.eligible, row.trainee.name),
}


def cohort_matrix(cohort, sort="name", trainee_ids=None, practice=None):
    """The matrix of cohort, or of the listed trainees of it. `practice` ({trainee id: (approved minutes,
    kinds of activity)} in the course) saves its query when the caller has the figures already."""
    course = cohort.course
    members = select(Enrolment.trainee_id).where(Enrolment.cohort_id == cohort.id)
    if trainee_ids is not None:
        members = members.where(Enrolment.trainee_id.in_(trainee_ids))
    rows = {}
    for trainee, certificate in db.session.execute(
            select(User, Certificate).outerjoin(Certificate, Certificate.trainee_id == User.id)
            .where(User.id.in_(members)).options(lazyload(User.role_rows))
            .order_by(User.id, Certificate.issued_at.desc())):
        row = rows.setdefault(trainee.id, MatrixRow(trainee))
        if certificate is not None:
            row.certificates.append(certificate)
            if certificate.course_id == course.id and certificate.revoked_at is None:
                row.certificate = certificate
    modules, every_assignment = [], []
    for module, assignment in db.session.execute(
            select(Module, Assignment).outerjoin(Assignment, Assignment.module_id == Module.id)
            .options(load_only(Module.id, Module.course_id, Module.position, Module.title, Module.slug))
            .where(Module.course_id == course.id).order_by(Module.position, Assignment.position)):
        if not modules or modules[-1] is not module:
            modules.append(module)
        if assignment is not None:
            every_assignment.append(assignment)
    # Retired assignments are not shown, but a required one still counts for the certificate.
    assignments = [a for a in every_assignment if not a.retired]

    grouped = {}  # (trainee id, assignment id) -> attempts sent, in order
    if rows:
        # Attempts, modules read and attendance in one round trip: an attempt has a status, a module read has
        # none, an attendance mark has attempt -1 and the session as its item.
        for trainee_id, item, attempt, status, score, late, submission_id, submitted_at in db.session.execute(
                union_all(
                select(Submission.trainee_id, Submission.assignment_id, Submission.attempt, Submission.status,
                       Submission.score, Submission.late, Submission.id, Submission.submitted_at).where(
                    Submission.trainee_id.in_(members), Submission.status != "draft",
                    Submission.assignment_id.in_(select(Assignment.id).where(Assignment.course_id == course.id))),
                select(ModuleProgress.trainee_id, ModuleProgress.module_id, literal(0), null(), null(), literal(False),
                       null(), null())
                .join(Module, Module.id == ModuleProgress.module_id)
                .where(ModuleProgress.trainee_id.in_(members), Module.course_id == course.id),
                select(Attendance.trainee_id, Attendance.session_id, literal(-1), Attendance.status, null(),
                       literal(False), null(), null())
                .join(CohortSession, CohortSession.id == Attendance.session_id)
                .where(Attendance.trainee_id.in_(members), CohortSession.cohort_id == cohort.id,
                       CohortSession.cancelled_at.is_(None)),
                select(DiscussionPost.author_id, func.count(), literal(-2), null(), null(), literal(False), null(),
                       null())
                .join(DiscussionThread, DiscussionThread.id == DiscussionPost.thread_id)
                .where(DiscussionPost.author_id.in_(members), DiscussionThread.cohort_id == cohort.id,
                       DiscussionPost.deleted_at.is_(None))
                .group_by(DiscussionPost.author_id))).all():
            if attempt == -2:
                rows[trainee_id].posts = item
            elif attempt == -1:
                rows[trainee_id].attendance[item] = status
            elif status is None:
                rows[trainee_id].done.add(item)
            else:
                grouped.setdefault((trainee_id, item), []).append(Attempt(attempt, status, score, bool(late),
                                                                              submission_id, submitted_at))
        for attempts in grouped.values():
            attempts.sort(key=lambda a: a.attempt)  # counted_attempt wants them in order
        if practice is None:
            practice = approved_practice(course, members)
    # 300 trainees × 60 modules and 60 assignments make 36,000 cells: the loops below visit only the attempts
    # there are, and the template only walks lists.
    shown = {a.id: a for a in assignments}
    by_key = {a.key: a for a in every_assignment}
    for (trainee_id, assignment_id), attempts in grouped.items():
        if assignment_id in shown:
            rows[trainee_id].attempts[assignment_id] = counted_attempt(shown[assignment_id], attempts)
            rows[trainee_id].history[assignment_id] = attempts
    module_ids = [m.id for m in modules]
    attendance = attendance_counts(course, list(rows))  # a query only when the course asks for attendance
    evaluations = final_evaluation_levels(course, list(rows))  # and one when it asks for a final evaluation
    for row in rows.values():
        row.read = [m in row.done for m in module_ids]
        row.cells = [row.attempts.get(a) for a in shown]
        row.eligibility = eligibility_from(course, row.trainee.id, by_key, grouped,
                                           (practice or {}).get(row.trainee.id, (0, 0)),
                                           attendance.get(row.trainee.id), evaluations.get(row.trainee.id))
    ordered = sorted(rows.values(), key=SORTS.get(sort, SORTS["name"]))
    return Matrix(modules=modules, assignments=assignments, rows=ordered)
