"""Syncing large courses: unchanged files cost one query, an edit costs the same few queries at any size."""
import dataclasses
import shutil

import pytest
from sqlalchemy import func, select

from lms.curriculum import loader
from lms.curriculum.loader import load_curriculum
from lms.curriculum.models import Assignment, Module
from lms.curriculum.services import sync_curriculum
from lms.extensions import db
from tests.conftest import FIXTURE_COURSES, count_queries

MODULE = """---
title: "Модуль {n}"
outcomes: ["Уметь {n}"]
estimated_minutes: 30
assignments:
  - id: task-{n}
    title: "Задание {n}"
    kind: text
    prompt: "Сделайте **{n}**."
    rubric:
      - criterion: "Полнота"
        points: 5
        levels: {{5: "Всё раскрыто", 4: "Почти всё", 3: "Половина", 2: "Меньше половины", 1: "Одна мысль", 0: "Ничего"}}
    pass_score: 3
  - id: quiz-{n}
    title: "Тест {n}"
    kind: quiz
    prompt: "Ответьте."
    pass_score: 1
    questions:
      - id: q1
        text: "Сколько?"
        options: ["{n}", "ноль"]
        answer: "{n}"
        explanation: "Потому что *{n}*."
practice:
  - id: practice-{n}
    title: "Практика {n}"
    activity_types: [workshop_class]
    min_hours: 2
    description: "Проведите занятие {n}."
---
## Раздел {n}

Текст модуля {n}.
"""


def write_course(folder, modules):
    course = folder / "big"
    course.mkdir(parents=True)
    (course / "course.md").write_text('---\ntitle: "Большой"\nslug: big\nlanguage: ru\n---\nОбзор.\n',
                                      encoding="utf-8")
    for n in range(1, modules + 1):
        (course / f"{n:02d}-m{n}.md").write_text(MODULE.format(n=n), encoding="utf-8")
    return course


def writes(statements):
    return [s for s in statements if s.split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]


def synced(folder):
    result = sync_curriculum(folder)
    assert result.ok, [str(p) for p in result.problems]
    db.session.commit()
    db.session.expunge_all()
    return result


@pytest.mark.parametrize("modules", [3, 60])
def test_unchanged_course_costs_one_query_and_no_writes_at_any_size(app, tmp_path, modules):
    write_course(tmp_path / "courses", modules)
    synced(tmp_path / "courses")
    with count_queries() as queries:
        result = synced(tmp_path / "courses")
    assert result.changed == []
    assert writes(queries.statements) == []
    assert queries.count == 1


@pytest.mark.parametrize("modules", [3, 60])
def test_editing_one_module_of_a_large_course_takes_a_fixed_number_of_queries(app, tmp_path, modules):
    course = write_course(tmp_path / "courses", modules)
    synced(tmp_path / "courses")
    path = course / "02-m2.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Текст модуля 2.", "Новый текст."), encoding="utf-8")
    with count_queries() as queries:
        result = synced(tmp_path / "courses")
    assert result.changed == ["big", "big/m2"]
    # the courses; the course again with its modules and their assignments; the course and the module updated
    assert queries.count == 6, queries.statements
    assert "Новый текст." in db.session.scalar(select(Module).filter_by(slug="m2")).body_html
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 2 * modules


def test_unchanged_course_still_gets_its_file_names_checked(app, tmp_path):
    course = write_course(tmp_path / "courses", 3)
    synced(tmp_path / "courses")
    (course / "заметки.md").write_text("черновик", encoding="utf-8")
    result = sync_curriculum(tmp_path / "courses")
    assert [str(p) for p in result.problems] == [
        "courses/big/заметки.md:1: a module file name must look like 'NN-module-slug.md' "
        "(two digits, latin lowercase letters, digits and hyphens)"]


def test_unchanged_files_are_checked_again_when_the_rules_change(app, tmp_path, monkeypatch):
    write_course(tmp_path / "courses", 3)
    synced(tmp_path / "courses")
    monkeypatch.setattr(loader, "ACTIVITY_TYPES", ("event_organisation",))
    monkeypatch.setattr(loader, "RULES", b"other rules")
    result = sync_curriculum(tmp_path / "courses")
    assert [str(p) for p in result.problems] == [
        f"courses/big/0{n}-m{n}.md:29: unknown activity type 'workshop_class' (known: event_organisation)"
        for n in (1, 2, 3)]


def test_deferred_rendering_gives_the_same_sources(tmp_path):
    shutil.copytree(FIXTURE_COURSES, tmp_path / "courses")
    rendered, _ = load_curriculum(tmp_path / "courses")
    deferred, _ = load_curriculum(tmp_path / "courses", render=False)
    assert deferred[0].overview_html == "" and deferred[0].modules[0].body_html == ""
    deferred[0].render()
    for module in deferred[0].modules:
        module.render()
    assert dataclasses.asdict(deferred[0]) == dataclasses.asdict(rendered[0])
    assert "<strong>" in rendered[0].overview_html


# --- the expected length of a written answer (`words: 1000-1500`) -----------------------------------------------

def _course_with(tmp_path, old, new):
    target = tmp_path / "courses"
    shutil.copytree(FIXTURE_COURSES, target)
    path = target / "fixture-course" / "01-intro.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def test_words_gives_a_written_answer_its_expected_length(app, tmp_path):
    courses = _course_with(tmp_path, "    kind: text\n", "    kind: text\n    words: 250-350\n")
    synced(courses)
    essay = db.session.scalar(select(Assignment).filter_by(key="intro-essay"))
    assert essay.spec["words"] == {"min": 250, "max": 350}
    assert "words" not in db.session.scalar(select(Assignment).filter_by(key="intro-quiz")).spec


RANGE = "'words' must be a range of words such as 1000-1500"


@pytest.mark.parametrize("old, new, message", [
    ("    kind: text\n", "    kind: text\n    words: 1500-1000\n", RANGE),
    ("    kind: text\n", "    kind: text\n    words: 1000\n", RANGE),
    ("    kind: text\n", "    kind: text\n    words: many\n", RANGE),
    ("    kind: text\n", "    kind: text\n    words: 0-100\n", "two whole numbers from 1 to 7000"),
    ("    kind: text\n", "    kind: text\n    words: 100-90000\n", "two whole numbers from 1 to 7000"),
    ("    kind: quiz\n", "    kind: quiz\n    words: 10-20\n", "'words' is the expected length of a written answer"),
])
def test_bad_words_values_are_sync_errors_and_change_nothing(app, tmp_path, old, new, message):
    synced(FIXTURE_COURSES)
    before = db.session.scalar(select(Assignment).filter_by(key="intro-essay")).spec
    result = sync_curriculum(_course_with(tmp_path, old, new))
    assert not result.ok
    problems = [str(p) for p in result.problems]
    assert any(message in p and "01-intro.md:" in p for p in problems), problems
    db.session.rollback()
    assert db.session.scalar(select(Assignment).filter_by(key="intro-essay")).spec == before
