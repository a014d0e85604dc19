import hashlib
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from lms.auth.forms import LoginForm, SetPasswordForm
from lms.auth.models import find_user_by_email, normalize_email
from lms.auth.services import (
    AccountError,
    authenticate,
    change_password,
    confirm_email_change,
    email_change_request,
    email_change_url,
    end_sessions,
    has_certificate,
    set_password,
    issue_password_link,
    rename_self,
    set_user_locale,
    user_for_set_password_token,
)
from lms.extensions import db, limiter
from lms.mail import mail_configured
from lms.notifications.services import queue_link_email
from lms.permissions import public, signed_in

bp = Blueprint("auth", __name__)


def safe_next(target):
    """A path on this site to go to after sign-in, or None for anything that could leave it."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if any(ch == "\\" or ord(ch) < 33 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


# Sign-in limits (config.py). Per client address; per account from that address, so that a stranger who knows
# someone's e-mail locks out only their own address, never the owner; and per account from all addresses
# together, against slow guessing spread over many addresses, which a browser that has signed in to that account
# before skips (a "device cookie", as OWASP's guide to slowing online guessing describes). A set-password link
# from "Forgot password" always gets through.
KNOWN_DEVICE_COOKIE = "lms_known_device"
KNOWN_DEVICE_MAX_AGE = 365 * 24 * 3600
KNOWN_DEVICE_ACCOUNTS = 5


def _account_key():
    return "login-account:" + normalize_email(request.form.get("email"))


def _account_and_client_key():
    return f"{_account_key()}:{get_remote_address()}"


def _device_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def _account_mark(email):
    """What the cookie keeps of an account: a digest, so the cookie does not show whose accounts they are."""
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()[:20]


def _known_accounts():
    try:
        marks = _device_serializer().loads(request.cookies.get(KNOWN_DEVICE_COOKIE, ""),
                                           max_age=KNOWN_DEVICE_MAX_AGE)
    except BadSignature:
        return []
    return [mark for mark in marks if isinstance(mark, str)] if isinstance(marks, list) else []


def _from_known_device():
    return _account_mark(request.form.get("email")) in _known_accounts()


def _remember_device(response, email):
    mark = _account_mark(email)
    marks = [m for m in _known_accounts() if m != mark][-(KNOWN_DEVICE_ACCOUNTS - 1):] + [mark]
    response.set_cookie(KNOWN_DEVICE_COOKIE, _device_serializer().dumps(marks), max_age=KNOWN_DEVICE_MAX_AGE,
                        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _failed(response):
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_CLIENT"], methods=["POST"],
               deduct_when=_failed)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT_AND_CLIENT"], methods=["POST"],
               key_func=_account_and_client_key, deduct_when=_failed)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=_account_key, deduct_when=_failed, exempt_when=_from_known_device)
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data) or url_for("learning.dashboard"))
    if form.validate_on_submit():
        user, reason = authenticate(form.email.data, form.password.data)
        if user is not None:
            locale = session.get("locale")
            session.clear()  # a fresh session on every sign-in
            login_user(user)
            if locale and not user.locale:
                set_user_locale(user, locale)
            db.session.commit()
            return _remember_device(redirect(safe_next(form.next.data) or url_for("learning.dashboard")), user.email)
        db.session.rollback()
        if reason == "inactive":
            flash(_("Your account is deactivated. Ask your administrator to reactivate it."), "error")
        else:
            flash(_("Wrong e-mail or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@public
def logout():
    if current_user.is_authenticated:
        end_sessions(current_user)
        db.session.commit()
        logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
def set_password_page(token):
    user = user_for_set_password_token(token)
    if user is None:
        return render_template("auth/set_password_invalid.html"), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        set_password(user, form.password.data)
        db.session.commit()
        session.clear()
        login_user(user)
        flash(_("Your password is set. Welcome!"), "info")
        return redirect(url_for("learning.dashboard"))
    return render_template("auth/set_password.html", form=form, user=user)


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
@limiter.limit("5 per minute", methods=["POST"])
def forgot_password():
    """The same answer whether or not the address has an account, so the page reveals nothing."""
    sent = False
    if request.method == "POST":
        user = find_user_by_email(request.form.get("email"))
        if mail_configured() and user is not None and user.active:
            queue_link_email(user.email, _l("Setting your password"),
                             _l("Open this link within 7 days to set a new password:"), issue_password_link(user),
                             user=user)
            db.session.commit()
        sent = True
    return render_template("auth/forgot_password.html", sent=sent, mail=mail_configured())


@bp.route("/language", methods=["POST"])
@public
def choose_language():
    locale = request.form.get("locale")
    if locale not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = locale
    if current_user.is_authenticated:
        set_user_locale(current_user, locale)
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("learning.dashboard"))


# --- the person's own settings ----------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
@signed_in
def settings():
    """Name, language, password and e-mail; notification choices and the calendar feed are linked from here."""
    errors, form = {}, {}
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "name":
                if rename_self(current_user, request.form.get("name")):
                    flash(_("Your name is saved."), "info")
            elif action == "language":
                locale = request.form.get("locale")
                if locale not in current_app.config["LANGUAGES"]:
                    raise AccountError(_("Choose a language from the list."))
                set_user_locale(current_user, locale)
                session["locale"] = locale
                flash(_("The interface language is saved."), "info")
            elif action == "password":
                change_password(current_user, request.form.get("current_password"),
                                request.form.get("new_password", ""), request.form.get("confirm_password"))
                db.session.commit()
                login_user(current_user._get_current_object())  # this session goes on; every other one has ended
                flash(_("Your password is changed; you were signed out everywhere else."), "info")
                return redirect(url_for("auth.settings", _anchor="password"))
            elif action == "email":
                if not mail_configured():
                    raise AccountError(_("E-mail is not set up on this installation: ask an administrator to "
                                         "change your address."))
                new_email, link = email_change_url(current_user, request.form.get("email"))
                queue_link_email(new_email, _l("Confirm your new e-mail address"),
                                 _l("Open this link within 7 days to use this address for your account:"), link,
                                 user=current_user)
                flash(_("We sent a link to %(email)s: your address changes when you open it.", email=new_email),
                      "info")
            else:
                abort(400)
            db.session.commit()
            return redirect(url_for("auth.settings", _anchor=action))
        except AccountError as refused:
            db.session.rollback()
            errors[action] = str(refused)
            form = request.form
    return render_template("auth/settings.html", errors=errors, form=form, mail=mail_configured(),
                           certified=has_certificate(current_user),
                           languages=(("ru", "Русский"), ("en", "English"))), 400 if errors else 200


@bp.route("/settings/email/<token>", methods=["GET", "POST"])
@public
def confirm_email(token):
    """The link sent to a new address: opening it shows a button, so that a mail scanner fetching it changes
    nothing."""
    if request.method == "POST":
        try:
            user = confirm_email_change(token)
            db.session.commit()
        except AccountError as refused:
            db.session.rollback()
            return render_template("auth/confirm_email.html", error=str(refused)), 400
        flash(_("Your e-mail address is now %(email)s.", email=user.email), "info")
        return redirect(url_for("auth.settings") if current_user.is_authenticated else url_for("auth.login"))
    try:
        user, new_email = email_change_request(token)
    except AccountError as refused:
        return render_template("auth/confirm_email.html", error=str(refused)), 400
    return render_template("auth/confirm_email.html", token=token, user=user, new_email=new_email)
