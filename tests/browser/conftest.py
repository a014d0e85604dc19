"""A real server started like `make run` (migrations, course sync, demo accounts) and a Chromium to drive it.

Chromium comes from Debian (`apt-get install chromium`); Playwright's own browser download does not
work on our machines. Locally the browser tests skip when it is missing; in CI (CI=true) that fails.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _flask(env, *args):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True, timeout=120)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(home, courses=ROOT / "tests" / "fixtures" / "courses"):
    """Base URL, demo accounts {email: (role, password)} and environment of a freshly set-up server in `home`,
    serving the curriculum in `courses` (docs/screenshots/take.py passes the shipped one)."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{home / 'lms.sqlite3'}", "LMS_COURSES_DIR": str(courses),
           "SECRET_KEY": "browser-test-secret", "LMS_BASE_URL": f"http://127.0.0.1:{port}"}
    env.pop("TEST_DATABASE_URL", None)
    _flask(env, "db", "upgrade")
    _flask(env, "lms", "sync-courses")
    demo = _flask(env, "lms", "demo", "--if-no-users").stdout
    accounts = {email: (role, password) for role, email, password in
                re.findall(r"^(trainee|mentor|admin) (\S+@\S+) (\S+)$", demo, re.M)}
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if urllib.request.urlopen(base + "/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start")
        yield base, accounts, env
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Base URL, demo accounts {email: (role, password)} and environment of a freshly set-up server."""
    with running_server(tmp_path_factory.mktemp("server")) as started:
        yield started


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing: .ci/run must install Debian's chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(10000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def server_app(server):
    """An app on the server's database, for tests to prepare data through the services."""
    from config import Config
    from lms import create_app

    _base, _accounts, env = server
    config = type("ServerConfig", (Config,), {"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
                                               "SECRET_KEY": env["SECRET_KEY"], "LMS_BASE_URL": env["LMS_BASE_URL"],
                                               "ARGON2_PROFILE": "CHEAPEST"})
    return create_app(config)


def open_menu(page):
    """On a phone the navigation, the account and the language switch sit in the header's menu: open it."""
    menu = page.locator("details.menu")
    if menu.count() and menu.is_visible() and menu.get_attribute("open") is None:
        menu.locator("summary").click()
