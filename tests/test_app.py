"""Application-wide behaviour: health check, security headers, error pages, secret key."""
import stat

import pytest
from flask import abort, request
from sqlalchemy import text

from lms import create_app, load_or_create_secret_key
from lms.extensions import db
from tests.conftest import login, make_config, page_text


def test_health_answers_ok_when_the_database_answers(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_health_answers_503_when_the_database_does_not():
    broken = create_app(make_config(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:9/none"))
    response = broken.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "unavailable"


def test_security_headers_on_every_response(client, people):
    login(client, people.trainee)
    for url in ("/", "/login", "/health", "/courses/nope", "/static/style.css"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "object-src 'none'" in csp and "base-uri 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(client, people):
    login(client, people.trainee)
    for url in ("/", "/courses/fixture-course", "/courses/fixture-course/intro"):
        html = client.get(url).get_data(as_text=True)
        assert "<script" not in html and "style=" not in html and " on" + "click=" not in html


def test_error_pages_show_no_traceback(app):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    @app.route("/forbidden")
    def forbidden():
        abort(403)

    app.testing = False
    client = app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    text = page_text(response)
    assert "Что-то пошло не так" in text and "secret internals" not in text and "Traceback" not in text
    assert "У вас нет доступа к этой странице." in page_text(client.get("/forbidden"))


def test_secret_key_is_generated_once_with_mode_600(tmp_path):
    key = load_or_create_secret_key(tmp_path)
    path = tmp_path / "secret_key"
    assert len(key) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret_key(tmp_path) == key


def test_base_layout_shows_name_and_role(client, people):
    login(client, people.mentor)
    text = page_text(client.get("/"))
    assert "Марина Наставник (наставник)" in text and "Выйти" in text


def test_sqlite_file_database_runs_in_wal_mode_and_waits_for_writers(app_factory, tmp_path):
    app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    if db.engine.dialect.name != "sqlite":
        return
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 15000


def test_behind_a_proxy_the_client_address_is_the_forwarded_one(app_factory):
    app = app_factory(LMS_BEHIND_PROXY=True)
    seen = []

    @app.route("/whoami")
    def whoami():
        seen.append(request.remote_addr)
        return "ok"

    app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.7"})
    assert seen == ["203.0.113.7"]


def _add_probe_pages(app):
    """Pages that read, or write and then stop without committing, as a view that fails half-way would."""
    from lms.auth.services import create_user
    from lms.permissions import public

    @public
    def written_then_failed():
        create_user("half@example.org", "Недописанный", ["trainee"])
        db.session.flush()
        abort(500)

    @public
    def written_not_committed():
        create_user("uncommitted@example.org", "Незаписанный", ["trainee"])
        db.session.flush()
        return "flushed"

    @public
    def prepared_statements():
        if db.engine.dialect.name != "postgresql":
            return "0"
        return str(db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements")))

    app.add_url_rule("/probe/failed", "probe_failed", written_then_failed)
    app.add_url_rule("/probe/uncommitted", "probe_uncommitted", written_not_committed)
    app.add_url_rule("/probe/prepared", "probe_prepared", prepared_statements)


def test_a_request_that_wrote_without_committing_leaves_nothing(app, client):
    """Requests that only read end their transaction with COMMIT on PostgreSQL; one that wrote never does."""
    from lms.auth.models import User

    _add_probe_pages(app)
    assert client.get("/probe/failed").status_code == 500
    assert client.get("/probe/uncommitted").status_code == 200
    assert db.session.scalar(text("SELECT count(*) FROM users")) == 0
    assert db.session.query(User).count() == 0


def test_pages_that_only_read_keep_their_prepared_statements(app, client, people):
    """psycopg forgets what it has prepared at every ROLLBACK, and it prepares a query on its fifth run on a
    connection: the start page's queries, run a dozen times, stay prepared only if reading ends with COMMIT."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("runs on PostgreSQL (TEST_DATABASE_URL)")
    _add_probe_pages(app)
    login(client, people.trainee)
    for _ in range(12):
        assert client.get("/").status_code == 200
    assert int(client.get("/probe/prepared").get_data(as_text=True)) > 0
