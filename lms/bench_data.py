"""Generated programmes of a given size for benchmarks (`flask lms bench-data --size S|M|L`).

Bulk inserts of realistic shapes: cohorts of about 100 trainees with a mentor each (L: 200 mentors), most work
approved and some waiting, modules read up to a point, and a long tail of trainees who log far more practice than
the rest. At M and L the first cohort has 300 trainees: the cohort matrix benchmark (S6) measures it.
"""
import random
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from lms.auth.models import User, UserRole
from lms.clock import local_today, utcnow
from lms.curriculum.models import Assignment, Course, Module
from lms.curriculum.services import sync_curriculum
from lms.extensions import db
from lms.grading.models import Submission
from lms.learning.models import Cohort, CohortMentor, Enrolment, ModuleProgress
from lms.practice.activities import ACTIVITY_TYPES, AUDIENCES
from lms.practice.models import PracticeEntry, PracticeEntryAudience, PracticeSite
from lms.practice.totals import rebuild_practice_totals
from lms.schedule.models import ATTENDANCE, AssignmentDeadline, Attendance, CohortSession

COHORT_SIZE = 100
BATCH = 20_000


@dataclass(frozen=True)
class Size:
    trainees: int
    mentors: int
    entries: int
    submissions: int
    modules: int
    first_cohort_size: int = COHORT_SIZE  # the other cohorts have COHORT_SIZE trainees


SIZES = {
    "XS": Size(trainees=20, mentors=2, entries=200, submissions=50, modules=4),
    "S": Size(trainees=100, mentors=2, entries=5_000, submissions=1_000, modules=12),
    "M": Size(trainees=1_000, mentors=20, entries=100_000, submissions=20_000, modules=24, first_cohort_size=300),
    "L": Size(trainees=10_000, mentors=200, entries=1_000_000, submissions=200_000, modules=60, first_cohort_size=300),
}

MODULE = """---
title: "Модуль {n}: практика соседского центра"
outcomes: ["Применить приёмы модуля {n} в своём районе"]
estimated_minutes: 60
assignments:
  - id: bench-task-{n}
    title: "Задание модуля {n}"
    kind: text
    prompt: "Опишите, как вы примените модуль {n}."
    rubric:
      - criterion: "Полнота"
        description: "Все пункты раскрыты"
        points: 5
        levels:
          5: "Все пункты раскрыты"
          4: "Почти всё"
          3: "Половина"
          2: "Меньше половины"
          1: "Одна мысль"
          0: "Ничего"
      - criterion: "Конкретность"
        description: "Есть примеры из района"
        points: 5
        levels:
          5: "Есть примеры из района"
          4: "Почти всё"
          3: "Половина"
          2: "Меньше половины"
          1: "Одна мысль"
          0: "Ничего"
    pass_score: 6
---
## Раздел {n}

{body}
"""


def _write_course(folder, modules):
    course = folder / "bench-course"
    course.mkdir(parents=True)
    (course / "course.md").write_text(
        '---\ntitle: "Нагрузочный курс"\nslug: bench-course\nlanguage: ru\ncertificate:\n'
        "  practice_hours: 72\n  min_activity_types: 4\n---\nКурс для замеров производительности.\n",
        encoding="utf-8")
    body = " ".join(["Соседский центр помогает жителям знакомиться и действовать вместе."] * 60)
    for n in range(1, modules + 1):
        (course / f"{n:02d}-module-{n}.md").write_text(MODULE.format(n=n, body=body), encoding="utf-8")


def cohort_sizes(size):
    """How many trainees each generated cohort holds: the first `size.first_cohort_size`, then COHORT_SIZE each."""
    first = min(size.trainees, size.first_cohort_size)
    rest = size.trainees - first
    return [first] + [min(COHORT_SIZE, rest - start) for start in range(0, rest, COHORT_SIZE)]


def _insert_rows(table, rows):
    """Insert rows (dicts with the same keys, every NOT NULL column given) into table in few round trips.

    PostgreSQL gets COPY: psycopg's executemany sends one statement a row, which made L take minutes. Elsewhere
    one executemany of the table's INSERT; the ORM's bulk insert would split the rows wherever the columns left
    None change, into thousands of small statements."""
    if not rows:
        return
    columns = list(rows[0])
    if db.engine.dialect.name == "postgresql":
        cursor = db.session.connection().connection.driver_connection.cursor()
        with cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
    else:
        db.session.execute(insert(table), rows)


def _skip_foreign_key_checks():
    """On PostgreSQL, as a superuser, skip foreign-key triggers until the commit (the rows are generated
    consistent): they took 60% of COPY's time. pg_dump --disable-triggers restores the same way."""
    if db.engine.dialect.name == "postgresql" and db.session.scalar(
            db.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")):
        db.session.execute(db.text("SET LOCAL session_replication_role = replica"))


def _heavy_tail(rng, ids, count):
    """Trainee ids for `count` rows: a Pareto weighting, so a few trainees log many entries."""
    weights = [rng.paretovariate(1.2) for _ in ids]
    return rng.choices(ids, weights=weights, k=count)


def _add_schedule(rng, cohorts, cohort_of, assignments, today, now):
    """Each cohort's year: a fortnightly seminar (attendance taken for those past) and a due date per assignment."""
    members = {}
    for trainee, cohort in cohort_of.items():
        members.setdefault(cohort, []).append(trainee)
    first_session = db.session.scalar(select(func.coalesce(func.max(CohortSession.id), 0)))
    db.session.execute(insert(CohortSession), [
        {"cohort_id": c, "kind": "seminar", "title": f"Семинар {n + 1}", "place": "Соседский центр",
         "starts_at": now - timedelta(days=350 - 14 * n), "ends_at": now - timedelta(days=350 - 14 * n, hours=-2),
         "online_url": "", "note": "", "created_at": now} for c in cohorts for n in range(30)])
    past = db.session.execute(select(CohortSession.id, CohortSession.cohort_id).where(
        CohortSession.id > first_session, CohortSession.starts_at < now)).all()
    rows = [{"session_id": s, "trainee_id": t, "status": rng.choices(ATTENDANCE, weights=(80, 8, 8, 4))[0],
             "marked_at": now} for s, c in past for t in members.get(c, [])]
    for start in range(0, len(rows), BATCH):
        _insert_rows(Attendance.__table__, rows[start:start + BATCH])
    db.session.execute(insert(AssignmentDeadline), [
        {"cohort_id": c, "assignment_id": a, "due_at": now - timedelta(days=300 - 5 * n)}
        for c in cohorts for n, a in enumerate(assignments)])


def generate_dataset(size_name, progress=None, seed=7):
    """Add a generated programme of the named size to the database and commit. Returns the Size."""
    size = SIZES[size_name]
    report = progress or (lambda message: None)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        _write_course(Path(folder), size.modules)
        result = sync_curriculum(folder)
        if not result.ok:
            raise RuntimeError("; ".join(str(p) for p in result.problems))
    db.session.commit()
    _skip_foreign_key_checks()
    course = db.session.scalar(select(Course).where(Course.slug == "bench-course"))
    assignments = db.session.scalars(select(Assignment.id).where(Assignment.course_id == course.id)).all()
    now, today = utcnow(), local_today()
    offset = db.session.scalar(select(func.count()).select_from(User))

    def add_users(count, prefix, role):
        start = db.session.scalar(select(func.coalesce(func.max(User.id), 0)))
        db.session.execute(insert(User), [
            {"email": f"{prefix}{offset + i}@bench.example.org", "name": f"{prefix.title()} {offset + i}",
             "active": True, "session_version": 1, "created_at": now} for i in range(count)])
        ids = db.session.scalars(select(User.id).where(User.id > start).order_by(User.id)).all()
        db.session.execute(insert(UserRole), [{"user_id": i, "role": role} for i in ids])
        return ids

    trainees = add_users(size.trainees, "trainee", "trainee")
    mentors = add_users(size.mentors, "mentor", "mentor")
    report(f"{len(trainees)} trainees, {len(mentors)} mentors")
    sizes = cohort_sizes(size)
    first_cohort = db.session.scalar(select(func.coalesce(func.max(Cohort.id), 0)))
    db.session.execute(insert(Cohort), [{"course_id": course.id, "name": f"Нагрузочная группа {n + 1}",
                                         "starts_on": today - timedelta(days=365), "created_at": now}
                                        for n in range(len(sizes))])
    cohorts = db.session.scalars(select(Cohort.id).where(Cohort.id > first_cohort).order_by(Cohort.id)).all()
    db.session.execute(insert(CohortMentor), [{"cohort_id": c, "mentor_id": mentors[n % len(mentors)]}
                                              for n, c in enumerate(cohorts)])
    cohort_of = dict(zip(trainees, [cohort for cohort, count in zip(cohorts, sizes, strict=True)
                                    for _ in range(count)], strict=True))
    db.session.execute(insert(Enrolment), [{"trainee_id": t, "cohort_id": c, "enrolled_at": now}
                                           for t, c in cohort_of.items()])
    site_names = [f"Площадка {n}" for n in range(12)]
    existing = set(db.session.scalars(select(PracticeSite.name)))
    db.session.execute(insert(PracticeSite), [
        {"name": name, "slug": f"bench-site-{n}", "kind": rng.choice(("centre", "library", "ngo", "business", "school")),
         "address": "", "contact_name": "", "contact_email": "", "active": True, "created_at": now}
        for n, name in enumerate(site_names) if name not in existing])
    sites = db.session.scalars(select(PracticeSite.id).where(PracticeSite.name.in_(site_names))).all()

    attempts = {}
    lateness = random.Random(seed + 2)  # its own sequence: the rows stay the ones earlier versions generated
    for start in range(0, size.submissions, BATCH):
        rows = []
        for trainee in _heavy_tail(rng, trainees, min(BATCH, size.submissions - start)):
            assignment = rng.choice(assignments)
            attempt = attempts.get((trainee, assignment), 0) + 1
            attempts[(trainee, assignment)] = attempt
            status = rng.choices(("passed", "submitted", "returned", "failed"), weights=(75, 15, 7, 3))[0]
            submitted = now - timedelta(days=rng.randrange(300), minutes=rng.randrange(1440))
            rows.append({"assignment_id": assignment, "trainee_id": trainee, "attempt": attempt, "status": status,
                         "answer_markdown": "Ответ", "answer_html": "<p>Ответ</p>", "feedback_markdown": "",
                         "feedback_html": "", "score": None if status == "submitted" else rng.randrange(4, 11),
                         "submitted_at": submitted, "graded_at": None if status == "submitted" else submitted,
                         "created_at": submitted, "version": 1, "late": lateness.random() < 0.1})
        _insert_rows(Submission.__table__, rows)
        report(f"{start + len(rows)} submissions")

    first_entry = db.session.scalar(select(func.coalesce(func.max(PracticeEntry.id), 0)))
    for start in range(0, size.entries, BATCH):
        rows = []
        for trainee in _heavy_tail(rng, trainees, min(BATCH, size.entries - start)):
            status = rng.choices(("approved", "submitted", "returned", "draft"), weights=(80, 12, 4, 4))[0]
            day = today - timedelta(days=rng.randrange(365))
            rows.append({"trainee_id": trainee, "cohort_id": cohort_of[trainee], "site_id": rng.choice(sites),
                         "date": day, "minutes": rng.choice((60, 90, 120, 180)),
                         "activity_type": rng.choice(ACTIVITY_TYPES), "participants": rng.randrange(60),
                         "status": status, "created_at": now,
                         "submitted_at": None if status == "draft" else now - timedelta(days=rng.randrange(300)),
                         "description_markdown": "Описание", "description_html": "<p>Описание</p>",
                         "reflection_markdown": "Рефлексия", "reflection_html": "<p>Рефлексия</p>",
                         "mentor_comment_markdown": "", "mentor_comment_html": "", "version": 1})
        _insert_rows(PracticeEntry.__table__, rows)
        report(f"{start + len(rows)} practice entries")
    entry_ids = db.session.scalars(select(PracticeEntry.id).where(PracticeEntry.id > first_entry)).all()
    for start in range(0, len(entry_ids), BATCH):
        _insert_rows(PracticeEntryAudience.__table__, [
            {"entry_id": e, "audience": rng.choice(AUDIENCES), "participants": rng.randrange(40)}
            for e in entry_ids[start:start + BATCH]])
    # Each trainee has read the first few modules, from none to all of them. Its own random sequence, so the
    # rows above are the ones earlier versions generated.
    reading = random.Random(seed + 1)
    modules = db.session.scalars(select(Module.id).where(Module.course_id == course.id).order_by(Module.position)).all()
    read = [{"trainee_id": t, "module_id": m, "completed_at": now - timedelta(days=reading.randrange(300))}
            for t in trainees for m in modules[:reading.randrange(len(modules) + 1)]]
    for start in range(0, len(read), BATCH):
        _insert_rows(ModuleProgress.__table__, read[start:start + BATCH])
    report(f"{len(read)} modules read")
    _add_schedule(random.Random(seed + 3), cohorts, cohort_of, assignments, today, now)
    rebuild_practice_totals()
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # VACUUM as well: index-only scans need the visibility map, which autovacuum would set only later.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(db.text("VACUUM ANALYZE"))
    else:
        # Without statistics SQLite's planner reads a mentor's queue from everyone's waiting answers
        # (690 ms at L instead of 11 ms).
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
    return size
