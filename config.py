"""Configuration from the environment (see the table in README.md)."""
import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'lms.sqlite3'}")
    LMS_COURSES_DIR = os.environ.get("LMS_COURSES_DIR", str(BASE_DIR / "courses"))
    LMS_BASE_URL = os.environ.get("LMS_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Behind a reverse proxy: trust one X-Forwarded-For / X-Forwarded-Proto hop (client addresses for limits).
    LMS_BEHIND_PROXY = os.environ.get("LMS_BEHIND_PROXY", "") == "1"
    # Failed sign-ins, per client address; per account from one address (a stranger locks out only their own
    # address); per account from all addresses, which browsers that signed in to the account before skip.
    LOGIN_LIMIT_PER_CLIENT = "10 per minute"
    LOGIN_LIMIT_PER_ACCOUNT_AND_CLIENT = "5 per minute;30 per hour"
    LOGIN_LIMIT_PER_ACCOUNT = "100 per hour"
    # Posts, replies, comments and announcements per person (the benchmark raises it to time S13 alone).
    LMS_POST_LIMIT = os.environ.get("LMS_POST_LIMIT", "20 per minute")
    SET_PASSWORD_MAX_AGE = 7 * 24 * 3600
    LMS_ISSUER_NAME = os.environ.get("LMS_ISSUER_NAME", "Школа менеджеров соседских сообществ")
    # Printed under the Russian name on certificates when set.
    LMS_ISSUER_NAME_EN = os.environ.get("LMS_ISSUER_NAME_EN", "School of Neighbourhood Community Managers")
    # The programme's mark on certificates and in credentials (PNG or SVG); the default ships with the app.
    LMS_ISSUER_LOGO = os.environ.get("LMS_ISSUER_LOGO", str(BASE_DIR / "lms" / "static" / "mark.png"))
    # Who signs the certificates, printed above the signature line.
    LMS_SIGNATORY_NAME = os.environ.get("LMS_SIGNATORY_NAME", "")
    LMS_SIGNATORY_TITLE = os.environ.get("LMS_SIGNATORY_TITLE", "Руководитель программы")
    # RSA key that signs Open Badges credentials; every app host must share it.
    LMS_SIGNING_KEY_PATH = os.environ.get("LMS_SIGNING_KEY_PATH", str(INSTANCE_DIR / "credential_signing_key.pem"))
    # SMTP for invitations, password resets and site confirmations; without it links are shown instead.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "true").lower() == "true"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "lms@localhost")
    # SMTP connections one run of send-notifications uses at once.
    LMS_MAIL_SENDERS = int(os.environ.get("LMS_MAIL_SENDERS", "1"))
    # Hour of the daily e-mail digest, in the programme's time zone (LMS_TIMEZONE).
    LMS_DIGEST_HOUR = int(os.environ.get("LMS_DIGEST_HOUR", "8"))
    # Tiles of the partners map ({z}/{x}/{y}, optionally {s}); pages allow images from this host only.
    LMS_MAP_TILES = os.environ.get("LMS_MAP_TILES", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    LMS_MAP_ATTRIBUTION = os.environ.get("LMS_MAP_ATTRIBUTION", "© OpenStreetMap contributors")
    BABEL_DEFAULT_LOCALE = "ru"
    # How often a written answer's draft is saved while the trainee types (lms/static/draft.js).
    LMS_AUTOSAVE_SECONDS = int(os.environ.get("LMS_AUTOSAVE_SECONDS", "30"))
    # The programme's time zone: dates shown and typed, report periods, the digest hour.
    LMS_TIMEZONE = os.environ.get("LMS_TIMEZONE", "Europe/Moscow")
    BABEL_DEFAULT_TIMEZONE = LMS_TIMEZONE
    LANGUAGES = ("ru", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 60 * 1024 * 1024


class TestConfig(Config):
    TESTING = True
    MAIL_SERVER = ""
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    LMS_COURSES_DIR = str(BASE_DIR / "tests" / "fixtures" / "courses")
    LMS_BASE_URL = "http://localhost"
    RATELIMIT_STORAGE_URI = "memory://"
    LMS_SIGNING_KEY_PATH = os.path.join(tempfile.gettempdir(), "lms-test-credential-signing-key.pem")
