"""Logging practice offline: entries a phone queued arrive once (the idempotency key), the app's manifest, service
worker and offline page. The browser side is tests/browser/test_offline_flow.py."""
import io
import json
import threading
import uuid

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.practice.models import PracticeEntry
from tests.conftest import csrf_token, login
from tests.test_grading import PNG
from tests.test_practice import form, log_entry, site  # noqa: F401  (the site fixture)


def send_queued(client, owner, place, key=None, files=(), **overrides):
    data = {**form(place, **overrides), "idempotency_key": key or str(uuid.uuid4()), "owner": str(owner.id),
            "csrf_token": csrf_token(client, "/"),
            "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/practice/queued", data=data, content_type="multipart/form-data")


def entries():
    return db.session.scalar(select(func.count()).select_from(PracticeEntry))


def test_the_same_key_twice_makes_one_entry_and_names_it_both_times(client, people, site):  # noqa: F811
    login(client, people.trainee)
    key = str(uuid.uuid4())
    first = send_queued(client, people.trainee, site, key, files=[("фото.png", PNG)])
    again = send_queued(client, people.trainee, site, key, files=[("фото.png", PNG)])
    assert first.status_code == again.status_code == 200
    assert first.json == again.json
    entry = db.session.scalar(select(PracticeEntry))
    assert entries() == 1 and first.json == {"id": entry.id, "url": f"/practice/{entry.id}"}
    assert (entry.idempotency_key, entry.status, [a.filename for a in entry.attachments]) == \
        (key, "submitted", ["фото.png"])


def test_the_form_posted_twice_with_the_service_worker_s_key_makes_one_entry(client, people, site):  # noqa: F811
    """The service worker adds a key to the form it posts: a post it keeps after a lost answer finds the entry."""
    login(client, people.trainee)
    key = str(uuid.uuid4())
    first = log_entry(client, site, idempotency_key=key)
    again = log_entry(client, site, idempotency_key=key)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert send_queued(client, people.trainee, site, key).json["url"] == first.headers["Location"]
    assert entries() == 1


def test_a_refused_entry_answers_with_the_message_for_its_field(client, people, site):  # noqa: F811
    login(client, people.trainee)
    response = send_queued(client, people.trainee, site, start_time="12:00", end_time="11:00")
    assert response.status_code == 400
    assert response.json == {"errors": {"end_time": "Конец должен быть позже начала."}}
    assert entries() == 0


def test_a_queue_is_sent_only_by_its_owner_and_a_key_shows_no_one_else_s_entry(app, people, site):  # noqa: F811
    trainee, outsider = app.test_client(), app.test_client()
    login(trainee, people.trainee)
    login(outsider, people.other)
    key = str(uuid.uuid4())
    assert send_queued(trainee, people.trainee, site, key).status_code == 200
    refused = send_queued(outsider, people.trainee, site)  # the first trainee's queue, someone else signed in
    assert refused.status_code == 409 and "id" not in refused.json
    stolen = send_queued(outsider, people.other, site, key)
    assert stolen.status_code == 409 and set(stolen.json) == {"error"}
    assert send_queued(trainee, people.trainee, site, "short").status_code == 400
    assert entries() == 1


def test_an_expired_session_is_sent_to_sign_in_and_keeps_nothing(client, people, site):  # noqa: F811
    token = csrf_token(client)
    response = client.post("/practice/queued", data={"csrf_token": token, "idempotency_key": str(uuid.uuid4())})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_two_requests_with_one_key_at_the_same_moment_make_one_entry(app, people, site):  # noqa: F811
    """Two truly concurrent transactions (PostgreSQL): the second waits for the first and answers with its entry."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs two truly concurrent connections: PostgreSQL")
    clients = [app.test_client() for _ in range(2)]
    for each in clients:
        login(each, people.trainee)
    key, barrier, answers = str(uuid.uuid4()), threading.Barrier(2), []
    forms = [{**form(site, start_time=None, end_time=None, duration="60"), "idempotency_key": key,
              "owner": str(people.trainee.id), "csrf_token": csrf_token(each, "/practice/new")} for each in clients]

    def send(each, data):
        with app.app_context():
            barrier.wait()
            answers.append(each.post("/practice/queued", data=data))

    threads = [threading.Thread(target=send, args=pair) for pair in zip(clients, forms, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json == answers[1].json and entries() == 1


def test_manifest_names_the_app_in_russian_with_its_icons(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["name"] == "Школа менеджеров соседских сообществ" and manifest["lang"] == "ru"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/", "/", "standalone")
    icons = {(icon["sizes"], icon.get("purpose", "any")): icon["src"] for icon in manifest["icons"]}
    assert set(icons) == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for src in icons.values():
        assert client.get(src).status_code == 200


def test_service_worker_is_served_from_the_root_and_every_page_links_the_manifest(client, people):
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"
    assert b"importScripts" in worker.data
    for path in ("/login", "/offline"):
        assert '<link rel="manifest" href="/manifest.webmanifest">' in client.get(path).get_data(as_text=True)


def test_offline_page_links_to_the_practice_log(client, people):
    login(client, people.trainee)
    page = client.get("/offline").get_data(as_text=True)
    assert "Нет соединения" in page and 'href="/practice"' in page and "<script" not in page
