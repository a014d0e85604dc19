"""Shared fixtures: a fresh database per test, real services for every piece of data.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set.
"""
import email
import email.policy
import re
import socket
from contextlib import contextmanager
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, text

from config import TestConfig
from lms import create_app
from lms.auth.services import create_user
from lms.curriculum.models import Course
from lms.curriculum.services import sync_curriculum
from lms.extensions import db
from lms.learning.services import assign_mentor, create_cohort, enrol_trainee
from lms.practice.totals import TOTALS, rebuild_practice_totals

FIXTURE_COURSES = Path(__file__).parent / "fixtures" / "courses"
PASSWORD = "correct horse battery"
_schema_ready = set()


class RequestClient(FlaskClient):
    """Runs each request in its own app context, as in production: a fresh `g` and database session.

    Tests keep an app context open for direct database access; without this, requests would share its
    `g` (and Flask-WTF's cached CSRF token) and its session. Afterwards the test's own session is
    expired, so it sees what the request wrote.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


def make_config(**overrides):
    return type("Config", (TestConfig,), {"ARGON2_PROFILE": "CHEAPEST", **overrides})


def reset_database(app):
    """Empty schema for SQLite in memory; on a shared server database, create once then truncate."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        db.create_all()
        return
    if url not in _schema_ready:
        db.drop_all()
        db.create_all()
        _schema_ready.add(url)
        return
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def app_factory():
    """Build an app with config overrides; each gets its own fresh database."""
    made = []

    def factory(**overrides):
        if made:
            db.session.remove()  # end the previous app's transaction: it would block TRUNCATE
        app = create_app(make_config(**overrides))
        app.test_client_class = RequestClient
        ctx = app.app_context()
        ctx.push()
        reset_database(app)
        made.append(ctx)
        return app

    yield factory
    for ctx in reversed(made):
        db.session.remove()
        ctx.pop()


@pytest.fixture
def app(app_factory):
    return app_factory()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def course(app):
    result = sync_curriculum(FIXTURE_COURSES)
    assert result.ok, result.problems
    db.session.commit()
    return db.session.scalar(db.select(Course).filter_by(slug="fixture-course"))


@pytest.fixture
def make_user(app):
    counter = iter(range(1, 100000))

    def make(roles=("trainee",), email=None, name=None, password=PASSWORD, **kwargs):
        n = next(counter)
        user = create_user(email or f"user{n}@example.org", name or f"Пользователь {n}", list(roles),
                           password=password, **kwargs)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_cohort(app):
    def make(course, trainees=(), mentors=(), name="Группа 1"):
        cohort = create_cohort(course, name)
        for mentor in mentors:
            assign_mentor(cohort, mentor)
        for trainee in trainees:
            enrol_trainee(cohort, trainee)
        db.session.commit()
        return cohort

    return make


@pytest.fixture
def people(course, make_user, make_cohort):
    """A cohort with a mentor and a trainee, plus an outsider trainee, another mentor and an admin."""
    trainee = make_user(["trainee"], email="trainee@example.org", name="Анна Соседова")
    other = make_user(["trainee"], email="other@example.org", name="Олег Чужой")
    mentor = make_user(["mentor"], email="mentor@example.org", name="Марина Наставник")
    other_mentor = make_user(["mentor"], email="mentor2@example.org", name="Пётр Другой")
    admin = make_user(["admin"], email="admin@example.org", name="Ирина Админ")
    cohort = make_cohort(course, trainees=[trainee], mentors=[mentor])
    return type("People", (), dict(trainee=trainee, other=other, mentor=mentor, other_mentor=other_mentor,
                                   admin=admin, cohort=cohort, course=course))


class MailServer:
    """A real SMTP server (aiosmtpd) on a free port: what the application sends arrives in `messages`.

    `refuse` holds answers to give to the next messages instead of accepting them (e.g. "451 ..."); an address
    at invalid.example is refused as a mailbox that does not exist."""

    def __init__(self):
        self.messages, self.refuse = [], []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@invalid.example"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    @staticmethod
    def sender(message):
        """The From header as a mail program shows it (Python's own parser puts a space where the sender's name
        was split into two encoded words, which RFC 2047 says to join)."""
        from email.header import decode_header, make_header

        return str(make_header(decode_header(email.message_from_bytes(message.raw)["From"])))

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message.recipients = list(envelope.rcpt_tos)
        message.raw = envelope.content
        self.messages.append(message)
        return "250 Message accepted"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mail_server(app):
    """The app sends through a real SMTP server started for the test."""
    from aiosmtpd.controller import Controller

    handler = MailServer()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=True)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False)
    yield handler
    controller.stop()


def send_notifications(app):
    """Run `flask lms send-notifications` once, as cron would."""
    result = app.test_cli_runner().invoke(args=["lms", "send-notifications"])
    assert result.exit_code == 0, result.output
    return result.output


def csrf_token(client, path="/login"):
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, user_or_email, password=PASSWORD, next_url=None):
    email = getattr(user_or_email, "email", user_or_email)
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data=data)


def post(client, path, data=None, token_from=None):
    """POST a form with the CSRF token of the page the user would submit it from."""
    data = dict(data or {})
    data["csrf_token"] = csrf_token(client, token_from or path)
    return client.post(path, data=data)


@contextmanager
def count_queries():
    """Count SQL statements sent to the database inside the block: `with count_queries() as q: ...; q.count`."""
    class Counter:
        count = 0
        statements = []

    counter = Counter()

    def before(conn, cursor, statement, parameters, context, executemany):
        counter.count += 1
        counter.statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


def page_text(response):
    """The visible text of an HTML response, whitespace collapsed, for assertions on what users read."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def element_attributes(response, element_id):
    """The attributes of the page's element with this id (None as the value of one given bare, such as autofocus)."""
    class Finder(HTMLParser):
        found = None

        def handle_starttag(self, tag, attrs):
            if self.found is None and dict(attrs).get("id") == element_id:
                self.found = dict(attrs)

    finder = Finder()
    finder.feed(response.get_data(as_text=True))
    assert finder.found is not None, f"no element with id {element_id!r}"
    return finder.found


def assert_error_tied(response, field_id, error_id, focused):
    """The control is marked invalid, described by the error shown on the page, and focused if it is the first."""
    attributes = element_attributes(response, field_id)
    element_attributes(response, error_id)
    assert attributes.get("aria-invalid") == "true" and attributes.get("aria-describedby") == error_id
    assert ("autofocus" in attributes) == focused
    assert response.get_data(as_text=True).count(" autofocus") == 1


def practice_totals_agree():
    """Whether the approved-practice totals kept by the reviews equal the approved entries added up afresh
    (by rebuilding them, which changes nothing when they agree)."""
    def rows():
        return {model.__tablename__: sorted(tuple(row) for row in db.session.execute(db.select(model.__table__)))
                for model in TOTALS}

    kept = rows()
    rebuild_practice_totals()
    return kept == rows()
