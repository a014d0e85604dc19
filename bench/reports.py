"""S6 and S7 of issue 8: the cohort matrix of a 300-trainee cohort and the programme report over everything;
S14 and S15 of issue 17: the curriculum page, and its check button with the programme's course unchanged and with
one of its modules edited.

Both are whole page renders through a test client signed in as an administrator, so the queries, the Python
that shapes the figures and the templates all count. Measured against a database already filled by
lms.bench_data.generate_dataset (`flask lms bench-data --size L`, whose first cohort has 300 trainees).

    measure(app, runs=5) -> {name: {"ms": median, "best_ms": ..., "queries": n, "target_ms": ...}}

Standalone: `python bench/reports.py` uses BENCH_DATABASE_URL (filled already, or filled here with BENCH_SIZE,
default S, when it has no users), else a temporary SQLite database filled with BENCH_SIZE.
BENCH_PROFILE=1 prints each query's time for one render of each page.
"""
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func, select  # noqa: E402

from config import TestConfig  # noqa: E402
from lms import create_app  # noqa: E402
from lms.auth.models import User, UserRole  # noqa: E402
from lms.auth.services import create_user  # noqa: E402
from lms.bench_data import generate_dataset  # noqa: E402
from lms.curriculum.services import sync_curriculum  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.grading.models import Submission  # noqa: E402
from lms.learning.models import Enrolment, ModuleProgress  # noqa: E402
from lms.practice.models import PracticeEntry  # noqa: E402

BENCH_ADMIN = "bench-reports-admin@example.org"


def _subjects():
    """The largest cohort (the generated 300), an administrator to sign in as, and the period from the first
    to the last day anything happened: the report over the whole programme."""
    cohort_id = db.session.execute(select(Enrolment.cohort_id).group_by(Enrolment.cohort_id)
                                   .order_by(func.count().desc(), Enrolment.cohort_id).limit(1)).scalar()
    admin = db.session.scalar(select(User).join(UserRole).where(UserRole.role == "admin", User.active.is_(True))
                              .order_by(User.id).limit(1))
    if admin is None:
        admin = create_user(BENCH_ADMIN, "Администратор замеров", ["admin"])
        db.session.commit()
    bounds = db.session.execute(select(*(
        select(aggregate(column)).scalar_subquery()
        for column in (PracticeEntry.date, Submission.submitted_at, ModuleProgress.completed_at)
        for aggregate in (func.min, func.max)))).one()
    days = [value.date() if isinstance(value, datetime) else value for value in bounds if value is not None]
    return cohort_id, admin.get_id(), min(days), max(days)


class _Queries:
    """Counts (and with timings=True times) the statements sent to the database."""

    def __init__(self, engine, timings=False):
        self.engine, self.timings, self.count, self.log = engine, timings, 0, []

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        context._bench_started = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.log.append(((time.perf_counter() - context._bench_started) * 1000, " ".join(statement.split())))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def _page(client, engine, url, runs, target_ms, profile):
    response = client.get(url)  # warm up: compiled templates, statement caches, the database's pages
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code}")
    with _Queries(engine) as queries:
        client.get(url)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    if profile:
        with _Queries(engine) as timed:
            started = time.perf_counter()
            client.get(url)
            total = (time.perf_counter() - started) * 1000
        print(f"{url}: {total:.0f} ms, of which SQL {sum(ms for ms, _s in timed.log):.0f} ms")
        for ms, statement in timed.log:
            print(f"  {ms:7.1f} ms  {statement[:110]}")
    return {"ms": round(statistics.median(timings), 1), "best_ms": round(min(timings), 1),
            "queries": queries.count, "target_ms": target_ms, "url": url}


def _check(client, runs):
    """The curriculum page's check button, as the administrator presses it: a POST that validates every course."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.post("/admin/curriculum", data={"action": "check"})
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"POST /admin/curriculum: {response.status_code}")
    return {"ms": round(statistics.median(timings), 1), "best_ms": round(min(timings), 1), "target_ms": 1000}


def _curriculum(app, client, engine, runs, profile):
    """S14 and S15 over a copy of the programme's own courses/, synced once into this database."""
    folder = Path(tempfile.mkdtemp())
    try:
        shutil.copytree(Path(__file__).resolve().parent.parent / "courses", folder / "courses")
        courses = folder / "courses"
        app.config["LMS_COURSES_DIR"], app.config["WTF_CSRF_ENABLED"] = str(courses), False
        with app.app_context():
            if not sync_curriculum(str(courses)).ok:
                raise RuntimeError("courses/ does not sync")
            db.session.commit()
        results = {"S14 curriculum page": _page(client, engine, "/admin/curriculum", runs, 150, profile),
                   "S15 curriculum check, nothing changed": _check(client, runs)}
        module = sorted(courses.glob("*/[0-9][0-9]-*.md"))[0]
        module.write_text(module.read_text(encoding="utf-8") + "\nПравка.\n", encoding="utf-8")
        results["S15 curriculum check, one module edited"] = _check(client, runs)
        return results
    finally:
        shutil.rmtree(folder)


def measure(app, runs=5):
    """S6, S7, S14 and S15 on the database of app, already filled by generate_dataset."""
    profile = bool(os.environ.get("BENCH_PROFILE"))
    gc.freeze()  # as wsgi.py does after start-up: the collector's full passes would scan everything loaded so far
    with app.app_context():
        cohort_id, admin_id, first, last = _subjects()
        engine = db.engine
        postgresql = engine.dialect.name == "postgresql"
        db.session.remove()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = admin_id, True
    return {
        "S6 cohort matrix (300 trainees)": _page(client, engine, f"/admin/cohorts/{cohort_id}", runs, 150, profile),
        "S7 programme report (whole dataset)": _page(
            client, engine, f"/admin/reports?start={first.isoformat()}&end={last.isoformat()}", runs,
            500 if postgresql else 1000, profile),
        **_curriculum(app, client, engine, runs, profile),
    }


def main():
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    app = create_app(config)
    with app.app_context():
        db.create_all()  # nothing when the schema is there
        if not db.session.scalar(select(func.count()).select_from(User)):
            size = os.environ.get("BENCH_SIZE", "S")
            started = time.perf_counter()
            generate_dataset(size)
            print(f"{db.engine.dialect.name}: size {size} generated in {time.perf_counter() - started:.1f} s")
        dialect = db.engine.dialect.name
        db.session.remove()
    for name, result in measure(app).items():
        verdict = "ok" if result["ms"] <= result["target_ms"] else "MISSED"
        print(f"{dialect} {name}: median {result['ms']:.0f} ms, best {result['best_ms']:.0f} ms, "
              f"{result.get('queries', '-')} queries (target {result['target_ms']} ms: {verdict})")


if __name__ == "__main__":
    main()
