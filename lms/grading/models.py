from lms.clock import utcnow
from lms.extensions import db
from lms.uploads import StoredFile

# draft: saved by the trainee, not yet sent · submitted: waits for a mentor · returned: sent back for
# revision (the trainee answers with a new attempt) · passed / failed: graded.
STATUSES = ("draft", "submitted", "returned", "passed", "failed")
GRADED = ("returned", "passed", "failed")


class Submission(db.Model):
    """One attempt of a trainee at an assignment; every attempt and its feedback stays in the history."""

    __tablename__ = "submissions"
    __table_args__ = (
        db.UniqueConstraint("assignment_id", "trainee_id", "attempt"),
        db.Index("ix_submissions_status_submitted_at", "status", "submitted_at", "id"),
        # Covering: a cohort's matrix and the mentor's queue read its trainees' attempts from the index alone.
        # PostgreSQL scanned the whole table for them (40 ms at dataset L) rather than look up each trainee in an
        # index of trainee_id; the queue's page, without submitted_at here, read 6,000 rows of the table (3.3 ms).
        db.Index("ix_submissions_trainee_status", "trainee_id", "status", "assignment_id", "attempt", "score",
                 "late", "submitted_at", "id"),
    )

    id = db.Column(db.Integer, primary_key=True)
    assignment_id = db.Column(db.Integer, db.ForeignKey("assignments.id"), nullable=False, index=True)
    trainee_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    attempt = db.Column(db.Integer, nullable=False, default=1)
    status = db.Column(db.String(20), nullable=False, default="draft")
    answer_markdown = db.Column(db.Text, nullable=False, default="")
    answer_html = db.Column(db.Text, nullable=False, default="")
    # Quiz attempts: {"question id": ["chosen option", ...]} and per-question correctness.
    quiz_answers = db.Column(db.JSON)
    quiz_results = db.Column(db.JSON)
    rubric_scores = db.Column(db.JSON)
    score = db.Column(db.Integer)
    feedback_markdown = db.Column(db.Text, nullable=False, default="")
    feedback_html = db.Column(db.Text, nullable=False, default="")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    submitted_at = db.Column(db.DateTime)
    late = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())  # after its due date
    graded_at = db.Column(db.DateTime)
    graded_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    # When the trainee opened the graded attempt; unseen grades are listed on their dashboard.
    feedback_seen_at = db.Column(db.DateTime)
    # When a mentor first opened the handed-in attempt; until then the trainee may withdraw it to correct it.
    review_opened_at = db.Column(db.DateTime)
    # Optimistic locking: two mentors saving the same attempt cannot overwrite each other silently.
    version = db.Column(db.Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    assignment = db.relationship("Assignment")
    trainee = db.relationship("User", foreign_keys=[trainee_id])
    graded_by = db.relationship("User", foreign_keys=[graded_by_id])
    files = db.relationship("SubmissionFile", back_populates="submission", order_by="SubmissionFile.id",
                            cascade="all, delete-orphan")

    @property
    def is_graded(self):
        return self.status in GRADED


class SubmissionFile(StoredFile, db.Model):
    """An uploaded file, kept in the database so that any app host can serve it."""

    __tablename__ = "submission_files"

    id = db.Column(db.Integer, primary_key=True)
    submission_id = db.Column(db.Integer, db.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False,
                              index=True)

    submission = db.relationship("Submission", back_populates="files")
