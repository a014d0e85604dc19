"""Several app hosts behind one PostgreSQL and one Redis (docs/deploy.md): a session, a rate limit and an
upload work across two app processes. Runs on PostgreSQL (TEST_DATABASE_URL) with Redis on 127.0.0.1:6379."""
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import make_url, select

from lms.extensions import db
from lms.grading.models import SubmissionFile
from tests.conftest import PASSWORD
from tests.test_grading import PDF

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_or_skip():
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.flushdb()
        return client
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not running on 127.0.0.1:6379: .ci/run must start it")
        pytest.skip("Redis is not running on 127.0.0.1:6379")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def two_hosts(app, people):
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "postgresql":
        pytest.skip("several app hosts need a shared database server: run with TEST_DATABASE_URL")
    _redis_or_skip()
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "shared-secret",
           "RATELIMIT_STORAGE_URI": REDIS_URL, "LMS_SIGNING_KEY_PATH": app.config["LMS_SIGNING_KEY_PATH"]}
    hosts, processes = [], []
    for _ in range(2):
        port = _free_port()
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)]
        processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        hosts.append(f"http://127.0.0.1:{port}")
    try:
        for host in hosts:
            for _ in range(100):
                try:
                    urllib.request.urlopen(host + "/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
        yield hosts
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


class Browser:
    """A cookie jar shared by requests to any host, as one browser behind a load balancer."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, url):
        try:
            response = self.opener.open(url, timeout=10)
            return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def post(self, url, data=None, body=None, content_type=None):
        if body is None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            content_type = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
        try:
            response = self.opener.open(request, timeout=10)
            return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def token(self, url):
        html = self.get(url)[1].decode()
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

    def login(self, host, email, password):
        token = self.token(host + "/login")
        return self.post(host + "/login", {"email": email, "password": password, "csrf_token": token})


def test_session_rate_limit_and_upload_work_across_two_hosts(two_hosts, people):
    first, second = two_hosts
    browser = Browser()  # cookies are per host name: both hosts are 127.0.0.1, as behind one load balancer
    status, _body = browser.login(first, people.trainee.email, PASSWORD)
    assert status == 200  # redirected to the dashboard and followed
    status, body = browser.get(second + "/")
    assert status == 200 and "Анна Соседова" in body.decode()

    boundary = uuid.uuid4().hex
    assignment = "/courses/fixture-course/events/assignments/events-plan"
    token = browser.token(first + assignment)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"plan.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode() + PDF + f"\r\n--{boundary}--\r\n".encode()
    status, _body = browser.post(first + assignment, body=body,
                                 content_type=f"multipart/form-data; boundary={boundary}")
    assert status == 200
    db.session.expire_all()
    upload = db.session.scalar(select(SubmissionFile))
    status, data = browser.get(f"{second}/files/{upload.id}")
    assert status == 200 and data == PDF

    attacker = Browser()
    for host in (first, second, first, second, first):
        assert attacker.login(host, people.mentor.email, "wrong password")[0] == 200
    assert attacker.login(second, people.mentor.email, "wrong password")[0] == 429
