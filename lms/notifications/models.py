"""Notifications (the bell), each person's e-mail choices, and the outbox of e-mail to send."""
from lms.clock import utcnow
from lms.extensions import db


class Notification(db.Model):
    """Something that happened to someone. The text is made when shown, in the reader's language, from kind
    and params; email_due_at says when it is to be e-mailed (None: in the app only)."""

    __tablename__ = "notifications"
    __table_args__ = (
        db.Index("ix_notifications_user_created", "user_id", "created_at"),
        db.Index("ix_notifications_email_due", "email_due_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(db.String(40), nullable=False)
    params = db.Column(db.JSON, nullable=False, default=dict)
    url = db.Column(db.String(500), nullable=False)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    read_at = db.Column(db.DateTime)
    email_due_at = db.Column(db.DateTime)
    email_id = db.Column(db.Integer, db.ForeignKey("outgoing_emails.id", ondelete="SET NULL"))

    actor = db.relationship("User", foreign_keys=[actor_id])


class NotificationSetting(db.Model):
    """A person's choice for one group of kinds; without a row, the default for their roles applies."""

    __tablename__ = "notification_settings"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    group = db.Column(db.String(20), primary_key=True)
    mode = db.Column(db.String(10), nullable=False)  # now, digest, off


class OutgoingEmail(db.Model):
    """One message in the outbox. `send-notifications` claims it with a lease (status `sending` until
    lease_until), sends it, and marks it sent in a transaction of its own."""

    __tablename__ = "outgoing_emails"
    __table_args__ = (db.Index("ix_outgoing_emails_due", "status", "next_attempt_at"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    to_address = db.Column(db.String(254), nullable=False)
    subject = db.Column(db.String(300), nullable=False)
    text_body = db.Column(db.Text, nullable=False)
    html_body = db.Column(db.Text)
    headers = db.Column(db.JSON, nullable=False, default=dict)
    status = db.Column(db.String(10), nullable=False, default="pending")  # pending, sending, sent, failed, dropped
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    lease_until = db.Column(db.DateTime)
    last_error = db.Column(db.Text)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    sent_at = db.Column(db.DateTime)
