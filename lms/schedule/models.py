"""The cohort's time: its sessions and who attended, and the deadlines of its work."""
from lms.clock import utcnow
from lms.extensions import db

ATTENDANCE = ("present", "late", "absent", "excused")


class CohortSession(db.Model):
    """A meeting of the cohort: a seminar at the pilot centre, a supervision, a case club, an excursion."""

    __tablename__ = "cohort_sessions"
    __table_args__ = (db.Index("ix_cohort_sessions_cohort_starts", "cohort_id", "starts_at"),)

    id = db.Column(db.Integer, primary_key=True)
    cohort_id = db.Column(db.Integer, db.ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(db.String(20), nullable=False)
    title = db.Column(db.String(200), nullable=False)
    starts_at = db.Column(db.DateTime, nullable=False)  # naive UTC, like every DateTime column
    ends_at = db.Column(db.DateTime, nullable=False)
    site_id = db.Column(db.Integer, db.ForeignKey("practice_sites.id", ondelete="SET NULL"))
    place = db.Column(db.String(300), nullable=False, default="")
    online_url = db.Column(db.String(500), nullable=False, default="")
    module_id = db.Column(db.Integer, db.ForeignKey("modules.id", ondelete="SET NULL"))
    note = db.Column(db.Text, nullable=False, default="")
    series = db.Column(db.String(32))  # sessions made together as a weekly or fortnightly series
    cancelled_at = db.Column(db.DateTime)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    cohort = db.relationship("Cohort")
    site = db.relationship("PracticeSite")
    module = db.relationship("Module")


class Attendance(db.Model):
    __tablename__ = "attendance"

    session_id = db.Column(db.Integer, db.ForeignKey("cohort_sessions.id", ondelete="CASCADE"), primary_key=True)
    trainee_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                           index=True)
    status = db.Column(db.String(10), nullable=False)
    marked_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    marked_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class AssignmentDeadline(db.Model):
    """An administrator's due date (and optional cut-off) of an assignment for one cohort, in place of the
    default the module's front matter gives (`due_week`)."""

    __tablename__ = "assignment_deadlines"

    cohort_id = db.Column(db.Integer, db.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True)
    assignment_id = db.Column(db.Integer, db.ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True)
    due_at = db.Column(db.DateTime)
    cutoff_at = db.Column(db.DateTime)


class DeadlineExtension(db.Model):
    """A later due date a mentor gave one trainee, with the reason (audited)."""

    __tablename__ = "deadline_extensions"

    trainee_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    assignment_id = db.Column(db.Integer, db.ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True)
    due_at = db.Column(db.DateTime, nullable=False)
    reason = db.Column(db.Text, nullable=False)
    granted_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    granted_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class ReminderSent(db.Model):
    """A reminder already made (of a deadline or a session, to one person), so that none is made twice, even by
    two senders at once: the key is the primary key."""

    __tablename__ = "reminders_sent"

    key = db.Column(db.String(120), primary_key=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
