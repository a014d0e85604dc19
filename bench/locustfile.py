"""The cohort-start load (issue 23): trainees, mentors and an administrator with think time between clicks.

Run by bench/capacity.py (Locust headless, pinned to the core gunicorn does not use), which prepares the accounts
and writes them to the JSON file named by LMS_LOAD_ACCOUNTS: a session cookie and CSRF token per account (as a
browser keeps them after signing in), the course's modules and assignments, the practice sites, each cohort's
discussion thread. The mix and think times are explained in bench/README.md.
"""
import json
import os
import random
import re
from itertools import count
from pathlib import Path

from locust import FastHttpUser, between, task

DATA = json.loads(Path(os.environ["LMS_LOAD_ACCOUNTS"]).read_text())
PASSWORD = DATA["password"]
NEXT = {kind: count() for kind in ("trainee", "mentor", "admin")}
PHOTO = bytes.fromhex(DATA["photo_hex"])
# A reader stays on a page for tens of seconds to minutes; 5-25 s (15 s on average) is a busy cohort, on purpose.
THINK = between(5, 25)


def _account(kind):
    """Each simulated person is a different account, as at a real cohort start."""
    pool = DATA[kind]
    return pool[next(NEXT[kind]) % len(pool)]


class Person(FastHttpUser):
    abstract = True
    kind = None
    wait_time = THINK

    def on_start(self):
        self.account = dict(_account(self.kind))
        self.account["open_assignments"] = list(self.account.get("open_assignments", []))
        self.headers = {"User-Agent": DATA["user_agent"]}
        if self.account.get("signs_in"):  # a share signs in now; the others kept yesterday's session
            page = self.client.get("/login", name="sign-in page", headers=self.headers)
            self.post("/login", "sign in", {"email": self.account["email"], "password": PASSWORD},
                      csrf=_csrf(page.text))
            self.account["csrf"] = _csrf(self.get("/", "start page").text)
        else:
            self.client.cookiejar.set_cookie(_cookie(self.account["cookie"]))

    def get(self, path, name):
        return self.client.get(path, name=name, headers=self.headers)

    def post(self, path, name, data, files=None, csrf=None, expect=(302,)):
        """A form sent with the page's token, as the browser does; a redirect is a form's success (a page shown
        again holds its error), 200 an autosave's; `expect` adds the refusals a person can meet."""
        data = {**data, "csrf_token": csrf or self.account["csrf"]}
        with self.client.post(path, name=name, headers=self.headers, data=data, files=files,
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code in expect:
                response.success()  # Locust counts any 4xx as failed unless told
            else:
                response.failure(f"answered {response.status_code}")
            return response


class Trainee(Person):
    weight = 95
    kind = "trainee"

    @task(6)
    def read_module(self):
        self.get(random.choice(DATA["module_paths"]), "module page")

    @task(3)
    def start_page(self):
        self.get("/", "start page")

    @task(2)
    def save_draft(self):
        """Autosave of the answer being written: the next written assignment this trainee has not handed in."""
        if self.account["open_assignments"]:
            self._draft(self.account["open_assignments"][0], "Во дворе на Филёвской прошла встреча. " * 8)

    @task(1)
    def hand_in(self):
        if self.account["open_assignments"]:
            assignment = self.account["open_assignments"].pop(0)
            if self._draft(assignment, "Мой ответ о соседском центре. " * 10):
                self.post(assignment + "/hand-in", "hand in an answer", {})

    def _draft(self, assignment, text):
        """Save a draft; False when the assignment no longer takes answers (409, its cut-off passed in the generated
        schedule), which a person meets as a message, not an error: it is dropped from the list."""
        response = self.post(assignment + "/draft", "save a draft", {"answer": text}, expect=(200, 409))
        if response.status_code == 409:
            if assignment in self.account["open_assignments"]:
                self.account["open_assignments"].remove(assignment)
            return False
        return True

    @task(2)
    def log_practice(self):
        self.get("/practice/new", "practice entry form")
        entry = {"site": random.choice(DATA["sites"]), "date": DATA["today"], "duration": 90,
                 "activity_type": "event_organisation", "audience": "adults", "aud-adults": 12,
                 "description": "Провёл встречу жителей двора.", "reflection": "Пришло больше людей.",
                 "action": "submit"}
        photo = random.random() < 0.3
        self.post("/practice/new", "log practice with a photo" if photo else "log practice", entry,
                  files={"files": ("photo.jpg", PHOTO, "image/jpeg")} if photo else None)

    @task(2)
    def discussions(self):
        self.get(self.account["thread"], "discussion thread")

    @task(1)
    def notifications(self):
        self.get("/notifications", "notifications")

    @task(1)
    def calendar(self):
        self.get("/calendar", "calendar")


class Mentor(Person):
    weight = 5
    kind = "mentor"

    @task(4)
    def queue(self):
        self.get("/mentor/queue", "grading queue")

    @task(2)
    def grade(self):
        """Open the queue, then its first answer, and return it for revision with the page's version."""
        queue = self.get("/mentor/queue", "grading queue")
        found = re.search(r'href="(/mentor/submissions/\d+)[^"]*"', queue.text or "")
        if not found:
            return
        page = self.get(found.group(1), "answer to grade")
        version = re.search(r'name="version" value="(\d+)"', page.text or "")
        if version:
            self.post(found.group(1), "grade an answer", {"decision": "return", "version": version.group(1),
                                                          "feedback": "Раскройте, пожалуйста, второй пункт."})

    @task(1)
    def approve_practice(self):
        self.get("/mentor/practice/approve", "practice to approve")


class Administrator(Person):
    fixed_count = 2
    kind = "admin"

    @task(2)
    def matrix(self):
        self.get(DATA["matrix_path"], "progress matrix")

    @task(1)
    def report(self):
        self.get("/admin/reports", "programme report")


def _csrf(html):
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html or "")
    return found.group(1) if found else ""


def _cookie(value):
    from http.cookiejar import Cookie

    return Cookie(0, "session", value, None, False, "127.0.0.1", False, False, "/", True, False, None, False, None,
                  None, {})
