"""Programme report over a year of a large programme, and a cohort matrix of 300 trainees.

5,000 trainees in 50 cohorts, 200,000 practice-log entries (BENCH_ENTRIES), bulk-inserted. Uses a temporary
SQLite database, or BENCH_DATABASE_URL (for example a fresh PostgreSQL database).
"""
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text  # noqa: E402

from config import TestConfig  # noqa: E402
from lms import create_app  # noqa: E402
from lms.admin.matrix import cohort_matrix  # noqa: E402
from lms.auth.models import User, UserRole  # noqa: E402
from lms.clock import local_today, utcnow  # noqa: E402
from lms.curriculum.models import Course  # noqa: E402
from lms.curriculum.services import sync_curriculum  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.learning.models import Cohort, Enrolment  # noqa: E402
from lms.practice.activities import ACTIVITY_TYPES, AUDIENCES  # noqa: E402
from lms.practice.models import PracticeEntry, PracticeEntryAudience, PracticeSite  # noqa: E402
from lms.reports.services import programme_report  # noqa: E402

TRAINEES = int(os.environ.get("BENCH_TRAINEES", 5000))
ENTRIES = int(os.environ.get("BENCH_ENTRIES", 200_000))
COHORT_SIZE = 100


def populate():
    random.seed(7)
    sync_curriculum(Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "courses")
    course = db.session.scalar(select(Course))
    now, today = utcnow(), local_today()
    db.session.execute(insert(User), [{"email": f"t{i}@example.org", "name": f"Слушатель {i}", "active": True,
                                       "session_version": 1, "created_at": now} for i in range(TRAINEES)])
    ids = db.session.scalars(select(User.id).order_by(User.id)).all()
    db.session.execute(insert(UserRole), [{"user_id": i, "role": "trainee"} for i in ids])
    db.session.execute(insert(Cohort), [{"course_id": course.id, "name": f"Группа {n:02d}", "created_at": now}
                                        for n in range(-(-TRAINEES // COHORT_SIZE))])
    cohorts = db.session.scalars(select(Cohort.id).order_by(Cohort.id)).all()
    cohort_of = {trainee: cohorts[n // COHORT_SIZE] for n, trainee in enumerate(ids)}
    db.session.execute(insert(Enrolment), [{"trainee_id": t, "cohort_id": c, "enrolled_at": now}
                                           for t, c in cohort_of.items()])
    db.session.execute(insert(PracticeSite), [{"name": f"Площадка {n}", "kind": "centre", "address": "",
                                               "contact_name": "", "contact_email": "", "active": True,
                                               "created_at": now} for n in range(8)])
    sites = db.session.scalars(select(PracticeSite.id)).all()
    for start in range(0, ENTRIES, 20_000):
        rows = []
        for _ in range(min(20_000, ENTRIES - start)):
            trainee = random.choice(ids)
            rows.append({"trainee_id": trainee, "cohort_id": cohort_of[trainee], "site_id": random.choice(sites),
                         "date": today - timedelta(days=random.randrange(365)), "minutes": random.choice((60, 90, 120)),
                         "activity_type": random.choice(ACTIVITY_TYPES), "participants": random.randrange(40),
                         "status": "approved" if random.random() < 0.85 else "submitted", "created_at": now,
                         "description_markdown": "", "description_html": "", "reflection_markdown": "",
                         "reflection_html": "", "mentor_comment_markdown": "", "mentor_comment_html": "",
                         "version": 1})
        db.session.execute(insert(PracticeEntry), rows)
    entry_ids = db.session.scalars(select(PracticeEntry.id)).all()
    for start in range(0, len(entry_ids), 20_000):
        db.session.execute(insert(PracticeEntryAudience), [
            {"entry_id": e, "audience": random.choice(AUDIENCES), "participants": random.randrange(30)}
            for e in entry_ids[start:start + 20_000]])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return today, db.session.get(Cohort, cohorts[0])


def timed(label, function, runs=5):
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    print(f"{label}: median {statistics.median(timings):.0f} ms, best {min(timings):.0f} ms ({runs} runs)")


def profile_queries(function):
    """Print each SQL statement's time: where a slow page spends it."""
    from sqlalchemy import event

    def before(conn, cursor, statement, parameters, context, executemany):
        context.started = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        print(f"  {(time.perf_counter() - context.started) * 1000:7.1f} ms  {' '.join(statement.split())[:110]}")

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    try:
        function()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)


def main():
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        today, cohort = populate()
        print(f"{db.engine.dialect.name}: {TRAINEES} trainees, {ENTRIES} practice entries generated in "
              f"{time.perf_counter() - started:.1f} s")
        timed("programme report, one year", lambda: programme_report(today - timedelta(days=364), today))
        if os.environ.get("BENCH_PROFILE"):
            profile_queries(lambda: programme_report(today - timedelta(days=364), today))
        timed("programme report, one year, one cohort",
              lambda: programme_report(today - timedelta(days=364), today, cohort=cohort))
        big = db.session.scalar(select(Cohort).order_by(Cohort.id))
        extra = db.session.scalars(select(Enrolment).where(Enrolment.cohort_id != big.id).limit(200)).all()
        for enrolment in extra:
            enrolment.cohort_id = big.id
        db.session.commit()
        timed("cohort matrix, 300 trainees", lambda: cohort_matrix(big))
        db.session.remove()  # its open read transaction would block dropping the tables
        db.drop_all()


if __name__ == "__main__":
    main()
