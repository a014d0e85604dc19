"""No error page on any input (issue 13): what an outside review found, item by item, and a crawler that submits
every form each visitor can open with hostile values.

The database here is one that several connections share (a file on SQLite), so that the race tests run truly
concurrent transactions on SQLite as well as on PostgreSQL.
"""
import io
import os
import subprocess
import sys
import threading
import time as clock
import urllib.request
from datetime import time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from lms.audit import AuditEvent, record_event
from lms.auth.models import User
from lms.certificates.models import Certificate
from lms.clock import local_today
from lms.curriculum.models import Assignment
from lms.extensions import db
from lms.grading.services import submit_files
from lms.learning.models import Cohort
from lms.partners.services import save_partner
from lms.practice.models import PracticeEntry, PracticeSite
from lms.practice.services import EntryData, EntryInvalid, save_practice_entry
from lms.uploads import check_upload
from tests.conftest import PASSWORD, csrf_token, login, page_text, post
from tests.test_access import ROUTES, VISITORS, samples, visit_as  # noqa: F401  (samples is a fixture)
from tests.test_deploy import Browser, _free_port
from tests.test_grading import PDF, PNG
from tests.test_practice import form

ROOT = Path(__file__).resolve().parent.parent
HUGE = str(2**64)
RUSSIAN_NAME = "отчёт о практике.pdf"
YESTERDAY = local_today() - timedelta(days=1)


@pytest.fixture
def app(app_factory, tmp_path):
    if os.environ.get("TEST_DATABASE_URL"):
        return app_factory()
    return app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'lms.sqlite3'}")


@pytest.fixture
def site(people):
    site = save_partner(None, "Соседский центр", "centre")
    db.session.commit()
    return site


def practice_entry(people, site, start=None, end=None, submit=True, files=()):
    return save_practice_entry(people.trainee, EntryData(
        cohort=people.cohort, site=site, date=YESTERDAY, start_time=start, end_time=end,
        duration_minutes=None if start else 60, activity_type="workshop_class", audiences={"adults": 5},
        description="Описание", reflection="Рефлексия"), submit=submit, files=files)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


# --- 1. file names in Russian -------------------------------------------------------------------

@pytest.fixture
def russian_files(people, site):
    entry = practice_entry(people, site, files=[check_upload(RUSSIAN_NAME, PDF)])
    assignment = db.session.scalar(select(Assignment).filter_by(key="events-plan"))
    submission = submit_files(people.trainee, assignment, [check_upload(RUSSIAN_NAME, PDF)])
    db.session.commit()
    return [f"/practice/attachments/{entry.attachments[0].id}", f"/files/{submission.files[0].id}"]


def assert_russian_download(headers, body):
    disposition = headers["Content-Disposition"]
    assert disposition.isascii()
    assert "attachment" in disposition and "filename*=UTF-8''" + quote(RUSSIAN_NAME) in disposition
    assert body == PDF


def test_files_with_russian_names_download(client, people, russian_files):
    login(client, people.trainee)
    for url in russian_files:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_russian_download(response.headers, response.data)


def test_files_with_russian_names_download_through_gunicorn(app, people, russian_files):
    """gunicorn, unlike the test client, refuses a header that is not Latin-1: this is where the 500 came from."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": app.config["SECRET_KEY"], "LMS_SIGNING_KEY_PATH": app.config["LMS_SIGNING_KEY_PATH"]}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                               "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    host = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(host + "/health", timeout=1)
                break
            except OSError:
                clock.sleep(0.1)
        browser = Browser()
        assert browser.login(host, people.trainee.email, PASSWORD)[0] == 200
        for url in russian_files:
            with browser.opener.open(host + url, timeout=10) as response:
                assert response.status == 200, url
                assert_russian_download(response.headers, response.read())
    finally:
        server.terminate()
        server.wait(timeout=10)


# --- 2. huge numbers --------------------------------------------------------------------------

@pytest.mark.parametrize("visitor", ["trainee", "mentor", "admin"])
def test_ids_beyond_any_column_are_not_found(app, people, samples, visitor):  # noqa: F811
    client = app.test_client()
    login(client, getattr(people, visitor))
    urls = {url.format(**dict.fromkeys(samples, HUGE)) for _kind, method, url, *_ in ROUTES.values()
            if "{" in url and "?" not in url}
    assert len(urls) >= 12
    for url in sorted(urls):
        assert client.get(url).status_code in (404, 405), url  # 405: a route that only takes POST
        assert client.post(url, data={"csrf_token": csrf_token(client, "/")}).status_code in (404, 405), url


def test_huge_numbers_in_query_parameters_are_ignored(client, people, samples):  # noqa: F811
    login(client, people.admin)
    for url in ("/admin/users?page=", "/admin/audit?before=", "/admin/reports?cohort=",
                "/admin/reports/summary.csv?cohort=", "/admin/certificates?cohort=", "/practice/trainees?cohort="):
        assert client.get(url + HUGE).status_code == 200, url
    client = client.application.test_client()
    login(client, people.mentor)
    for url in ("/mentor/queue?cohort=", "/mentor/queue?module=", "/mentor/queue?after=2026-01-01T00:00:00_practice_",
                "/mentor/practice/approve?ids=", f"/practice/trainees/{samples['trainee']}?after=2026-01-01_"):
        assert client.get(url + HUGE).status_code == 200, url


def test_huge_numbers_in_forms_get_a_message_on_the_field(client, people, site):
    login(client, people.trainee)
    for field, message in (("duration", "Укажите продолжительность в целых минутах"),
                           ("aud-adults", "Число участников — целое число от 0 до 10 000")):
        data = form(site, **{field: HUGE, "start_time": None if field == "duration" else "10:00",
                             "end_time": None if field == "duration" else "11:00"})
        response = post(client, "/practice/new", data, token_from="/practice/new")
        assert response.status_code == 400 and message in page_text(response), field
    for field in ("site", "cohort", "modules"):
        response = post(client, "/practice/new", form(site, **{field: HUGE}), token_from="/practice/new")
        assert response.status_code in (302, 400), field
    assert count(PracticeEntry) <= 2  # each either refused or saved as a plain entry, never an error


def test_huge_version_and_score_give_the_conflict_and_range_messages(client, people, site):
    entry = practice_entry(people, site)
    db.session.commit()
    login(client, people.mentor)
    response = post(client, f"/practice/{entry.id}", {"action": "approve", "version": HUGE})
    assert response.status_code == 302
    assert "кто-то другой" in page_text(client.get(response.headers["Location"])).lower()
    essay = db.session.scalar(select(Assignment).filter_by(key="intro-essay"))
    from lms.grading.services import save_text_answer
    submission = save_text_answer(people.trainee, essay, "Ответ", submit=True)
    db.session.commit()
    url = f"/mentor/submissions/{submission.id}"
    response = post(client, url, {"decision": "pass", "version": str(submission.version), "feedback": "Хорошо",
                                  "score-0": HUGE, "score-1": "1"})
    assert response.status_code == 400 and "баллов" in page_text(response)


# --- 3. the audit log's older events ------------------------------------------------------------

def test_audit_log_pages_through_older_events(client, people):
    for n in range(130):
        record_event(people.admin, "test.event", ("tests", n))
    db.session.commit()
    login(client, people.admin)
    url, pages = "/admin/audit?action=test.", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        pages += 1
        html = response.get_data(as_text=True)
        older = HTMLLinks.find(html, "Более ранние события")
        url = older
    assert pages == 3


class HTMLLinks(HTMLParser):
    """The href of the first link whose text starts with a given text."""

    def __init__(self, text):
        super().__init__()
        self.text, self.href, self._open = text, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open = dict(attrs).get("href")

    def handle_data(self, data):
        if self._open and self.href is None and data.strip().startswith(self.text):
            self.href = self._open

    def handle_endtag(self, tag):
        if tag == "a":
            self._open = None

    @classmethod
    def find(cls, html, text):
        parser = cls(text)
        parser.feed(html)
        return parser.href


# --- 4. report dates --------------------------------------------------------------------------

@pytest.mark.parametrize("query, message", [
    ("start=0001-01-01&end=9999-12-31", "с 2000 по 2099 год"),
    ("start=2026-12-31&end=2026-01-01", "Период заканчивается раньше, чем начинается"),
    ("start=2000-01-01&end=2099-12-31", "не больше десяти лет"),
    ("start=junk&end=2026-01-01", "ГГГГ-ММ-ДД"),
])
def test_report_dates_out_of_range_get_a_message(client, people, query, message):
    login(client, people.admin)
    response = client.get(f"/admin/reports?{query}")
    assert response.status_code == 200 and message in page_text(response)
    assert client.get(f"/admin/reports/summary.csv?{query}").status_code == 200
    assert client.get(f"/admin/audit?since={query[6:16]}&until={query[-10:]}").status_code == 200


# --- 5. CSV import of a huge cell -----------------------------------------------------------------

def test_csv_import_with_a_name_over_the_csv_field_limit_is_a_row_error(client, people):
    login(client, people.admin)
    url = f"/admin/cohorts/{people.cohort.id}/import"
    content = f"Ирина Новая,irina@example.org\n{'Я' * 140_000},huge@example.org\n".encode()
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "file": (io.BytesIO(content), "trainees.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    text = page_text(response)
    assert "имя длиннее 200 символов" in text and "irina@example.org" in text
    response = post(client, url, {"action": "import", "content": content.decode()})
    assert "Сначала исправьте строки с ошибками" in page_text(response)
    assert count(User) == 5


# --- 6. times with an offset -----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["10:00:00.123456+03:00", "10:00+03:00", "25:00", "10", "10:00:00.5"])
def test_times_the_form_does_not_accept_get_a_message(client, people, site, value):
    login(client, people.trainee)
    response = post(client, "/practice/new", form(site, start_time=value), token_from="/practice/new")
    assert response.status_code == 400
    assert "Введите время в виде ЧЧ:ММ" in page_text(response)
    assert count(PracticeEntry) == 0


# --- 7 and 8. races ----------------------------------------------------------------------------------

def run_at_once(app, work, parties=2):
    """Run work(n) in `parties` threads, each with its own app context (and database connection), started together;
    returns what each returned or raised."""
    barrier = threading.Barrier(parties)
    results = [None] * parties

    def run(n):
        with app.app_context():
            barrier.wait()
            try:
                results[n] = work(n)
            except Exception as error:  # noqa: BLE001  (the test looks at what each thread met)
                results[n] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(parties)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_mentors_bulk_approving_at_once_get_a_conflict_message(app, people, site, make_user):
    second_mentor = make_user(["mentor"])
    from lms.learning.services import assign_mentor
    assign_mentor(people.cohort, second_mentor)
    entry = practice_entry(people, site)
    db.session.commit()
    clients = [app.test_client(), app.test_client()]
    for client, mentor in zip(clients, (people.mentor, second_mentor), strict=True):
        login(client, mentor)
    url = f"/mentor/practice/approve?ids={entry.id}"
    tokens = [csrf_token(client, url) for client in clients]
    loaded = threading.Barrier(2, timeout=20)
    waited = set()

    def both_loaded(session, _context, _instances):
        """Hold each request's first write until both have read the entry as waiting: the race the review hit."""
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            loaded.wait()

    event.listen(Session, "before_flush", both_loaded)
    try:
        responses = run_at_once(app, lambda n: clients[n].post(url, data={
            "csrf_token": tokens[n], "ids": str(entry.id), "read": str(entry.id)}))
    finally:
        event.remove(Session, "before_flush", both_loaded)
    assert sorted(r.status_code for r in responses) == [302, 302]
    messages = [page_text(client.get(r.headers["Location"])) for client, r in zip(clients, responses, strict=True)]
    assert sum("Одобрено записей: 1" in m for m in messages) == 1
    assert sum("Ничего не одобрено" in m for m in messages) == 1
    db.session.expire_all()
    assert db.session.get(PracticeEntry, entry.id).status == "approved"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "practice.approve")) == 1


@pytest.mark.parametrize("attempt", range(5))
def test_overlapping_entries_saved_at_the_same_moment_keep_one(app, people, site, attempt):
    trainee_id, cohort_id, site_id = people.trainee.id, people.cohort.id, site.id

    def save(n):
        trainee = db.session.get(User, trainee_id)
        entry = save_practice_entry(trainee, EntryData(
            cohort=db.session.get(Cohort, cohort_id), site=db.session.get(PracticeSite, site_id), date=YESTERDAY,
            start_time=time(10 + n % 2, 0), end_time=time(12, 30), activity_type="workshop_class",
            audiences={"adults": 5}, description="Описание", reflection="Рефлексия"))
        db.session.commit()
        return entry.id

    results = run_at_once(app, save)
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert sum(isinstance(r, EntryInvalid) and "start_time" in r.errors for r in results) == 1, results
    assert count(PracticeEntry) == 1


# --- 9. length limits --------------------------------------------------------------------------------

MEGABYTE = "Я" * 1_000_000


def test_over_long_texts_are_refused_with_a_message_and_change_nothing(client, people, site):
    login(client, people.admin)
    cases = [
        ("/admin/cohorts", {"course": str(people.course.id), "name": MEGABYTE}, "Имя слишком длинное"),
        (f"/admin/cohorts/{people.cohort.id}", {"action": "settings", "name": MEGABYTE}, "Имя слишком длинное"),
        ("/admin/users/new", {"email": "new@example.org", "name": MEGABYTE, "roles": "trainee"},
         "Имя слишком длинное"),
        ("/admin/partners/new", {"name": MEGABYTE, "kind": "centre"}, "Название: слишком длинно"),
        ("/admin/partners/new", {"name": "Новая", "kind": "centre", "address": MEGABYTE}, "Адрес: слишком длинно"),
        (f"/admin/partners/{site.id}", {"action": "save", "name": "Центр", "kind": "centre",
                                        "contact_name": MEGABYTE}, "слишком длинно"),
        ("/admin/partners/new", {"name": "Новая", "kind": "centre", "contact_email": "a" * 300 + "@example.org"},
         "слишком длинно"),
        ("/admin/certificates/issue", {"trainee": str(people.trainee.id), "course": str(people.course.id),
                                       "override_reason": MEGABYTE}, "Причина слишком длинная"),
    ]
    for url, data, message in cases:
        response = post(client, url, data, token_from="/admin/certificates" if "certificates" in url else url)
        if response.status_code == 302:
            response = client.get(response.headers["Location"])
        assert message in page_text(response), url
    assert count(Cohort) == 1 and count(User) == 5 and count(PracticeSite) == 1 and count(Certificate) == 0
    db.session.expire_all()
    assert db.session.get(PracticeSite, site.id).contact_name == ""
    assert db.session.get(Cohort, people.cohort.id).name == "Группа 1"


def test_over_long_review_texts_are_refused(client, people, site):
    entry = practice_entry(people, site)
    db.session.commit()
    login(client, people.mentor)
    response = post(client, f"/practice/{entry.id}", {"action": "return", "comment": MEGABYTE,
                                                      "version": str(entry.version)})
    assert response.status_code == 400 and "Текст слишком длинный" in page_text(response)
    db.session.expire_all()
    assert db.session.get(PracticeEntry, entry.id).status == "submitted"


# --- sign-in limits cannot lock the owner out ----------------------------------------------------------

STRANGER, OWNER = {"REMOTE_ADDR": "203.0.113.7"}, {"REMOTE_ADDR": "198.51.100.20"}


def login_from(client, address, email, password):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base=address)


def test_a_stranger_guessing_a_password_does_not_lock_the_owner_out(app, people):
    stranger = app.test_client()
    for n in range(40):
        response = login_from(stranger, STRANGER, people.mentor.email, f"guess {n}")
        if n >= 5:
            assert response.status_code == 429
    owner = app.test_client()
    assert login_from(owner, OWNER, people.mentor.email, PASSWORD).status_code == 302


def test_guessing_from_many_addresses_stops_but_a_known_browser_and_a_reset_link_get_through(app, people):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "10 per hour"
    known = app.test_client()
    assert login_from(known, OWNER, people.mentor.email, PASSWORD).status_code == 302
    post(known, "/logout", token_from="/")
    for n in range(12):
        login_from(app.test_client(), {"REMOTE_ADDR": f"203.0.113.{n}"}, people.mentor.email, "wrong")
    newcomer = app.test_client()
    blocked = login_from(newcomer, {"REMOTE_ADDR": "192.0.2.1"}, people.mentor.email, PASSWORD)
    assert blocked.status_code == 429
    assert "задайте новый пароль по ссылке" in page_text(blocked)
    assert login_from(known, OWNER, people.mentor.email, PASSWORD).status_code == 302

    from lms.auth.services import issue_password_link
    link = urlsplit(issue_password_link(people.mentor)).path
    db.session.commit()  # the link's key, as issuing it in a request would
    token = csrf_token(newcomer, link)
    response = newcomer.post(link, data={"csrf_token": token, "password": "a brand new password",
                                         "confirm": "a brand new password"}, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert response.status_code == 302
    assert newcomer.get("/").status_code == 200


# --- the crawler ---------------------------------------------------------------------------------------

HOSTILE = [HUGE, "-1", "abc", "9999-12-31", "0001-01-01", "10:00:00.123456+03:00", "x" * 140_000, "a\x00b", ""]
QUERY_PARAMETERS = ("page", "before", "after", "cohort", "course", "module", "assignment", "kind", "sort", "start",
                    "end", "q", "role", "actor", "action", "object", "since", "until", "ids", "code", "next", "status",
                    "show", "view")


class Forms(HTMLParser):
    """The forms of a page: action, method, fields with their values, and the named submit buttons."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"action": attrs.get("action") or "", "method": (attrs.get("method") or "get").lower(),
                          "fields": {}, "buttons": [], "files": []}
            self.forms.append(self._form)
        elif self._form is None or not attrs.get("name"):
            return
        elif tag == "input" and attrs.get("type") == "file":
            self._form["files"].append(attrs["name"])
        elif tag in ("button", "input") and attrs.get("type", "submit" if tag == "button" else "text") == "submit":
            self._form["buttons"].append((attrs["name"], attrs.get("value", "")))
        elif tag == "input" and attrs.get("type") in ("checkbox", "radio"):
            if "checked" in attrs or attrs["name"] not in self._form["fields"]:
                self._form["fields"][attrs["name"]] = attrs.get("value", "on")
        elif tag in ("input", "textarea"):
            self._form["fields"][attrs["name"]] = attrs.get("value", "")
        elif tag == "select":
            self._select = attrs["name"]
            self._form["fields"][attrs["name"]] = ""
        elif tag == "option" and self._select and not self._form["fields"][self._select]:
            self._form["fields"][self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def page_forms(html):
    parser = Forms()
    parser.feed(html)
    return parser.forms


KEEP = {"csrf_token", "action"}  # the form's own token and the branch it takes stay as the page gave them


def hostile_submissions(page_form):
    """Every field hostile at once, with each value; then each field alone, with the two values most likely to
    reach the database (a huge number, an over-long text)."""
    fields = page_form["fields"]
    fuzzable = [name for name in fields if name not in KEEP]
    for value in HOSTILE:
        yield {**fields, **dict.fromkeys(fuzzable, value)}
    for name in fuzzable:
        for value in (HUGE, HOSTILE[6], "a\x00b"):
            yield {**fields, name: value}


@pytest.mark.parametrize("visitor", VISITORS)
def test_no_hostile_input_gives_an_error_page(app, people, samples, visitor):  # noqa: F811
    client = app.test_client()
    visit_as(client, people, visitor)
    errors, submitted = [], 0

    def check(method, url, **kwargs):
        nonlocal submitted
        submitted += 1
        try:
            status = client.open(url, method=method, **kwargs).status_code
        except Exception as error:  # noqa: BLE001  (TESTING propagates what would be a 500: collect them all)
            status = f"{type(error).__name__}: {str(error)[:200]}"
        if not isinstance(status, int) or status >= 500:
            sent = kwargs.get("data") or kwargs.get("query_string")
            errors.append(f"{method} {url[:120]} {str(sent)[:200]}: {status}")

    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        for value in ("a\x00b", "x" * 3000, HUGE, "..", "%"):
            values = {name: 1 if isinstance(converter, IntegerConverter) else value
                      for name, converter in rule._converters.items()}
            if values:
                for method in ("GET", "POST"):
                    check(method, adapter.build(rule.endpoint, values, method=sorted(rule.methods)[0]))

    pages = [url.format(**samples) for _kind, method, url, *_ in ROUTES.values()
             if method == "GET" and not url.endswith((".csv", ".zip", ".pdf", ".jwt"))]
    for page in pages:
        for name in QUERY_PARAMETERS:
            for value in HOSTILE[:6] + ["x" * 5000, "a\x00b"]:
                check("GET", f"{page}{'&' if '?' in page else '?'}{urlencode({name: value})}")
        response = client.get(page)
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        for page_form in page_forms(response.get_data(as_text=True)):
            action = page_form["action"] or page
            if urlsplit(action).path in ("/logout",):
                continue  # would end the visitor's session: tested in test_auth
            buttons = page_form["buttons"] or [None]
            for data in hostile_submissions(page_form):
                for button in buttons:
                    body = dict(data)
                    if button:
                        body[button[0]] = button[1]
                    if page_form["method"] == "get":
                        check("GET", action, query_string=body)
                    else:
                        body.update({name: (io.BytesIO(PNG), "photo.png") for name in page_form["files"]})
                        check("POST", action, data=body, content_type="multipart/form-data")
    assert submitted > 100
    assert errors == [], "\n".join(errors[:40])
