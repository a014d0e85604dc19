"""The curriculum loader and sync: validation messages, transactions, sanitising, stable ids."""
import shutil

import pytest
from sqlalchemy import event, func, select

from lms.curriculum.loader import load_curriculum
from lms.curriculum.models import Assignment, Course, Module
from lms.curriculum.services import sync_curriculum
from lms.extensions import db
from lms.grading.models import Submission
from tests.conftest import FIXTURE_COURSES

INTRO = "courses/fixture-course/01-intro.md"


@pytest.fixture
def courses(tmp_path):
    """A writable copy of the fixture curriculum in <tmp>/courses."""
    target = tmp_path / "courses"
    shutil.copytree(FIXTURE_COURSES, target)
    return target


def edit(courses, name, old, new, course="fixture-course"):
    path = courses / course / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems(courses):
    return [str(p) for p in load_curriculum(courses)[1]]


def test_fixture_course_loads_cleanly(courses):
    sources, found = load_curriculum(courses)
    assert found == []
    (course,) = sources
    assert [m.slug for m in course.modules] == ["intro", "events", "partners"]
    assert [a.key for a in course.modules[0].assignments] == ["intro-essay", "intro-quiz"]
    assert course.certificate == {"required_assignments": ["intro-essay", "intro-quiz"], "practice_hours": 10,
                                  "min_activity_types": 2}


@pytest.mark.parametrize("old, new, expected", [
    ('title: "Введение"\n', "", f"{INTRO}:2: 'title' is required and must be text"),
    ("estimated_minutes: 30", "estimated_minutes: soon",
     f"{INTRO}:6: 'estimated_minutes' is required and must be a whole number of at least 1"),
    ("    kind: text", "    kind: essay", f"{INTRO}:10: 'kind' must be one of: text, file, quiz"),
    ("  - id: intro-quiz", "  - id: intro-essay",
     f"{INTRO}:21: id 'intro-essay' is already used in {INTRO}"),
    ("  - id: intro-quiz", "  - id: Intro Quiz",
     f"{INTRO}:21: 'id' is required: latin lowercase letters, digits and hyphens, at most 80"),
    ("        points: 5\n      - criterion: \"Конкретность\"", "        points: 0\n      - criterion: \"Конкретность\"",
     f"{INTRO}:16: 'points' is required and must be a whole number of at least 1"),
    ("    pass_score: 6", "    pass_score: 11",
     f"{INTRO}:20: 'pass_score' 11 is more than the rubric's total of 10 points"),
    ('answer: "Связи и доверие"', 'answer: "Доверие"', f"{INTRO}:37: answer 'Доверие' is not one of the options"),
    ('options: ["Деньги", "Связи и доверие"]', 'options: ["Связи и доверие", "Связи и доверие"]',
     f"{INTRO}:36: two options of this question are the same"),
    ("    counts: best", "    counts: first", f"{INTRO}:26: 'counts' must be 'best' or 'last'"),
    ("    attempts: 2", "    attempts: 0", f"{INTRO}:25: 'attempts' must be a whole number of at least 1"),
    ("    pass_score: 1", "    pass_score: 3", f"{INTRO}:27: 'pass_score' 3 is more than the 2 questions of the quiz"),
    ("activity_types: [outreach_survey]", "activity_types: [outreach]",
     f"{INTRO}:42: unknown activity type 'outreach' (known: event_organisation, event_facilitation, "
     "resident_consultation, outreach_survey, partner_meeting, workshop_class, volunteer_coordination, "
     "digital_moderation, centre_administration)"),
    ("audiences: [adults]", "audiences: [grownups]",
     f"{INTRO}:43: unknown audience 'grownups' (known: children_teens, youth, adults, pensioners, "
     "parents_on_leave, local_business)"),
    ("    min_hours: 2", "    min_hours: -1", f"{INTRO}:44: 'min_hours' is required and must be a positive number"),
    ("estimated_minutes: 30", "estimated_minutes: 30\ntitel: typo",
     f"{INTRO}:7: unknown field 'titel' (allowed: assignments, estimated_minutes, outcomes, practice, title)"),
    ("outcomes:\n", "outcomes: [unclosed\n", f"{INTRO}:6: YAML error: expected ',' or ']', but got ':'"),
    ("    rubric:", "    questions: []\n    rubric:",
     f"{INTRO}:13: 'questions' belongs to quizzes, not to 'text' assignments"),
])
def test_module_validation_rules(courses, old, new, expected):
    edit(courses, "01-intro.md", old, new)
    assert expected in problems(courses)


def test_course_validation_rules(courses):
    edit(courses, "course.md", "slug: fixture-course", "slug: other-slug")
    edit(courses, "course.md", "[intro-essay, intro-quiz]", "[intro-essay, missing-task]")
    assert problems(courses) == [
        "courses/fixture-course/course.md:3: slug 'other-slug' must match the folder name 'fixture-course'",
        "courses/fixture-course/course.md:6: required assignment 'missing-task' is not an active assignment "
        "of this course",
    ]


def test_missing_course_file_and_bad_module_names(courses):
    (courses / "fixture-course" / "course.md").unlink()
    (courses / "empty-course").mkdir()
    shutil.copy(courses / "fixture-course" / "03-partners.md", courses / "fixture-course" / "3-partners.md")
    found = problems(courses)
    assert "courses/empty-course:1: course.md is missing" in found
    assert "courses/fixture-course:1: course.md is missing" in found


def test_module_numbers_must_be_unique_and_well_formed(courses):
    folder = courses / "fixture-course"
    shutil.copy(folder / "03-partners.md", folder / "02-other.md")
    shutil.copy(folder / "03-partners.md", folder / "4-partners.md")
    assert problems(courses) == [
        "courses/fixture-course/02-other.md:1: module number 02 is already used by "
        "courses/fixture-course/02-events.md",
        "courses/fixture-course/4-partners.md:1: a module file name must look like 'NN-module-slug.md' "
        "(two digits, latin lowercase letters, digits and hyphens)",
    ]


def test_every_problem_is_reported_at_once(courses):
    edit(courses, "01-intro.md", "    kind: text", "    kind: essay")
    edit(courses, "02-events.md", "    pass_score: 6", "    pass_score: 60")
    edit(courses, "03-partners.md", "estimated_minutes: 20", "estimated_minutes: 0")
    assert len(problems(courses)) == 3


def test_file_without_front_matter(courses):
    (courses / "fixture-course" / "03-partners.md").write_text("## Только текст\n", encoding="utf-8")
    assert problems(courses) == ["courses/fixture-course/03-partners.md:1: the file must start with YAML "
                                 "front matter between '---' lines"]


def test_sync_loads_and_unchanged_resync_writes_nothing(app, courses):
    assert sync_curriculum(courses).ok
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Module)) == 3
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 3

    writes = []

    def watch(conn, cursor, statement, *args):
        if statement.split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        result = sync_curriculum(courses)
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    assert result.ok and result.changed == []
    assert writes == []


def test_editing_text_keeps_assignment_identity(app, courses):
    sync_curriculum(courses)
    db.session.commit()
    before = db.session.scalar(select(Assignment).filter_by(key="intro-essay"))
    edit(courses, "01-intro.md", "Опишите свой район в 300 словах.", "Опишите свой район в 500 словах.")
    result = sync_curriculum(courses)
    db.session.commit()
    assert result.changed == ["fixture-course", "fixture-course/intro"]
    after = db.session.scalar(select(Assignment).filter_by(key="intro-essay"))
    assert after.id == before.id
    assert "500 словах" in after.prompt_html


def _submit(course_key, trainee):
    assignment = db.session.scalar(select(Assignment).filter_by(key=course_key))
    db.session.add(Submission(assignment=assignment, trainee_id=trainee.id))
    db.session.commit()


REMOVE_ESSAY = ("  - id: intro-essay", "  - id: intro-essay-old")


def test_removing_an_assignment_with_submissions_is_refused(app, courses, make_user):
    sync_curriculum(courses)
    db.session.commit()
    trainee = make_user()
    _submit("intro-essay", trainee)
    edit(courses, "01-intro.md", "  - id: intro-essay\n", "  - id: intro-essay-2\n")
    edit(courses, "course.md", "[intro-essay, intro-quiz]", "[intro-essay-2, intro-quiz]")
    result = sync_curriculum(courses)
    assert [str(p) for p in result.problems] == [
        f"{INTRO}:1: assignment 'intro-essay' was removed but has 1 submission(s); keep it in the file "
        "with 'retired: true'"]
    db.session.rollback()
    assert db.session.scalar(select(Assignment).filter_by(key="intro-essay")) is not None
    assert db.session.scalar(select(Assignment).filter_by(key="intro-essay-2")) is None


def test_retired_assignment_keeps_its_submissions(app, courses, make_user):
    sync_curriculum(courses)
    db.session.commit()
    _submit("intro-essay", make_user())
    edit(courses, "01-intro.md", "    kind: text\n", "    kind: text\n    retired: true\n")
    edit(courses, "course.md", "[intro-essay, intro-quiz]", "[intro-quiz]")
    assert sync_curriculum(courses).ok
    db.session.commit()
    essay = db.session.scalar(select(Assignment).filter_by(key="intro-essay"))
    assert essay.retired
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 1


def test_removing_an_unused_assignment_and_module_deletes_them(app, courses):
    sync_curriculum(courses)
    db.session.commit()
    (courses / "fixture-course" / "02-events.md").unlink()
    assert sync_curriculum(courses).ok
    db.session.commit()
    assert db.session.scalar(select(Assignment).filter_by(key="events-plan")) is None
    assert [m.slug for m in db.session.scalars(select(Module).order_by(Module.position))] == ["intro", "partners"]


def test_sync_failing_half_way_changes_nothing(app, courses, make_user, runner):
    runner.app.config["LMS_COURSES_DIR"] = str(courses)
    assert runner.invoke(args=["lms", "sync-courses"]).exit_code == 0
    _submit("intro-essay", make_user())
    # A new course sorts first and is loaded before the broken one fails.
    shutil.copytree(courses / "fixture-course", courses / "a-course")
    edit(courses, "course.md", "slug: fixture-course", "slug: a-course", course="a-course")
    edit(courses, "01-intro.md", "  - id: intro-essay\n", "  - id: intro-essay-2\n")
    edit(courses, "course.md", "[intro-essay, intro-quiz]", "[intro-essay-2, intro-quiz]")
    counts = [db.session.scalar(select(func.count()).select_from(m)) for m in (Course, Module, Assignment)]

    result = runner.invoke(args=["lms", "sync-courses"])

    assert result.exit_code == 1
    assert "a-course/intro: added" in result.output
    assert f"{INTRO}:1: assignment 'intro-essay' was removed" in result.output
    assert "nothing was changed" in result.output
    db.session.expire_all()
    assert [db.session.scalar(select(func.count()).select_from(m)) for m in (Course, Module, Assignment)] == counts
    assert db.session.scalar(select(Course).filter_by(slug="a-course")) is None


def test_check_changes_nothing(app, courses, runner):
    runner.app.config["LMS_COURSES_DIR"] = str(courses)
    result = runner.invoke(args=["lms", "sync-courses", "--check"])
    assert result.exit_code == 0, result.output
    assert "Check passed" in result.output
    assert db.session.scalar(select(func.count()).select_from(Course)) == 0


def test_cli_prints_every_problem_and_fails(app, courses, runner):
    runner.app.config["LMS_COURSES_DIR"] = str(courses)
    edit(courses, "01-intro.md", "    kind: text", "    kind: essay")
    edit(courses, "02-events.md", "    pass_score: 6", "    pass_score: 60")
    result = runner.invoke(args=["lms", "sync-courses", "--check"])
    assert result.exit_code == 1
    assert f"{INTRO}:10: 'kind' must be one of: text, file, quiz" in result.output
    assert "courses/fixture-course/02-events.md:18: 'pass_score' 60 is more than the rubric's total of 10 points" \
        in result.output


XSS = """
<script>alert('x')</script>
<img src="x" onerror="alert(1)">
<a href="#" onclick="alert(2)">click</a>
[js link](javascript:alert(3))
[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==)
<iframe src="https://evil.example"></iframe>
<a href="JaVaScRiPt:alert(5)">caps</a>
"""


def test_markdown_payloads_come_out_inert(app, courses):
    path = courses / "fixture-course" / "03-partners.md"
    path.write_text(path.read_text(encoding="utf-8") + XSS, encoding="utf-8")
    edit(courses, "01-intro.md", "Опишите свой район в 300 словах.", "Опишите <script>alert(6)</script>район.")
    assert sync_curriculum(courses).ok
    db.session.commit()
    html = db.session.scalar(select(Module).filter_by(slug="partners")).body_html
    prompt = db.session.scalar(select(Assignment).filter_by(key="intro-essay")).prompt_html
    for fragment in ("<script", "onerror", "onclick", "javascript:", "data:text", "<iframe", "<img"):
        assert fragment not in html.lower()
        assert fragment not in prompt.lower()
    assert "js link" in html  # the text stays, the link goes


def test_rendered_module_has_table_of_contents_tables_and_admonitions(app, course):
    intro = db.session.scalar(select(Module).filter_by(slug="intro"))
    assert "<table>" in intro.body_html
    assert 'href="#зачем-нужен-центр"' in intro.toc_html
    assert 'id="зачем-нужен-центр"' in intro.body_html
    events = db.session.scalar(select(Module).filter_by(slug="events"))
    assert '<div class="admonition tip">' in events.body_html
