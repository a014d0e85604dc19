from lms.clock import utcnow
from lms.extensions import db


class Submission(db.Model):
    """A trainee's attempt at an assignment. The grading workflow builds on this row."""

    __tablename__ = "submissions"

    id = db.Column(db.Integer, primary_key=True)
    assignment_id = db.Column(db.Integer, db.ForeignKey("assignments.id"), nullable=False, index=True)
    trainee_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    status = db.Column(db.String(20), nullable=False, default="draft")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    assignment = db.relationship("Assignment")
