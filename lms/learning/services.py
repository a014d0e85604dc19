"""Cohorts, enrolments and reading progress."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, load_only

from lms.audit import record_event
from lms.auth.models import User
from lms.curriculum.models import Course, Module
from lms.extensions import db
from lms.inputs import too_long
from lms.learning.models import Cohort, CohortMentor, Enrolment, ModuleProgress
from lms.practice.models import PracticeTraineeTotal


class LearningError(ValueError):
    """A request that cannot be carried out; the message says why."""


def check_cohort_fields(name, starts_on, ends_on):
    """The cohort's name, trimmed; LearningError when the name or the dates cannot be kept."""
    name = (name or "").strip()
    if not name:
        raise LearningError(_l("A cohort needs a name."))
    if too_long(name, Cohort.name):
        raise LearningError(_l("The name is too long (at most %(n)d characters).", n=Cohort.name.type.length))
    if starts_on and ends_on and ends_on < starts_on:
        raise LearningError(_l("A cohort cannot end before it starts."))
    return name


def create_cohort(course, name, actor=None, starts_on=None, ends_on=None):
    name = check_cohort_fields(name, starts_on, ends_on)
    cohort = Cohort(course=course, name=name, starts_on=starts_on, ends_on=ends_on)
    db.session.add(cohort)
    db.session.flush()
    record_event(actor, "cohort.create", cohort, name=name, course=course.slug)
    return cohort


def enrol_trainee(cohort, trainee, actor=None):
    if not trainee.is_trainee:
        raise LearningError(_l("%(email)s is not a trainee.", email=trainee.email))
    enrolment = db.session.scalar(select(Enrolment).filter_by(cohort_id=cohort.id, trainee_id=trainee.id))
    if enrolment is None:
        other = db.session.scalar(select(Cohort.name).join(Enrolment).where(
            Enrolment.trainee_id == trainee.id, Cohort.course_id == cohort.course_id))
        if other is not None:
            # One cohort per course: mentors, progress and reports all follow from it.
            raise LearningError(_l("%(email)s is already in cohort “%(cohort)s” of this course.", email=trainee.email,
                                   cohort=other))
        enrolment = Enrolment(cohort=cohort, trainee=trainee)
        db.session.add(enrolment)
        db.session.flush()
        record_event(actor, "cohort.enrol", cohort, trainee_id=trainee.id)
    return enrolment


def assign_mentor(cohort, mentor, actor=None):
    if not mentor.is_mentor:
        raise LearningError(_l("%(email)s is not a mentor.", email=mentor.email))
    link = db.session.get(CohortMentor, (cohort.id, mentor.id))
    if link is None:
        db.session.add(CohortMentor(cohort_id=cohort.id, mentor_id=mentor.id))
        db.session.flush()
        record_event(actor, "cohort.assign_mentor", cohort, mentor_id=mentor.id)


def trainee_cohort(trainee_id, course_id):
    """The trainee's cohort in the course (one per course), or None."""
    return db.session.scalar(select(Cohort).join(Enrolment).where(
        Enrolment.trainee_id == trainee_id, Cohort.course_id == course_id))


def mentors_of(trainee_id, course_id):
    """The mentors of the trainee's cohort in the course: who is told that the trainee's work waits."""
    return db.session.scalars(select(User).join(CohortMentor, CohortMentor.mentor_id == User.id)
                              .join(Cohort, Cohort.id == CohortMentor.cohort_id)
                              .join(Enrolment, Enrolment.cohort_id == Cohort.id)
                              .where(Cohort.course_id == course_id, Enrolment.trainee_id == trainee_id,
                                     User.active.is_(True))).all()


def mark_module_done(trainee, module):
    exists = db.session.scalar(select(ModuleProgress).filter_by(trainee_id=trainee.id, module_id=module.id))
    if exists is None:
        db.session.add(ModuleProgress(trainee_id=trainee.id, module_id=module.id))
        db.session.flush()


def mark_module_not_done(trainee, module):
    db.session.execute(db.delete(ModuleProgress).filter_by(trainee_id=trainee.id, module_id=module.id))


@dataclass
class CourseProgress:
    course: Course
    done: int
    total: int
    next_slug: str | None = None  # the first module not marked done: where to continue
    next_title: str | None = None
    approved_minutes: int = 0
    cohort_id: int | None = None

    @property
    def practice_hours_missing(self):
        """Approved practice hours the certificate still asks for (0 when none are missing)."""
        need = (self.course.certificate or {}).get("practice_hours", 0)
        return max(0, round(need - self.approved_minutes / 60, 1))

    @property
    def percent(self):
        return round(100 * self.done / self.total) if self.total else 0


def courses_of_trainee(trainee):
    """The courses the trainee is enrolled in, with reading progress; one query whatever the size."""
    enrolled = select(Cohort.course_id).join(Enrolment).where(Enrolment.trainee_id == trainee.id)
    total = select(func.count()).where(Module.course_id == Course.id).scalar_subquery()
    done = (select(func.count()).select_from(ModuleProgress).join(Module, Module.id == ModuleProgress.module_id)
            .where(Module.course_id == Course.id, ModuleProgress.trainee_id == trainee.id).scalar_subquery())
    read = select(ModuleProgress.module_id).where(ModuleProgress.trainee_id == trainee.id)
    next_slug = (select(Module.slug).where(Module.course_id == Course.id, Module.id.not_in(read))
                 .order_by(Module.position).limit(1).scalar_subquery())
    next_title = (select(Module.title).where(Module.course_id == Course.id, Module.id.not_in(read))
                  .order_by(Module.position).limit(1).scalar_subquery())
    approved = (select(func.coalesce(func.sum(PracticeTraineeTotal.minutes), 0))
                .join(Cohort, Cohort.id == PracticeTraineeTotal.cohort_id)
                .where(PracticeTraineeTotal.trainee_id == trainee.id, Cohort.course_id == Course.id)
                .scalar_subquery())
    cohort_id = (select(Enrolment.cohort_id).join(Cohort, Cohort.id == Enrolment.cohort_id)
                 .where(Enrolment.trainee_id == trainee.id, Cohort.course_id == Course.id).limit(1).scalar_subquery())
    rows = db.session.execute(select(Course, done, total, next_slug, next_title, approved, cohort_id)
                              .options(load_only(Course.id, Course.slug, Course.title, Course.certificate))
                              .where(Course.id.in_(enrolled)).order_by(Course.title)).all()
    return [CourseProgress(*row) for row in rows]


def done_module_ids(trainee, course):
    return set(db.session.scalars(
        select(ModuleProgress.module_id).join(Module, Module.id == ModuleProgress.module_id)
        .where(ModuleProgress.trainee_id == trainee.id, Module.course_id == course.id)))


def cohorts_of_mentor(mentor):
    """(cohort, course title, trainee count) for each cohort the mentor works with."""
    trainees = (select(Enrolment.cohort_id, func.count().label("n")).group_by(Enrolment.cohort_id)
                .subquery())
    return db.session.execute(
        select(Cohort, Course.title, func.coalesce(trainees.c.n, 0))
        .join(Course, Course.id == Cohort.course_id).options(joinedload(Cohort.course).load_only(Course.slug))
        .join(CohortMentor, CohortMentor.cohort_id == Cohort.id)
        .outerjoin(trainees, trainees.c.cohort_id == Cohort.id)
        .where(CohortMentor.mentor_id == mentor.id).order_by(Cohort.name)).all()


def all_courses_with_counts():
    """(course, module count) for every course, for staff dashboards."""
    modules = select(Module.course_id, func.count().label("n")).group_by(Module.course_id).subquery()
    return db.session.execute(
        select(Course, func.coalesce(modules.c.n, 0)).outerjoin(modules, modules.c.course_id == Course.id)
        .order_by(Course.title)).all()
