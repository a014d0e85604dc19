"""The application factory: extensions, blueprints, CLI, error pages and security headers."""
import os
import secrets
import sqlite3
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, render_template, request, session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import bindparam, event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import lazyload, undefer
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from lms.extensions import babel, csrf, db, limiter, login_manager, migrate
from lms.i18n import install_content_language, install_date_filters, install_template_gettext, page_language
from lms.inputs import IdConverter, LmsRequest, TextConverter
from lms.labels import format_hours, label_filters
from lms.navigation import main_nav
from lms.permissions import public
from lms.sessions import KeptSerializerSessionInterface

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{tiles}; "
                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def content_security_policy(tile_url):
    """The policy, with images allowed from the partners map's tile host only ({s} subdomains as *)."""
    parts = urlsplit(tile_url.replace("{s}", "*"))
    origin = f" {parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""
    return CONTENT_SECURITY_POLICY.format(tiles=origin)


def create_app(config):
    app = Flask(__name__)
    app.request_class = LmsRequest
    app.session_interface = KeptSerializerSessionInterface()
    app.url_map.converters.update(int=IdConverter, default=TextConverter, string=TextConverter)
    app.config.from_object(config)
    app.config["SESSION_COOKIE_SECURE"] = app.config["LMS_BASE_URL"].startswith("https://")
    app.config["CONTENT_SECURITY_POLICY"] = content_security_policy(app.config["LMS_MAP_TILES"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(app.instance_path)
    _create_sqlite_folder(app)
    if app.config.get("LMS_BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            _keep_prepared_statements(db.engine)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    # Every limit here is a decorator on its view, which checks it itself; the limiter's check before each request
    # looks for application-wide limits (there are none) and cost a fifth of a bare request.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    babel.init_app(app, locale_selector=_select_locale)
    install_template_gettext(app.jinja_env)
    install_content_language(app.jinja_env)
    app.context_processor(page_language)
    install_date_filters(app.jinja_env)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.user_loader(_load_user)

    from lms import audit  # noqa: F401  (registers the model)
    from lms.admin.views import bp as admin_bp
    from lms.auth.views import bp as auth_bp
    from lms.certificates.views import bp as certificates_bp
    from lms.cli import lms_cli
    from lms.discussions.views import bp as discussions_bp
    from lms.grading.views import bp as grading_bp
    from lms.learning.views import bp as learning_bp
    from lms.notifications.views import bp as notifications_bp
    from lms.offline.views import bp as offline_bp
    from lms.partners.views import bp as partners_bp
    from lms.placements.views import bp as placements_bp
    from lms.practice.views import bp as practice_bp
    from lms.reports.views import bp as reports_bp
    from lms.schedule.views import bp as schedule_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(learning_bp)
    app.register_blueprint(grading_bp)
    app.register_blueprint(practice_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(schedule_bp)
    app.register_blueprint(discussions_bp)
    app.register_blueprint(offline_bp)
    app.register_blueprint(partners_bp)
    app.register_blueprint(placements_bp)
    app.cli.add_command(lms_cli)

    app.add_url_rule("/health", "health", health)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _error_page)
    app.jinja_env.globals.update(label_filters(), get_locale=get_locale, main_nav=main_nav)
    app.jinja_env.filters["hours"] = format_hours
    # Templates offer a button with the same rule the view enforces.
    from lms import permissions

    app.jinja_env.globals.update({name: getattr(permissions, name) for name in (
        "can_withdraw_submission", "can_withdraw_practice_entry", "can_request_site_confirmation")})
    return app


def load_or_create_secret_key(instance_dir):
    """Keep one generated key per installation (mode 600) so sessions survive restarts."""
    path = Path(instance_dir) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    return path.read_text().strip()


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record):
    """SQLite's lower() only folds ASCII: searches for Cyrillic names need the full Unicode one. A database file
    runs in WAL mode, so readers never block the writer, and waits for a busy writer instead of failing."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("lower", 1, lambda value: value.lower() if isinstance(value, str) else value,
                                         deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 15000")
        if cursor.execute("PRAGMA database_list").fetchone()[2]:  # a file, not :memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()


def _keep_prepared_statements(engine):
    """A transaction that only read ends with COMMIT instead of ROLLBACK: the same to PostgreSQL, but psycopg
    forgets the statements it has prepared at every ROLLBACK, and a request that reads ends with one. Every query of
    every request was planned anew: the queue page's own took 9 ms a request this way, 3.7 ms planned once."""
    @event.listens_for(engine, "before_cursor_execute")
    def note_write(conn, _cursor, statement, _parameters, _context, _executemany):
        if not statement.startswith("SELECT"):
            conn.info["lms_wrote"] = True

    @event.listens_for(engine, "commit")
    def forget_write(conn):
        conn.info.pop("lms_wrote", None)

    @event.listens_for(engine, "rollback")
    def end_transaction(conn):
        if not conn.invalidated and not conn.closed:
            _commit_if_only_read(conn.connection.dbapi_connection, conn.info)

    @event.listens_for(engine.pool, "reset")
    def end_transaction_on_return(dbapi_connection, record, _state):
        _commit_if_only_read(dbapi_connection, record.info)


def _commit_if_only_read(dbapi_connection, info):
    """The ROLLBACK that follows finds nothing to do; if this COMMIT fails, the ROLLBACK deals with the connection."""
    import psycopg

    wrote = info.pop("lms_wrote", False)
    if not wrote and dbapi_connection.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
        try:
            dbapi_connection.commit()
        except psycopg.Error:
            pass


def _create_sqlite_folder(app):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def _load_user(user_id):
    user_pk, _sep, version = user_id.partition(":")
    if not user_pk.isdigit() or not version.isdigit():
        return None
    user = db.session.scalars(_user_with_roles(), {"user_id": int(user_pk)}).one_or_none()
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


@cache
def _user_with_roles():
    """Built once: every signed-in request runs it, and building it cost about as much as running it. The roles come
    in the same row as a string; loading them as rows (a join, then objects) took half of a signed-in request."""
    from lms.auth.models import User

    return (select(User).options(undefer(User.role_names), lazyload(User.role_rows))
            .where(User.id == bindparam("user_id")))


def _select_locale():
    if not has_request_context():
        return "ru"
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    return session.get("locale") or "ru"


@public
def health():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return "unavailable", 503, {"Content-Type": "text/plain; charset=utf-8"}
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", current_app.config["CONTENT_SECURITY_POLICY"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _error_page(error):
    code = error.code or 500
    return render_template("errors/error.html", code=code, title=_error_title(code)), code


def _error_title(code):
    titles = {
        400: _("The request could not be understood. Go back, reload the page and try again."),
        403: _("You do not have access to this page."),
        404: _("Page not found."),
        405: _("This action is not allowed here."),
        413: _("The upload is too large."),
        429: _("Too many attempts. Wait a minute and try again."),
        503: _("The service is unavailable. Try again later."),
    }
    return titles.get(code, _("Something went wrong. We have been told; try again later."))
