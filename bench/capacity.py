"""Capacity (issue 23): how many people working at once one core holds, with p95 under 200 ms and no errors.

gunicorn runs the app on core 0 as in bench/load.py; Locust (bench/locustfile.py, headless) runs on core 1 and
plays the cohort-start mix with think time. Each step starts a fresh Locust run with more simulated people,
spawns them all, resets its statistics, then holds for BENCH_HOLD seconds: the step's p50, p95 and requests per
second are the steady state at that many people. Steps go up (BENCH_USERS) until p95 reaches 200 ms or a request
fails; the capacity is the last step that passed. `measure(url, options)` runs on a database bench/load.py has
filled (its accounts and the work S3 and S5 left); `chart(results, path)` draws users against latency.
"""
import csv
import io
import json
import os
import subprocess
import tempfile
from pathlib import Path

from flask import g, session
from flask_login import login_user
from flask_wtf.csrf import generate_csrf
from PIL import Image
from sqlalchemy import exists, select, update

from lms import create_app
from lms.auth.models import User, UserRole, find_user_by_email
from lms.auth.services import create_user, hash_password
from lms.clock import local_today
from lms.curriculum.models import Assignment, Course, Module
from lms.discussions.models import DiscussionThread
from lms.discussions.services import start_thread
from lms.extensions import db
from lms.grading.models import Submission
from lms.learning.models import Cohort, CohortMentor, Enrolment
from lms.practice.models import PracticeSite

ROOT = Path(__file__).resolve().parent.parent
STEPS = [int(n) for n in os.environ.get("BENCH_USERS", "250,500,1000,2000,3000").split(",")]
HOLD_SECONDS = int(os.environ.get("BENCH_HOLD", "40"))
SPAWN_RATE = 25  # people arriving per second: a step of 2,000 has arrived after 80 s
P95_LIMIT_MS = 200
# The share of people who sign in as they arrive; the others kept their session from an earlier day. A sign-in
# checks an argon2id hash (64 MiB, three passes): about half a second of the core here, so a step's arrivals are
# spread (SPAWN_RATE) and one in fifty signs in, about one sign-in every two seconds.
SIGNS_IN = 0.02
ADMINS = 2
# Four sync workers share the core: a sign-in or the programme report then holds up one of them, not everyone's
# pages behind it (one worker measured a p50 of 100 ms at 3 requests per second for that reason).
WORKERS = ["--workers", "4"]
WARM_UP = 100  # people for 20 s before the first step, not counted


def prepare_accounts(url, user_agent, password, path, progress=print):
    """Write what the simulated people need to path: every trainee, mentor and two administrators with a session
    cookie and its CSRF token made as signing in makes them, one in ten with a password to sign in for real."""
    from load import config_for  # noqa: PLC0415  (bench/ is on the path when run by bench/run.py)

    app = create_app(config_for(url))
    with app.app_context():
        admins = [find_user_by_email(f"capacity-admin{n}@example.org")
                  or create_user(f"capacity-admin{n}@example.org", f"Администратор {n}", ["admin"])
                  for n in range(ADMINS)]
        db.session.flush()
        course = db.session.scalar(select(Course).where(Course.slug == "bench-course"))
        modules = db.session.scalars(select(Module.slug).where(Module.course_id == course.id)
                                     .order_by(Module.position)).all()
        texts = db.session.execute(select(Assignment.id, Module.slug, Assignment.key).join(Module).where(
            Assignment.course_id == course.id, Assignment.kind == "text")).all()
        threads = dict(db.session.execute(select(DiscussionThread.cohort_id, DiscussionThread.id)).all())
        cohorts = db.session.scalars(select(Cohort).where(Cohort.course_id == course.id)).all()
        for cohort in cohorts:
            if cohort.id not in threads:
                threads[cohort.id] = start_thread(cohort, admins[0], "С чего начать?", "Расскажите о своём дворе.").id
        role = select(UserRole.user_id).where(UserRole.role == "trainee", UserRole.user_id == User.id)
        trainees = db.session.execute(select(User, Enrolment.cohort_id).join(Enrolment, Enrolment.trainee_id ==
                                                                             User.id).where(exists(role))).all()
        mentors = db.session.scalars(select(User).where(exists(select(CohortMentor.mentor_id).where(
            CohortMentor.mentor_id == User.id)))).all()
        done = set(db.session.execute(select(Submission.trainee_id, Submission.assignment_id)).all())
        signing_in = [user.id for n, (user, _c) in enumerate(trainees) if n % round(1 / SIGNS_IN) == 0]
        db.session.execute(update(User).where(User.id.in_(signing_in)).values(password_hash=hash_password(password)))
        db.session.commit()
        base = f"/courses/{course.slug}"
        data = {"password": password, "user_agent": user_agent, "today": local_today().isoformat(),
                "module_paths": [f"{base}/{slug}" for slug in modules],
                "sites": db.session.scalars(select(PracticeSite.id).where(PracticeSite.active)).all(),
                "matrix_path": f"/admin/cohorts/{cohorts[0].id}", "photo_hex": _photo().hex(),
                "trainee": [], "mentor": [], "admin": []}
        for user, cohort_id in trainees:
            account = _signed_in(app, user, user_agent)
            account.update(thread=f"/discussions/{threads[cohort_id]}", signs_in=user.id in signing_in,
                           open_assignments=[f"{base}/{slug}/assignments/{key}" for aid, slug, key in texts
                                             if (user.id, aid) not in done])
            data["trainee"].append(account)
        data["mentor"] = [_signed_in(app, user, user_agent) for user in mentors]
        data["admin"] = [_signed_in(app, user, user_agent) for user in admins]
        db.session.commit()
    Path(path).write_text(json.dumps(data))
    progress(f"  capacity: {len(data['trainee'])} trainees, {len(data['mentor'])} mentors, {ADMINS} administrators")


def _signed_in(app, user, user_agent):
    """The session cookie a browser holds after signing in as user, and the CSRF token of its pages."""
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": user_agent}):
        g.pop(app.config["WTF_CSRF_FIELD_NAME"], None)  # g is the app context's: it kept the last account's token
        login_user(user)
        token = generate_csrf()
        cookie = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    return {"email": user.email, "cookie": cookie, "csrf": token}


def _photo():
    """A phone photo's worth of JPEG (about 100 KB) for the entries logged with a picture."""
    picture = Image.effect_noise((640, 480), 60).convert("RGB")
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=80)
    return out.getvalue()


def run_step(base_url, users, accounts, hold=HOLD_SECONDS):
    """One Locust run with `users` people: spawned, statistics reset, held. Returns the step's figures."""
    folder = Path(tempfile.mkdtemp(prefix="locust-"))
    spawn = -(-users // SPAWN_RATE)
    command = ["taskset", "-c", "1", str(ROOT / ".venv" / "bin" / "locust"),
               "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--host", base_url,
               "--users", str(users), "--spawn-rate", str(SPAWN_RATE),
               "--run-time", f"{spawn + hold}s", "--reset-stats", "--csv", str(folder / "step"),
               "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5"]
    subprocess.run(command, env={**os.environ, "LMS_LOAD_ACCOUNTS": str(accounts)}, capture_output=True,
                   text=True, timeout=spawn + hold + 120)
    with open(folder / "step_stats.csv", newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    total = rows.pop("Aggregated")
    failures = {}
    with open(folder / "step_failures.csv", newline="") as f:
        for row in csv.DictReader(f):
            failures[f"{row['Name']}: {row['Error']}"] = int(row["Occurrences"])
    return {"users": users, "rps": round(float(total["Requests/s"]), 1), "requests": int(total["Request Count"]),
            "failures": int(total["Failure Count"]), "p50_ms": _ms(total["50%"]), "p95_ms": _ms(total["95%"]),
            "p99_ms": _ms(total["99%"]), "failed": failures,
            "pages": {name: {"requests": int(r["Request Count"]), "p50_ms": _ms(r["50%"]), "p95_ms": _ms(r["95%"])}
                      for name, r in rows.items() if int(r["Request Count"])}}


def _ms(value):
    """A percentile from Locust's CSV; a step in which nothing was answered counts as past any limit."""
    return float(value) if value not in ("", "N/A") else float("inf")


def measure(url, server, progress=print):
    """Steps of people against the running server until one misses; returns every step and the capacity."""
    from load import PASSWORD, USER_AGENT  # noqa: PLC0415

    accounts = Path(tempfile.mkdtemp()) / "accounts.json"
    prepare_accounts(url, USER_AGENT, PASSWORD, accounts, progress)
    run_step(server.url, WARM_UP, accounts, hold=20)  # every page once in each worker: templates compiled
    steps, held = [], None
    for users in STEPS:
        step = run_step(server.url, users, accounts)
        step["database_locked"] = server.locked_errors()
        steps.append(step)
        progress(f"  {users} people: {step['rps']:.0f} req/s, p50 {step['p50_ms']:.0f} ms, "
                 f"p95 {step['p95_ms']:.0f} ms, {step['failures']} failed, {step['database_locked']} locked")
        if step["p95_ms"] >= P95_LIMIT_MS or step["failures"] or step["database_locked"]:
            break
        held = step
    return {"steps": steps, "users_per_core": held["users"] if held else 0, "rps": held["rps"] if held else 0,
            "hold_seconds": HOLD_SECONDS, "think_seconds": "5-25"}


def chart(results, path):
    """users against p50 and p95 for each database, with the 200 ms line: where the knee is, at a glance."""
    import pygal  # noqa: PLC0415

    plot = pygal.XY(title="People working at once on one core: latency", x_title="people", y_title="ms",
                    dots_size=3, show_legend=True, legend_at_bottom=True, range=(0, 400), width=800, height=450)
    for database, result in results.items():
        steps = result["steps"]
        plot.add(f"{database} p95", [(s["users"], s["p95_ms"]) for s in steps])
        plot.add(f"{database} p50", [(s["users"], s["p50_ms"]) for s in steps], stroke_style={"dasharray": "4,4"})
    users = [s["users"] for r in results.values() for s in r["steps"]] or [0]
    plot.add("200 ms", [(0, P95_LIMIT_MS), (max(users), P95_LIMIT_MS)], show_dots=False,
             stroke_style={"width": 1})
    Path(path).write_bytes(plot.render())


def main():
    """Capacity alone, on a database the bench filled (BENCH_DATABASE_URL, BENCH_SIZE): its figures replace those
    in bench/results/<size>-<database>.json, and the chart is drawn again from every result of that size."""
    import load  # noqa: PLC0415

    url, size = os.environ["BENCH_DATABASE_URL"], os.environ.get("BENCH_SIZE", "L")
    database = "sqlite" if url.startswith("sqlite") else "postgresql"
    server = load.Server("wsgi:app", load.server_env(url), ROOT, WORKERS)
    try:
        people = measure(url, server)
    finally:
        server.stop()
    results = ROOT / "bench" / "results"
    out = results / f"{size}-{database}.json"
    result = json.loads(out.read_text())
    result["capacity"] = people
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    measured = {}
    for name in ("sqlite", "postgresql"):
        path = results / f"{size}-{name}.json"
        if path.exists() and json.loads(path.read_text()).get("capacity"):
            measured[name] = json.loads(path.read_text())["capacity"]
    chart(measured, results / f"{size}-capacity.svg")


if __name__ == "__main__":
    import sys

    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    main()
