"""Telling people what happened: the one call every area uses (`notify`), reading and settings, the outbox.

Like the audit log, this sits below the areas: they import it, it imports none of them. Everything here adds and
flushes in the caller's transaction, so a change that rolls back leaves no notification and no e-mail, and one
that commits leaves exactly one of each.
"""
from datetime import UTC, time, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update

from lms.auth.models import User, UserRole
from lms.clock import programme_timezone, utc_from_local, utcnow
from lms.extensions import db
from lms.mail import mail_configured
from lms.notifications.kinds import GROUPS, KINDS, MODES, default_mode, group_of, groups_for
from lms.notifications.models import Notification, NotificationSetting, OutgoingEmail

UNSUBSCRIBE_MAX_AGE = 365 * 24 * 3600


class NotificationError(ValueError):
    """A request about notifications that cannot be carried out; str() is the message."""


def path_for(endpoint, **values):
    """The path of a page, also outside a request (the command line issues certificates and syncs courses)."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def notify(user, kind, url, actor=None, email=True, **params):
    """Tell `user` that something happened (`kind`, with `params` for its sentence) to the item at `url`; by
    e-mail too as they chose, unless `email` is False.

    Nobody is told of what they did themselves; deactivated people are told nothing."""
    if user is None or not user.active or (actor is not None and actor.id == user.id):
        return None
    notification = Notification(user_id=user.id, kind=kind, params=params, url=url,
                                actor_id=actor.id if actor else None,
                                email_due_at=_email_due_at(user, kind) if email else None)
    db.session.add(notification)
    db.session.execute(update(User).where(User.id == user.id)
                       .values(unread_notifications=User.unread_notifications + 1))
    return notification


def notify_admins(kind, url, email=True, **params):
    admins = select(UserRole.user_id).where(UserRole.role == "admin")
    for admin in db.session.scalars(select(User).where(User.active.is_(True), User.id.in_(admins))):
        notify(admin, kind, url, email=email, **params)


def _email_due_at(user, kind):
    if not mail_configured():
        return None
    mode = email_modes(user)[group_of(kind)]
    if mode == "now":
        return utcnow()
    if mode == "digest":
        return next_digest_at(utcnow())
    return None


def next_digest_at(now):
    """The first digest time (LMS_DIGEST_HOUR in the programme's time zone) after `now` (naive UTC)."""
    day = now.replace(tzinfo=UTC).astimezone(programme_timezone()).date()
    hour = time(current_app.config["LMS_DIGEST_HOUR"])
    moment = utc_from_local(day, hour)
    return moment if moment > now else utc_from_local(day + timedelta(days=1), hour)


def email_modes(user):
    """{group: mode} for every group the person may choose for (defaults where they have not chosen)."""
    chosen = dict(db.session.execute(select(NotificationSetting.group, NotificationSetting.mode)
                                     .where(NotificationSetting.user_id == user.id)).all())
    return {group: chosen.get(group, default_mode(user.roles, group)) for group in GROUPS}


def set_email_modes(user, modes):
    """Save the person's choices; NotificationError for a group or mode that does not exist."""
    allowed = groups_for(user.roles)
    if any(group not in allowed for group in modes) or any(mode not in MODES for mode in modes.values()):
        raise NotificationError(_l("Choose one of the offered options for each kind of notification."))
    for group, mode in modes.items():
        setting = db.session.get(NotificationSetting, (user.id, group))
        if setting is None:
            db.session.add(NotificationSetting(user_id=user.id, group=group, mode=mode))
        else:
            setting.mode = mode
    db.session.flush()


def latest_unread(user, groups, limit=5):
    """The newest unread notifications of some groups, for the start page."""
    kinds = [kind for kind, (group, _message) in KINDS.items() if group in groups]
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                         Notification.read_at.is_(None), Notification.kind.in_(kinds))
                              .order_by(Notification.id.desc()).limit(limit)).all()


def mark_read(notification):
    changed = db.session.execute(update(Notification).where(Notification.id == notification.id,
                                                            Notification.read_at.is_(None))
                                 .values(read_at=utcnow())).rowcount
    if changed:
        db.session.execute(update(User).where(User.id == notification.user_id, User.unread_notifications > 0)
                           .values(unread_notifications=User.unread_notifications - 1))


def mark_all_read(user):
    db.session.execute(update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                       .values(read_at=utcnow()))
    db.session.execute(update(User).where(User.id == user.id).values(unread_notifications=0))


# --- the outbox --------------------------------------------------------------------------------

def queue_email(to_address, subject, text_body, html_body=None, user=None, headers=None):
    """Put a message in the outbox; `flask lms send-notifications` sends it after the transaction commits."""
    email = OutgoingEmail(to_address=to_address, subject=str(subject)[:300], text_body=text_body,
                          html_body=html_body, user_id=user.id if user else None, headers=headers or {})
    db.session.add(email)
    return email


def queue_link_email(to_address, subject, intro, link, user=None):
    """A message that brings one link (an invitation, a password reset, a site's confirmation request), in the
    recipient's language: subject and intro are lazy strings, translated here."""
    with force_locale(user.locale if user is not None and user.locale else "ru"):
        subject, intro = str(subject), str(intro)
        context = dict(intro=intro, link=link, programme=current_app.config["LMS_ISSUER_NAME"])
        text_body = render_template("notifications/link_email.txt", **context)
        html_body = render_template("notifications/link_email.html", **context)
    return queue_email(to_address, subject, text_body, html_body, user=user)


def drop_pending_email(user):
    """A deactivated or anonymised person gets nothing more: their waiting e-mail is dropped."""
    db.session.execute(update(OutgoingEmail).where(OutgoingEmail.user_id == user.id,
                                                   OutgoingEmail.status.in_(("pending", "sending")))
                       .values(status="dropped", last_error="the account was deactivated"))
    db.session.execute(update(Notification).where(Notification.user_id == user.id,
                                                  Notification.email_id.is_(None))
                       .values(email_due_at=None))


# --- one-click unsubscribe ---------------------------------------------------------------------

def _unsubscribe_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe")


def unsubscribe_token(user, group):
    return _unsubscribe_serializer().dumps({"u": user.id, "g": group})


def unsubscribe_target(token):
    """(user, group) a link stands for, or None when it is forged, expired or names nothing that exists."""
    try:
        data = _unsubscribe_serializer().loads(token, max_age=UNSUBSCRIBE_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("g") not in GROUPS or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    return (user, data["g"]) if user is not None and user.active else None
