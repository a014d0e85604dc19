from lms.clock import utcnow
from lms.extensions import db


class Cohort(db.Model):
    """A group of trainees going through one course together, with their mentors."""

    __tablename__ = "cohorts"

    id = db.Column(db.Integer, primary_key=True)
    course_id = db.Column(db.Integer, db.ForeignKey("courses.id"), nullable=False, index=True)
    name = db.Column(db.String(200), nullable=False)
    starts_on = db.Column(db.Date)
    ends_on = db.Column(db.Date)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    course = db.relationship("Course")
    mentors = db.relationship("User", secondary="cohort_mentors", order_by="User.name")


class CohortMentor(db.Model):
    __tablename__ = "cohort_mentors"

    cohort_id = db.Column(db.Integer, db.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True)
    mentor_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                          index=True)


class Enrolment(db.Model):
    __tablename__ = "enrolments"
    __table_args__ = (db.UniqueConstraint("trainee_id", "cohort_id"),)

    id = db.Column(db.Integer, primary_key=True)
    trainee_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    cohort_id = db.Column(db.Integer, db.ForeignKey("cohorts.id"), nullable=False, index=True)
    enrolled_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    trainee = db.relationship("User")
    cohort = db.relationship("Cohort")


class ModuleProgress(db.Model):
    """A trainee marked a module as read. One row per trainee and module; no row means not done."""

    __tablename__ = "module_progress"
    __table_args__ = (db.UniqueConstraint("trainee_id", "module_id"),)

    id = db.Column(db.Integer, primary_key=True)
    trainee_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    module_id = db.Column(db.Integer, db.ForeignKey("modules.id", ondelete="CASCADE"), nullable=False,
                          index=True)
    completed_at = db.Column(db.DateTime, nullable=False, default=utcnow)
