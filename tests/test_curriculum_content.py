"""The shipped course in courses/ is complete and loads cleanly.

Only this module looks at the real curriculum; every other test uses tests/fixtures/courses, so
editing the curriculum never breaks them.
"""
import re
from pathlib import Path

import pytest

from lms.curriculum.loader import load_curriculum
from lms.curriculum.services import sync_curriculum
from lms.extensions import db

COURSES = Path(__file__).resolve().parent.parent / "courses"


@pytest.fixture(scope="module")
def course():
    sources, problems = load_curriculum(COURSES)
    assert [str(p) for p in problems] == []
    (course,) = [c for c in sources if c.slug == "community-manager"]
    return course


def words(markdown):
    return len(re.findall(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", markdown))


def test_the_course_has_at_least_twelve_modules_in_order(course):
    assert course.title == "Менеджер соседского сообщества"
    assert course.language == "ru"
    assert len(course.modules) >= 12
    assert [m.position for m in course.modules] == list(range(1, len(course.modules) + 1))


def test_each_module_has_outcomes_substance_tool_and_case(course):
    for module in course.modules:
        assert 3 <= len(module.outcomes) <= 6, module.slug
        assert words(module.body_markdown) >= 900, (module.slug, words(module.body_markdown))
        assert re.search(r"^## Кейс", module.body_markdown, re.M), module.slug
        assert module.estimated_minutes > 0


def test_each_module_has_a_graded_task_and_a_quiz(course):
    for module in course.modules:
        tasks = [a for a in module.assignments if a.kind in ("text", "file")]
        quizzes = [a for a in module.assignments if a.kind == "quiz"]
        assert tasks and quizzes, module.slug
        for task in tasks:
            assert 3 <= len(task.spec["rubric"]) <= 5, task.key
            assert all(c["description"] for c in task.spec["rubric"]), task.key
        for quiz in quizzes:
            assert 5 <= len(quiz.spec["questions"]) <= 8, quiz.key
            for question in quiz.spec["questions"]:
                assert set(question["answers"]) <= set(question["options"]), (quiz.key, question["id"])
                assert question["explanation_html"], (quiz.key, question["id"])


def test_each_module_has_field_practice_and_the_hours_add_up(course):
    assert all(module.practice for module in course.modules)
    total = sum(task["min_hours"] for module in course.modules for task in module.practice)
    required = course.certificate["practice_hours"]
    assert required == 72
    assert total >= required
    kinds = {kind for module in course.modules for task in module.practice for kind in task["activity_types"]}
    assert len(kinds) >= course.certificate["min_activity_types"]


def test_certificate_requires_every_practical_task(course):
    practical = [a.key for m in course.modules for a in m.assignments if a.kind in ("text", "file")]
    assert course.certificate["required_assignments"] == practical


def test_the_course_syncs_into_the_database(app):
    result = sync_curriculum(COURSES)
    assert result.ok, [str(p) for p in result.problems]
    db.session.commit()
