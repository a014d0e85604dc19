"""Screenshots of a few pages at 360 px and 1280 px: `python docs/screenshots/take.py before|after`.

Starts a server like `make run` (migrations, the shipped course, demo accounts) on a throw-away database.
"""
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.browser.conftest import running_server  # noqa: E402  (the browser tests' server, started the same way)

OUT = Path(__file__).resolve().parent
PAGES = [  # (name, role or None, path)
    ("login", None, "/login"),
    ("trainee-start", "trainee", "/"),
    ("trainee-course", "trainee", "/courses/{course}"),
    ("mentor-start", "mentor", "/"),
    ("mentor-queue", "mentor", "/mentor/queue"),
    ("admin-report", "admin", "/admin/reports"),
]


def main(label):
    courses = ROOT / "courses"
    course = next(p.name for p in sorted(courses.iterdir()) if (p / "course.md").exists())
    with running_server(Path(tempfile.mkdtemp()), courses) as (base, found, _env):
        accounts = {}
        for email, (role, password) in sorted(found.items()):
            accounts.setdefault(role, (email, password))
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


if __name__ == "__main__":
    main(sys.argv[1])
