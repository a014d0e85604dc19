"""Accounts, passwords and sessions. Services add and flush; the caller commits."""
import hashlib

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer

from lms.audit import record_event
from lms.auth.models import ROLES, User, UserRole, find_user_by_email, normalize_email
from lms.clock import utcnow
from lms.extensions import db
from lms.inputs import too_long


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message is shown to the user."""


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
    email = normalize_email(email)
    name = (name or "").strip()
    roles = sorted(set(roles))
    if "@" not in email or len(email) > 254:
        raise AccountError(_l("Enter a valid e-mail address."))
    if not name:
        raise AccountError(_l("A name is required."))
    if too_long(name, User.name):
        raise AccountError(_l("The name is too long (at most %(n)d characters).", n=User.name.type.length))
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise AccountError(_l("Choose at least one role."))
    if find_user_by_email(email) is not None:
        raise AccountError(_l("A user with the e-mail %(email)s already exists.", email=email))
    user = User(email=email, name=name, role_rows=[UserRole(role=r) for r in roles])
    if password is not None:
        validate_password(password)
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    record_event(actor, "user.create", user, roles=roles)
    return user


def validate_password(password):
    min_length = current_app.config.get("PASSWORD_MIN_LENGTH", 10)
    if len(password) < min_length:
        raise AccountError(_l("The password must be at least %(n)d characters long.", n=min_length))


def set_password(user, password):
    """Set a new password and end every existing session of the user."""
    validate_password(password)
    user.password_hash = hash_password(password)
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


def _token_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="set-password")


def _password_fingerprint(user):
    # Changes as soon as the password is set, which makes each link single-use.
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def make_set_password_token(user):
    return _token_serializer().dumps({"u": user.id, "p": _password_fingerprint(user)})


def set_password_url(user):
    """The absolute one-time link an invited user (or one who forgot the password) opens."""
    return f"{current_app.config['LMS_BASE_URL']}/set-password/{make_set_password_token(user)}"


def user_for_set_password_token(token):
    """The user a set-password link belongs to, or None when it is forged, expired or used."""
    try:
        data = _token_serializer().loads(token, max_age=current_app.config["SET_PASSWORD_MAX_AGE"])
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("u"))
    if user is None or not user.active or data.get("p") != _password_fingerprint(user):
        return None
    return user
