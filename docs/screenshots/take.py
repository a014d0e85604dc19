"""Screenshots of a few pages at 360 px and 1280 px: `python docs/screenshots/take.py before|after`.

Starts a server like `make run` (migrations, the shipped course, demo accounts) on a throw-away database.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
PAGES = [  # (name, role or None, path)
    ("login", None, "/login"),
    ("trainee-start", "trainee", "/"),
    ("trainee-course", "trainee", "/courses/{course}"),
    ("mentor-start", "mentor", "/"),
    ("mentor-queue", "mentor", "/mentor/queue"),
    ("admin-report", "admin", "/admin/reports"),
]


def flask(env, *args):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True, timeout=300).stdout


def main(label):
    home = Path(tempfile.mkdtemp())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{home / 'lms.sqlite3'}", "SECRET_KEY": "screenshots",
           "LMS_BASE_URL": f"http://127.0.0.1:{port}"}
    flask(env, "db", "upgrade")
    flask(env, "lms", "sync-courses")
    demo = flask(env, "lms", "demo", "--if-no-users")
    accounts = {}
    for role, email, password in re.findall(r"^(trainee|mentor|admin) (\S+@\S+) (\S+)$", demo, re.M):
        accounts.setdefault(role, (email, password))
    course = next(p.name for p in sorted((ROOT / "courses").iterdir()) if (p / "course.md").exists())
    server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-background-networking"])
            for width, height in ((360, 740), (1280, 800)):
                contexts = {}
                for name, role, path in PAGES:
                    if role not in contexts:
                        contexts[role] = browser.new_context(viewport={"width": width, "height": height},
                                                             locale="ru-RU")
                        if role:
                            page = contexts[role].new_page()
                            page.goto(base + "/login")
                            email, password = accounts[role]
                            page.fill("input[name=email]", email)
                            page.fill("input[name=password]", password)
                            page.click("form[action$='/login'] button[type=submit]")
                            page.wait_for_load_state()
                            page.close()
                    page = contexts[role].new_page()
                    page.goto(base + path.format(course=course))
                    page.screenshot(path=str(OUT / f"{label}-{name}-{width}.png"),
                                    full_page=width == 1280, clip=None if width == 1280 else
                                    {"x": 0, "y": 0, "width": width, "height": height})
                    page.close()
                for context in contexts.values():
                    context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main(sys.argv[1])
