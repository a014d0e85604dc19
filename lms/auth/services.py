"""Accounts, passwords and sessions. Services add and flush; the caller commits."""
import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from lms.audit import record_event
from lms.auth.models import ROLES, User, UserRole, find_user_by_email, normalize_email
from lms.certificates.models import Certificate
from lms.clock import utcnow
from lms.extensions import db
from lms.inputs import too_long


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message is shown to the user, `field` names the
    form's control it is about ("name", "email", "roles"), if any."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def _hasher():
    # argon2id; tests use the cheapest profile so that hundreds of users are quick to create.
    return PasswordHasher.from_parameters(getattr(profiles, current_app.config.get("ARGON2_PROFILE",
                                                                                   "RFC_9106_LOW_MEMORY")))


def hash_password(password):
    return _hasher().hash(password)


def check_password(user, password):
    """True when password matches. Unknown users still cost one verification, so timing tells nothing."""
    hasher = _hasher()
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if user is None or not user.password_hash:
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def _dummy_hash():
    key = "_lms_dummy_password_hash"
    if key not in current_app.extensions:
        current_app.extensions[key] = _hasher().hash("not a password anyone has")
    return current_app.extensions[key]


def create_user(email, name, roles, password=None, actor=None):
    email = clean_email(email)
    name = clean_name(name)
    roles = sorted(set(roles))
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise AccountError(_l("Choose at least one role."), "roles")
    user = User(email=email, name=name, role_rows=[UserRole(role=r) for r in roles])
    if password is not None:
        validate_password(password)
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    record_event(actor, "user.create", user, roles=roles)
    return user


def clean_name(name):
    """A person's full name as certificates print it: trimmed, inner runs of spaces made one."""
    name = " ".join((name or "").split())
    if not name:
        raise AccountError(_l("A name is required."), "name")
    if too_long(name, User.name):
        raise AccountError(_l("The name is too long (at most %(n)d characters).", n=User.name.type.length), "name")
    return name


def clean_email(email, user=None):
    """A valid e-mail address no other account uses (user: the account it is for, which may keep its own)."""
    email = normalize_email(email)
    if "@" not in email or len(email) > 254 or any(ch.isspace() for ch in email):
        raise AccountError(_l("Enter a valid e-mail address."), "email")
    holder = find_user_by_email(email)
    if holder is not None and (user is None or holder.id != user.id):
        raise AccountError(_l("A user with the e-mail %(email)s already exists.", email=email), "email")
    return email


def update_user(user, name, email, actor):
    """An administrator corrects a person's name or e-mail; certificates already issued keep the name they
    were issued with."""
    name, email = clean_name(name), clean_email(email, user)
    changed = {field: [getattr(user, field), value] for field, value in (("name", name), ("email", email))
               if getattr(user, field) != value}
    if changed:
        user.name, user.email = name, email
        db.session.flush()
        record_event(actor, "user.update", user, **changed)
    return changed


def has_certificate(user):
    return db.session.scalar(select(Certificate.id).where(Certificate.trainee_id == user.id,
                                                          Certificate.revoked_at.is_(None)).limit(1)) is not None


def rename_self(user, name):
    """A person corrects their own name, which certificates will print; once one is issued, only an
    administrator can change it (the certificate itself keeps the name it was issued with)."""
    name = clean_name(name)
    if name == user.name:
        return False
    if has_certificate(user):
        raise AccountError(_l("Your certificate has already been issued with your name as it is: ask an "
                              "administrator to correct it."))
    record_event(user, "user.update", user, name=[user.name, name])
    user.name = name
    db.session.flush()
    return True


def change_password(user, current, new, confirm):
    if not check_password(user, current or ""):
        raise AccountError(_l("The current password is wrong."))
    if new != confirm:
        raise AccountError(_l("The new passwords do not match."))
    set_password(user, new)


def email_change_url(user, new_email):
    """The link, to send to the new address, that moves the account there; it does nothing once the account's
    address has changed in any other way."""
    new_email = clean_email(new_email, user)
    if new_email == user.email:
        raise AccountError(_l("This is already your e-mail address."))
    token = _token_serializer("change-email").dumps({"u": user.id, "from": user.email, "to": new_email})
    return new_email, f"{current_app.config['LMS_BASE_URL']}/settings/email/{token}"


def email_change_request(token):
    """(user, new address) of a link sent to a new address; AccountError when it is forged, expired, used or the
    address has been taken meanwhile."""
    try:
        data = _token_serializer("change-email").loads(token, max_age=current_app.config["SET_PASSWORD_MAX_AGE"])
    except BadSignature:
        data = None
    user = db.session.get(User, data["u"]) if isinstance(data, dict) and isinstance(data.get("u"), int) else None
    if user is None or not user.active or user.email != data.get("from"):
        raise AccountError(_l("This link is invalid, expired or already used."))
    return user, clean_email(data.get("to"), user)


def confirm_email_change(token):
    """Move the account to the address the link was sent to; returns the user, or raises AccountError."""
    user, new_email = email_change_request(token)
    record_event(user, "user.update", user, email=[user.email, new_email])
    user.email = new_email
    db.session.flush()
    return user


def validate_password(password):
    min_length = current_app.config.get("PASSWORD_MIN_LENGTH", 10)
    if len(password) < min_length:
        raise AccountError(_l("The password must be at least %(n)d characters long.", n=min_length))


def set_password(user, password):
    """Set a new password and end every existing session of the user."""
    validate_password(password)
    user.password_hash = hash_password(password)
    user.password_link_key = None
    end_sessions(user)
    record_event(user, "user.set_password", user)


def end_sessions(user):
    user.session_version = (user.session_version or 1) + 1
    db.session.flush()


def authenticate(email, password):
    """Return (user, None) on success or (None, reason) with reason 'invalid' or 'inactive'."""
    user = find_user_by_email(email)
    if not check_password(user, password or ""):
        return None, "invalid"
    if not user.active:
        return None, "inactive"
    user.last_login_at = utcnow()
    return user, None


def set_user_locale(user, locale):
    user.locale = locale


def _token_serializer(salt="set-password"):
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _password_fingerprint(user):
    # Changes as soon as the password is set, which makes each link single-use.
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def issue_password_link(user):
    """A new set-password link for the user (invitation, reset, forgotten password); the one they held before
    stops working."""
    user.password_link_key = secrets.token_urlsafe(12)[:16]
    user.password_link_at = utcnow()
    db.session.flush()
    return _password_link_url(user)


def current_password_link(user):
    """The link the user holds now, to show or download again, or None when they hold none or it has expired."""
    if user.password_link_key is None or password_link_expires_at(user) <= utcnow():
        return None
    return _password_link_url(user)


def password_link_expires_at(user):
    if user.password_link_at is None:
        return None
    return user.password_link_at + timedelta(seconds=current_app.config["SET_PASSWORD_MAX_AGE"])


def make_set_password_token(user):
    if user.password_link_key is None:
        issue_password_link(user)
    return _token_serializer().dumps({"u": user.id, "p": _password_fingerprint(user), "k": user.password_link_key})


def _password_link_url(user):
    return f"{current_app.config['LMS_BASE_URL']}/set-password/{make_set_password_token(user)}"


def user_for_set_password_token(token):
    """The user a set-password link belongs to, or None when it is forged, expired, used or replaced by a newer one."""
    try:
        data = _token_serializer().loads(token, max_age=current_app.config["SET_PASSWORD_MAX_AGE"])
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or not user.active or data.get("p") != _password_fingerprint(user):
        return None
    if data.get("k") != user.password_link_key or password_link_expires_at(user) <= utcnow():
        return None
    return user
