"""Audit log: who did what to which object. Services call record_event; nothing edits or deletes rows."""
from lms.clock import utcnow
from lms.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id = db.Column(db.Integer, primary_key=True)
    at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action = db.Column(db.String(60), nullable=False, index=True)
    object_type = db.Column(db.String(40), nullable=False)
    object_id = db.Column(db.String(40))
    details = db.Column(db.JSON, nullable=False, default=dict)

    actor = db.relationship("User")


def record_event(actor, action, obj, **details):
    """Log an action on a model object (or on a (type, id) pair for things that are not rows)."""
    if isinstance(obj, tuple):
        object_type, object_id = obj
    else:
        object_type, object_id = obj.__tablename__, obj.id
    event = AuditEvent(actor_id=actor.id if actor else None, action=action, object_type=object_type,
                       object_id=None if object_id is None else str(object_id), details=details)
    db.session.add(event)
    return event
