from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.extensions import csrf, db
from lms.inputs import whole_number
from lms.mail import mail_configured
from lms.notifications.kinds import GROUPS, MODE_LABELS, MODES, describe_html, groups_for
from lms.notifications.models import Notification, OutgoingEmail
from lms.notifications.services import (
    NotificationError,
    email_modes,
    mark_all_read,
    mark_read,
    set_email_modes,
    unsubscribe_target,
)
from lms.permissions import public, require, role_required, signed_in

bp = Blueprint("notifications", __name__)
PAGE_SIZE = 50


@bp.route("/notifications")
@signed_in
def inbox():
    """The bell's list, newest first (keyset paging on id)."""
    query = select(Notification).options(joinedload(Notification.actor)) \
        .where(Notification.user_id == current_user.id).order_by(Notification.id.desc())
    before = request.args.get("before", type=whole_number)
    if before:
        query = query.where(Notification.id < before)
    rows = db.session.scalars(query.limit(PAGE_SIZE + 1)).all()
    items = [(n, describe_html(n.kind, n.params)) for n in rows[:PAGE_SIZE]]
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return render_template("notifications/inbox.html", items=items, older=older, paged=bool(before))


def _own_notification(notification_id):
    notification = db.session.get(Notification, notification_id)
    require(notification is not None and notification.user_id == current_user.id)
    return notification


@bp.route("/notifications/<int:notification_id>")
@signed_in
def open_notification(notification_id):
    """Opening an item from the bell (or an e-mail) marks it read."""
    notification = _own_notification(notification_id)
    mark_read(notification)
    db.session.commit()
    return redirect(notification.url)


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@signed_in
def read_notification(notification_id):
    mark_read(_own_notification(notification_id))
    db.session.commit()
    return redirect(url_for("notifications.inbox"))


@bp.route("/notifications/read-all", methods=["POST"])
@signed_in
def read_all():
    mark_all_read(current_user)
    db.session.commit()
    flash(_("All notifications are marked as read."), "info")
    return redirect(url_for("notifications.inbox"))


@bp.route("/settings/notifications", methods=["GET", "POST"])
@signed_in
def settings():
    groups = groups_for(current_user.roles)
    error = None
    if request.method == "POST":
        try:
            set_email_modes(current_user, {group: request.form[group] for group in groups if group in request.form})
            db.session.commit()
            flash(_("Your e-mail choices are saved."), "info")
            return redirect(url_for("notifications.settings"))
        except NotificationError as refused:
            db.session.rollback()
            error = str(refused)
    modes = email_modes(current_user)
    return render_template("notifications/settings.html", groups=[(g, GROUPS[g].label) for g in groups],
                           modes=modes, choices=[(m, MODE_LABELS[m]) for m in MODES], error=error,
                           mail=mail_configured()), 400 if error else 200


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@public
@csrf.exempt  # mail programs post RFC 8058's one-click form without our token; the signed link is the proof
def unsubscribe(token):
    target = unsubscribe_target(token)
    if target is None:
        return render_template("notifications/unsubscribe.html", invalid=True), 400
    user, group = target
    if request.method == "POST":
        try:
            set_email_modes(user, {group: "off"})
        except NotificationError:  # the person no longer has the role these e-mails were for: nothing to stop
            db.session.rollback()
        db.session.commit()
        return render_template("notifications/unsubscribe.html", done=True, group=GROUPS[group].label)
    return render_template("notifications/unsubscribe.html", group=GROUPS[group].label, token=token)


@bp.route("/admin/emails")
@role_required("admin")
def outbox():
    """What the outbox holds: waiting and undelivered messages, with the server's answer."""
    counts = dict(db.session.execute(select(OutgoingEmail.status, func.count()).group_by(OutgoingEmail.status)).all())
    problems = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.status.in_(("failed", "pending")),
                                                              OutgoingEmail.last_error.is_not(None))
                                  .order_by(OutgoingEmail.id.desc()).limit(PAGE_SIZE)).all()
    return render_template("notifications/outbox.html", counts=counts, problems=problems, mail=mail_configured())
