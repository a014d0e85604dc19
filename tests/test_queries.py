"""Pages run a fixed number of SQL queries, whatever the size of the course or the cohort."""
from datetime import time, timedelta

import pytest

from lms.auth.services import create_user
from lms.clock import local_today
from lms.curriculum.models import Course
from lms.curriculum.services import sync_curriculum
from lms.extensions import db
from lms.learning.services import assign_mentor, create_cohort, enrol_trainee, mark_module_done
from lms.schedule.services import SessionData, record_attendance, schedule_sessions, set_cohort_deadline
from tests.conftest import PASSWORD, count_queries, login

MODULE = """---
title: "Модуль {n}"
outcomes: ["Уметь {n}"]
estimated_minutes: 30
assignments:
  - id: task-{n}
    title: "Задание {n}"
    kind: text
    prompt: "Сделайте {n}."
    rubric:
      - criterion: "Полнота"
        points: 5
        levels: {{5: "Всё раскрыто", 4: "Почти всё", 3: "Половина", 2: "Меньше половины", 1: "Одна мысль", 0: "Ничего"}}
    pass_score: 3
---
## Раздел {n}

Текст модуля {n}.
"""


def build_programme(tmp_path, modules, trainees):
    folder = tmp_path / "courses" / "big"
    folder.mkdir(parents=True)
    (folder / "course.md").write_text('---\ntitle: "Большой"\nslug: big\nlanguage: ru\n---\nОбзор.\n')
    for n in range(1, modules + 1):
        (folder / f"{n:02d}-m{n}.md").write_text(MODULE.format(n=n), encoding="utf-8")
    assert sync_curriculum(tmp_path / "courses").ok
    course = db.session.scalar(db.select(Course).filter_by(slug="big"))
    cohort = create_cohort(course, "Группа")
    people = [create_user(f"t{i}@example.org", f"Слушатель {i}", ["trainee"], password=PASSWORD)
              for i in range(trainees)]
    for person in people:
        enrol_trainee(cohort, person)
        for module in course.modules[: len(course.modules) // 2]:
            mark_module_done(person, module)
    # The cohort's time grows with the course: a session a module (at most a series of 26), a due date each.
    mentor = create_user("m@example.org", "Наставник", ["mentor"], password=PASSWORD)
    assign_mentor(cohort, mentor)
    series = schedule_sessions(cohort, mentor, SessionData("seminar", "Семинар", local_today() - timedelta(days=1),
                                                           time(18), time(20)),
                               "weekly" if modules > 3 else "none", min(modules, 26))
    record_attendance(series[0], mentor, {p.id: "present" for p in people})
    for n, assignment in enumerate(a for m in course.modules for a in m.assignments):
        # Two already overdue, so that the mentor's start page lists everyone as falling behind.
        set_cohort_deadline(cohort, assignment, mentor, local_today() + timedelta(days=n - 2), None)
    db.session.commit()
    return people[0], mentor


queries_seen = {}
PAGES = ("/", "/courses/big", "/courses/big/m2", "/calendar")


def query_counts(app, tmp_path, modules, trainees):
    trainee, mentor = build_programme(tmp_path, modules, trainees)
    counts = {}
    for person, pages in ((trainee, PAGES), (mentor, ("/", "/calendar"))):
        client = app.test_client()
        login(client, person)
        for page in pages:
            client.get(page)  # warm up: compiled templates and the like
            with count_queries() as queries:
                assert client.get(page).status_code == 200
            counts[(person.email, page)] = queries.count
            queries_seen.setdefault((person.email, page), [s[:150] for s in queries.statements])
    return counts


@pytest.mark.parametrize("modules, trainees", [(60, 3), (3, 300)])
def test_page_queries_do_not_grow_with_data(app_factory, tmp_path, modules, trainees):
    small = query_counts(app_factory(), tmp_path / "small", 3, 3)
    large = query_counts(app_factory(), tmp_path / "large", modules, trainees)
    assert small == large
    assert max(large.values()) <= 8, (large, queries_seen)
