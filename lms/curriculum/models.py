from sqlalchemy.orm import deferred

from lms.clock import utcnow
from lms.extensions import db


class Course(db.Model):
    __tablename__ = "courses"

    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String(80), nullable=False, unique=True)
    title = db.Column(db.String(200), nullable=False)
    language = db.Column(db.String(10), nullable=False)
    overview_html = db.Column(db.Text, nullable=False, default="")
    # Certificate requirements exactly as course.md states them; the certificates area interprets them.
    certificate = db.Column(db.JSON, nullable=False, default=dict)
    # The cohort plan of course.md (sessions by week), from which a cohort's schedule can be made.
    session_plan = db.Column(db.JSON, nullable=False, default=list)
    # The mentors' guide (mentors-guide.md): anchor answers and the double-marking routine; staff only.
    staff_guide_title = db.Column(db.String(200), nullable=False, default="")
    staff_guide_html = deferred(db.Column(db.Text, nullable=False, default=""))
    staff_guide_toc_html = deferred(db.Column(db.Text, nullable=False, default=""))
    source_hash = db.Column(db.String(64), nullable=False)
    synced_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    modules = db.relationship("Module", back_populates="course", order_by="Module.position",
                              cascade="all, delete-orphan")


class Module(db.Model):
    __tablename__ = "modules"
    __table_args__ = (db.UniqueConstraint("course_id", "slug"),)

    id = db.Column(db.Integer, primary_key=True)
    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False)
    slug = db.Column(db.String(80), nullable=False)
    position = db.Column(db.Integer, nullable=False)
    title = db.Column(db.String(200), nullable=False)
    outcomes = db.Column(db.JSON, nullable=False, default=list)
    estimated_minutes = db.Column(db.Integer, nullable=False)
    body_html = db.Column(db.Text, nullable=False, default="")
    toc_html = db.Column(db.Text, nullable=False, default="")
    # Field-practice tasks as loaded (title, activity types, audiences, hours, description_html).
    practice = db.Column(db.JSON, nullable=False, default=list)
    # Documents offered for download from the course's files/ folder: name, title, format, size.
    files = db.Column(db.JSON, nullable=False, default=list)
    source_path = db.Column(db.String(300), nullable=False)
    source_hash = db.Column(db.String(64), nullable=False)

    course = db.relationship("Course", back_populates="modules")
    assignments = db.relationship("Assignment", back_populates="module", order_by="Assignment.position",
                                  cascade="all, delete-orphan")


class Assignment(db.Model):
    __tablename__ = "assignments"
    __table_args__ = (db.UniqueConstraint("course_id", "key"),)

    id = db.Column(db.Integer, primary_key=True)
    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False)
    module_id = db.Column(db.Integer, db.ForeignKey("modules.id", ondelete="CASCADE"), nullable=False,
                          index=True)
    # The stable `id` from the curriculum: submissions stay attached to it across edits.
    key = db.Column(db.String(80), nullable=False)
    position = db.Column(db.Integer, nullable=False)
    title = db.Column(db.String(200), nullable=False)
    kind = db.Column(db.String(10), nullable=False)
    prompt_html = db.Column(db.Text, nullable=False, default="")
    # rubric / questions / pass_score / attempts / counts, as validated by the loader.
    spec = db.Column(db.JSON, nullable=False, default=dict)
    retired = db.Column(db.Boolean, nullable=False, default=False)

    course = db.relationship("Course")
    module = db.relationship("Module", back_populates="assignments")
