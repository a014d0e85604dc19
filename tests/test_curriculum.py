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
     f"{INTRO}:7: unknown field 'titel' (allowed: assignments, estimated_minutes, files, outcomes, practice, title)"),
    ("outcomes:\n", "outcomes: [unclosed\n", f"{INTRO}:6: YAML error: expected ',' or ']', but got ':'"),
    ("    rubric:", "    questions: []\n    rubric:",
     f"{INTRO}:13: 'questions' belongs to quizzes, not to 'text' assignments"),
    ('        levels: {5: "Названы жители, места и проблемы", 4: "Не хватает одного из трёх", '
     '3: "Названы два из трёх", 2: "Названо одно, подробно", 1: "Названо одно, вскользь", 0: "Ничего не названо"}\n',
     '        description: "Без уровней"\n',
     f"{INTRO}:14: 'levels' is required: a descriptor for every score from 5 down to 0"),
    (' 4: "Не хватает одного из трёх",', "", f"{INTRO}:15: no descriptor for 4 point(s): describe every score from 5 "
                                             "down to 0"),
    (' 4: "Не хватает одного из трёх",', ' 4: "",', f"{INTRO}:15: the descriptor for 4 point(s) must be text"),
    (' 4: "Не хватает одного из трёх",', ' 7: "Сверх",', f"{INTRO}:15: the keys of 'levels' must be whole numbers "
                                                       "from 0 to 5"),
    ('        points: 5\n      - criterion: "Конкретность"', '        points: 5\n        critical: yes please\n'
     '      - criterion: "Конкретность"', f"{INTRO}:17: 'critical' must be true or false"),
])
def test_module_validation_rules(courses, old, new, expected):
    edit(courses, "01-intro.md", old, new)
    assert expected in problems(courses)


PARTNERS = "courses/fixture-course/03-partners.md"


@pytest.mark.parametrize("old, new, expected", [
    ("path: files/pamyatka.pdf", "path: files/../01-intro.md",
     f"{PARTNERS}:7: 'files/../01-intro.md' is outside the course's files/ folder"),
    ("path: files/pamyatka.pdf", "path: /etc/passwd",
     f"{PARTNERS}:7: 'path' is required: a file in the course's files/ folder, e.g. files/consent.docx"),
    ("path: files/pamyatka.pdf", "path: files/missing.pdf", f"{PARTNERS}:7: 'files/missing.pdf' does not exist"),
    ("path: files/pamyatka.pdf", "path: files/notes.txt",
     f"{PARTNERS}:7: 'files/notes.txt': only .pdf, .docx, .odt, .xlsx, .ods files can be offered"),
    ("path: files/pamyatka.pdf", "path: files/fake.docx", f"{PARTNERS}:7: 'files/fake.docx' is not a real DOCX file"),
    ('    title: "Памятка партнёру"\n', "", f"{PARTNERS}:7: 'title' is required and must be text"),
])
def test_module_files_must_be_real_documents_inside_the_course(courses, old, new, expected):
    (courses / "fixture-course" / "files" / "notes.txt").write_text("заметки")
    (courses / "fixture-course" / "files" / "fake.docx").write_bytes(b"%PDF-1.4 not a docx")
    edit(courses, "03-partners.md", old, new)
    assert expected in problems(courses)


def test_a_module_slug_cannot_hide_a_course_page(courses):
    shutil.copy(courses / "fixture-course" / "03-partners.md", courses / "fixture-course" / "04-files.md")
    assert problems(courses) == ["courses/fixture-course/04-files.md:1: 'files' cannot be a module slug: the course "
                                 "has a page of that name"]


PLAN = """sessions:
  - kind: seminar
    title: "Вводный интенсив"
    week: 1
    day: 6
    start: "11:00"
    end: "17:00"
    module: intro
  - kind: case_club
    title: "Кейс-клуб"
    week: 2
    day: 3
    start: "19:00"
    end: "21:00"
    every_weeks: 2
    until_week: 8
"""


def test_the_course_plan_of_sessions_loads(courses):
    edit(courses, "course.md", "  min_activity_types: 2\n", "  min_activity_types: 2\n" + PLAN)
    (course,), found = load_curriculum(courses)
    assert found == []
    assert course.sessions[1] == {"kind": "case_club", "title": "Кейс-клуб", "week": 2, "day": 3, "start": "19:00",
                                  "end": "21:00", "module": None, "every_weeks": 2, "until_week": 8, "note": ""}


@pytest.mark.parametrize("old, new, expected", [
    ("kind: seminar", "kind: lecture", ":10: 'kind' must be one of: seminar, supervision, case_club, excursion, other"),
    ("day: 6", "day: 8", ":13: 'day' is the day of the week: 1 (Monday) to 7 (Sunday)"),
    ('end: "17:00"', 'end: "10:00"', ":15: 'end' must be after 'start'"),
    ('start: "11:00"', 'start: "11 am"', ":14: 'start' must be a time as \"HH:MM\""),
    ("module: intro", "module: nowhere", ":16: module 'nowhere' is not a module of this course"),
    ("    until_week: 8\n", "", ":17: a repeated session needs both 'every_weeks' and 'until_week'"),
    ("until_week: 8", "until_week: 1", ":24: 'until_week' must be after 'week' and at most 104"),
])
def test_course_plan_validation_rules(courses, old, new, expected):
    edit(courses, "course.md", "  min_activity_types: 2\n", "  min_activity_types: 2\n" + PLAN.replace(old, new))
    assert "courses/fixture-course/course.md" + expected in problems(courses)


def test_the_mentors_guide_needs_a_title(courses):
    edit(courses, "mentors-guide.md", 'title: "Руководство наставника"', 'titel: "Руководство"')
    assert problems(courses) == [
        "courses/fixture-course/mentors-guide.md:2: unknown field 'titel' (allowed: title)",
        "courses/fixture-course/mentors-guide.md:2: 'title' is required and must be text"]


def test_quiz_cues_are_reported_by_the_check(app, courses, runner):
    runner.app.config["LMS_COURSES_DIR"] = str(courses)
    result = runner.invoke(args=["lms", "sync-courses", "--check"])
    assert result.exit_code == 0
    # Both fixture questions key the longest option, at positions A and B.
    assert "fixture-course: 2 quiz questions: key longest in 100%; key position A 50%, B 50%, C 0%, D 0%" \
        in result.output
    assert "warning: fixture-course: the keyed answer is the longest option in 100% of questions (at most 30%)" \
        in result.output
    assert "warning: fixture-course: option C is keyed in 0% of questions (15%-35%)" in result.output
    assert "Check passed" in result.output


def test_a_course_without_cues_gets_no_warning(courses, runner):
    runner.app.config["LMS_COURSES_DIR"] = str(courses)
    quiz = [(f"q{n}", ["Да, сразу", "Нет", "Позже, после встречи", "Не знаю"], n % 4) for n in range(8)]
    text = "".join(f"      - id: {qid}\n        text: \"Вопрос {qid}\"\n        options: {options}\n"
                   f"        answer: \"{options[key]}\"\n" for qid, options, key in quiz)
    path = courses / "fixture-course" / "01-intro.md"
    source = path.read_text(encoding="utf-8")
    start, end = source.index("    questions:\n") + len("    questions:\n"), source.index("practice:\n")
    path.write_text(source[:start] + text + source[end:], encoding="utf-8")
    result = runner.invoke(args=["lms", "sync-courses", "--check"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


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
    assert "courses/fixture-course/02-events.md:19: 'pass_score' 60 is more than the rubric's total of 10 points" \
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


SOURCE = """# Согласие на съёмку

*Образец: адаптируйте под свой центр.*

## Что разрешаю

- [ ] фотосъёмку;
- [ ] **видеосъёмку**.

Подписи:

1. Подпись: __________
2. Дата: __________

| Статья | Сумма, ₽ |
| --- | --- |
| Краски | 9 500 |
"""


def test_model_documents_are_built_as_docx_and_pdf_from_their_sources(app, courses, runner):
    from docx import Document
    from pypdf import PdfReader
    runner.app.config["LMS_COURSES_DIR"] = str(courses)
    sources = courses / "fixture-course" / "files" / "sources"
    sources.mkdir()
    (sources / "soglasie.md").write_text(SOURCE, encoding="utf-8")
    result = runner.invoke(args=["lms", "build-course-files", "fixture-course"])
    assert result.exit_code == 0 and "1 document(s) built" in result.output
    folder = courses / "fixture-course" / "files"
    document = Document(str(folder / "soglasie.docx"))
    assert [p.text for p in document.paragraphs if p.text] == [
        "Согласие на съёмку", "Образец: адаптируйте под свой центр.", "Что разрешаю", "[ ] фотосъёмку;",
        "[ ] видеосъёмку.", "Подписи:", "1. Подпись: __________", "2. Дата: __________"]
    assert [c.text for c in document.tables[0].rows[1].cells] == ["Краски", "9 500"]
    assert any(run.bold for p in document.paragraphs for run in p.runs if run.text == "видеосъёмку")
    text = "".join(page.extract_text() for page in PdfReader(folder / "soglasie.pdf").pages)
    assert "Согласие на съёмку" in text and "Краски" in text and "9 500" in text
    # A module can then offer them; the sync checks they are real documents.
    edit(courses, "03-partners.md", "files:\n", "files:\n  - path: files/soglasie.docx\n    title: \"Согласие\"\n")
    assert problems(courses) == []


def test_building_documents_needs_a_sources_folder(app, courses, runner):
    runner.app.config["LMS_COURSES_DIR"] = str(courses)
    result = runner.invoke(args=["lms", "build-course-files", "fixture-course"])
    assert result.exit_code == 1 and "sources does not exist" in result.output


def test_the_authors_guide_example_module_is_valid(courses):
    """courses/README.md shows a complete module to copy: it must load as it stands."""
    guide = (FIXTURE_COURSES.parents[2] / "courses" / "README.md").read_text(encoding="utf-8")
    example = guide.split("<!-- example-module:start -->")[1].split("<!-- example-module:end -->")[0]
    example = example.split("```markdown\n", 1)[1].rsplit("```", 1)[0]
    (courses / "fixture-course" / "13-neighbours-breakfast.md").write_text(example, encoding="utf-8")
    (course,), found = load_curriculum(courses)
    assert found == []
    module = course.modules[-1]
    assert [a.key for a in module.assignments] == ["m13-breakfast-plan", "m13-quiz", "m13-old-menu"]
    assert module.assignments[0].spec["rubric"][2]["critical"] is True
