"""`flask lms send-notifications`: turn due notifications into e-mail, then send the outbox.

Safe to run twice at once and on several hosts. Composing takes a lock first (rows locked with SKIP LOCKED on
PostgreSQL, the database's write lock on SQLite), so each due notification goes into one message. Sending claims
a batch of messages with a lease (status `sending` until lease_until, committed before anything is sent), so a
second sender skips them; a sender that dies leaves them to be taken again when the lease ends.

Never twice: each message is marked sent in its own short transaction right after the server accepted it. The
one window left is between the server's acceptance and that commit: a sender killed exactly there sends that
message again when its lease ends. Only the message in flight can be in the window, so at most one per crash.
"""
import smtplib
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import groupby

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, text, update

from lms.auth.models import User
from lms.clock import utcnow
from lms.extensions import db
from lms.mail import build_message, mail_configured, send_built, smtp_connection
from lms.notifications.kinds import GROUPS, describe, group_of
from lms.notifications.models import Notification, OutgoingEmail
from lms.notifications.services import notify_admins, path_for, queue_email, unsubscribe_token

LEASE = timedelta(minutes=10)
BATCH = 100
MAX_ATTEMPTS = 5
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))


@dataclass
class SendResult:
    composed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dropped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, what):
        """One more of `what`, from any of the run's senders; returns the new count."""
        with self.lock:
            setattr(self, what, getattr(self, what) + 1)
            return getattr(self, what)


def send_notifications(now=None, progress=None):
    """Compose what is due at `now` (default: the present), send the outbox, return the counts."""
    result = SendResult()
    result.composed = compose_due_emails(now or utcnow())
    db.session.commit()
    send_outbox(result, now, progress)
    return result


def _lock_for_writing(query):
    """The query with its rows locked for this transaction, other senders skipping them (PostgreSQL); on SQLite
    the database's write lock, taken before reading, so a second sender waits and then reads what this one did."""
    if db.engine.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    db.session.execute(text("UPDATE outgoing_emails SET status = status WHERE 0 = 1"))
    return query


def compose_due_emails(now):
    """One message per person and group of the notifications due by `now`; returns how many were made."""
    rows = db.session.scalars(_lock_for_writing(
        select(Notification).where(Notification.email_due_at <= now, Notification.email_id.is_(None))
        .order_by(Notification.user_id, Notification.id))).all()
    if not rows:
        return 0
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({n.user_id for n in rows})))}
    templates = (current_app.jinja_env.get_template("notifications/email.txt"),
                 current_app.jinja_env.get_template("notifications/email.html"))
    by_language = defaultdict(list)
    for (user_id, group), items in groupby(rows, key=lambda n: (n.user_id, group_of(n.kind))):
        items = list(items)
        user = users[user_id]
        if not user.active:
            for item in items:
                item.email_due_at = None
            continue
        by_language[user.locale or "ru"].append((user, group, items))
    made = []
    for language, messages in by_language.items():
        with force_locale(language):  # once per language: switching it cost a tenth of composing a message
            made.extend((_compose(user, group, items, templates), items) for user, group, items in messages)
    db.session.flush()  # one batch of inserts for every message
    for email, items in made:
        for item in items:
            item.email_id = email.id
    db.session.flush()
    return len(made)


def _compose(user, group, items, templates):
    base = current_app.config["LMS_BASE_URL"]
    token = unsubscribe_token(user, group)
    unsubscribe = f"{base}{path_for('notifications.unsubscribe', token=token)}"
    lines = [(describe(n.kind, n.params), base + n.url) for n in items]
    subject = lines[0][0] if len(lines) == 1 else _("%(group)s: %(n)d updates", group=GROUPS[group].label,
                                                       n=len(lines))
    context = dict(user=user, lines=lines, group=GROUPS[group].label, settings=f"{base}/settings/notifications",
                   unsubscribe=unsubscribe, programme=current_app.config["LMS_ISSUER_NAME"])
    # The templates are rendered directly: Flask's render_template adds the request's context (CSRF, the
    # signed-in user), which an e-mail has no use for, and cost a third of composing one.
    text_body, html_body = (template.render(context) for template in templates)
    return queue_email(user.email, subject, text_body, html_body, user=user, headers={
        "List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})


def _claim(now):
    """A batch of due messages, leased to this sender in a committed transaction."""
    due = select(OutgoingEmail.id).where(or_(
        and_(OutgoingEmail.status == "pending", OutgoingEmail.next_attempt_at <= now),
        and_(OutgoingEmail.status == "sending", OutgoingEmail.lease_until < now))) \
        .order_by(OutgoingEmail.id).limit(BATCH)
    ids = db.session.scalars(_lock_for_writing(due)).all()
    if ids:
        db.session.execute(update(OutgoingEmail).where(OutgoingEmail.id.in_(ids))
                           .values(status="sending", lease_until=now + LEASE))
    db.session.commit()
    return ids


def send_outbox(result, now=None, progress=None):
    """Send what is due over LMS_MAIL_SENDERS SMTP connections at once (default 1), each claiming its own
    batches. One keeps the crash window to one message (see above); N senders can have N messages in flight,
    for N times the throughput of a sender, which mostly waits for the mail server and the database. An
    in-memory SQLite database (the tests') has a single connection: one sender."""
    if not mail_configured():
        return result
    total = db.session.scalar(select(db.func.count()).select_from(OutgoingEmail)
                              .where(OutgoingEmail.status == "pending"))
    db.session.commit()
    url = db.engine.url
    senders = 1 if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:") \
        else current_app.config["LMS_MAIL_SENDERS"]
    if senders == 1:
        _send_batches(result, now, progress, total)
        return result
    app, failures = current_app._get_current_object(), []

    def sender():
        with app.app_context():
            try:
                _send_batches(result, now, progress, total)
            except Exception as error:  # noqa: BLE001  (raised again below, in the command's thread)
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return result


def _send_batches(result, now, progress, total):
    smtp = None
    # Each message is marked on a connection of its own in autocommit: one round trip to the database per message,
    # not three (BEGIN, UPDATE, COMMIT), while the message still is marked the moment the server has accepted it.
    marks = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        while ids := _claim(now or utcnow()):
            # Rows, not objects: each message's commit would expire objects, and reloading them cost a query each.
            emails = db.session.execute(select(
                OutgoingEmail.id, OutgoingEmail.user_id, OutgoingEmail.to_address, OutgoingEmail.subject,
                OutgoingEmail.text_body, OutgoingEmail.html_body, OutgoingEmail.headers, OutgoingEmail.attempts)
                .where(OutgoingEmail.id.in_(ids)).order_by(OutgoingEmail.id)).all()
            inactive = {u for u, in db.session.execute(select(User.id).where(
                User.id.in_({e.user_id for e in emails if e.user_id}), User.active.is_(False)))}
            db.session.commit()
            for email in emails:
                if email.user_id in inactive:
                    _finish(marks, email, "dropped", "the account was deactivated")
                    result.count("dropped")
                    continue
                try:
                    smtp = smtp or smtp_connection()
                    message = build_message(email.to_address, email.subject, email.text_body, email.html_body,
                                            email.headers)
                    send_built(smtp, email.to_address, message)
                except smtplib.SMTPRecipientsRefused as refused:
                    code, reason = next(iter(refused.recipients.values()))
                    _failure(email, code, reason, result, now)
                except smtplib.SMTPResponseException as error:
                    _failure(email, error.smtp_code, error.smtp_error, result, now)
                    smtp = _reset(smtp)
                except (OSError, smtplib.SMTPException) as error:
                    _failure(email, 0, str(error).encode(), result, now)
                    smtp = _reset(smtp)
                else:
                    _finish(marks, email, "sent")
                    sent = result.count("sent")
                    if progress and total > BATCH and sent % 500 == 0:
                        progress(sent, total)
    finally:
        marks.close()
        if smtp is not None:
            _reset(smtp)


def _reset(smtp):
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
    return None


# One statement text for every mark: building an UPDATE construct per message cost more than running it.
MARK = text("UPDATE outgoing_emails SET status = :status, sent_at = :sent_at, lease_until = NULL, "
            "last_error = COALESCE(:error, last_error) WHERE id = :id")


def _finish(marks, email, status, error=None):
    """Mark one message right away, committed on its own (marks is in autocommit)."""
    marks.execute(MARK, {"status": status, "sent_at": utcnow() if status == "sent" else None, "error": error,
                         "id": email.id})


def _failure(email, code, reason, result, now):
    """A refusal: a temporary one (4xx, or no answer) is tried again later, up to MAX_ATTEMPTS; a permanent one
    (5xx), or the last try, ends as a failure administrators see."""
    error = f"{code} {reason.decode(errors='replace') if isinstance(reason, bytes) else reason}".strip()
    attempts = email.attempts + 1
    if (code == 0 or 400 <= code < 500) and attempts < MAX_ATTEMPTS:
        db.session.execute(update(OutgoingEmail).where(OutgoingEmail.id == email.id).values(
            status="pending", attempts=attempts, last_error=error, lease_until=None,
            next_attempt_at=(now or utcnow()) + BACKOFF[min(attempts, len(BACKOFF)) - 1]))
        db.session.commit()
        result.count("retrying")
        return
    db.session.execute(update(OutgoingEmail).where(OutgoingEmail.id == email.id).values(
        status="failed", attempts=attempts, last_error=error, lease_until=None))
    # In the app only: an e-mail about undelivered e-mail could itself be undeliverable, and so on.
    notify_admins("email_failed", path_for("notifications.outbox"), email=False, address=email.to_address,
                  error=error[:200])
    db.session.commit()
    result.count("failed")
