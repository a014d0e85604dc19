"""People talking: comments on a piece of work, a cohort's announcements and its discussion board."""
from lms.clock import utcnow
from lms.extensions import db


class WorkComment(db.Model):
    """A comment in the thread beside one submission or one practice entry, between the trainee and staff."""

    __tablename__ = "work_comments"
    __table_args__ = (
        db.CheckConstraint("(submission_id IS NULL) <> (entry_id IS NULL)", name="one_piece_of_work"),
        db.Index("ix_work_comments_submission", "submission_id", "id"),
        db.Index("ix_work_comments_entry", "entry_id", "id"),
    )

    id = db.Column(db.Integer, primary_key=True)
    submission_id = db.Column(db.Integer, db.ForeignKey("submissions.id", ondelete="CASCADE"))
    entry_id = db.Column(db.Integer, db.ForeignKey("practice_entries.id", ondelete="CASCADE"))
    author_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    body_markdown = db.Column(db.Text, nullable=False)
    body_html = db.Column(db.Text, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    edited_at = db.Column(db.DateTime)

    author = db.relationship("User")


class Announcement(db.Model):
    __tablename__ = "announcements"
    __table_args__ = (db.Index("ix_announcements_cohort_created", "cohort_id", "created_at"),)

    id = db.Column(db.Integer, primary_key=True)
    cohort_id = db.Column(db.Integer, db.ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    title = db.Column(db.String(200), nullable=False)
    body_markdown = db.Column(db.Text, nullable=False)
    body_html = db.Column(db.Text, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    author = db.relationship("User")
    cohort = db.relationship("Cohort")


class AnnouncementRead(db.Model):
    __tablename__ = "announcement_reads"

    announcement_id = db.Column(db.Integer, db.ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    read_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class DiscussionThread(db.Model):
    __tablename__ = "discussion_threads"
    __table_args__ = (db.Index("ix_discussion_threads_board", "cohort_id", "pinned", "last_post_at"),)

    id = db.Column(db.Integer, primary_key=True)
    cohort_id = db.Column(db.Integer, db.ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    title = db.Column(db.String(200), nullable=False)
    module_id = db.Column(db.Integer, db.ForeignKey("modules.id", ondelete="SET NULL"))
    pinned = db.Column(db.Boolean, nullable=False, default=False)
    locked = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_post_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    replies = db.Column(db.Integer, nullable=False, default=0)  # posts after the first, kept as they are made

    author = db.relationship("User")
    module = db.relationship("Module")
    cohort = db.relationship("Cohort")


class DiscussionPost(db.Model):
    __tablename__ = "discussion_posts"
    __table_args__ = (db.Index("ix_discussion_posts_thread", "thread_id", "id"),)

    id = db.Column(db.Integer, primary_key=True)
    thread_id = db.Column(db.Integer, db.ForeignKey("discussion_threads.id", ondelete="CASCADE"), nullable=False)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    body_markdown = db.Column(db.Text, nullable=False)
    body_html = db.Column(db.Text, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    edited_at = db.Column(db.DateTime)
    deleted_at = db.Column(db.DateTime)
    hidden_at = db.Column(db.DateTime)
    hidden_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    hidden_reason = db.Column(db.String(500))

    author = db.relationship("User", foreign_keys=[author_id])
