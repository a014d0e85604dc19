"""Assignments, quizzes and the mentor's grading queue."""
import io
import re
import zipfile

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from lms.audit import AuditEvent
from lms.auth.models import User
from lms.auth.services import create_user
from lms.curriculum.models import Assignment, Course
from lms.curriculum.services import sync_curriculum
from lms.extensions import db
from lms.grading.models import Submission
from lms.grading.services import GradingConflict, grade_submission, save_text_answer, submit_files
from lms.learning.services import assign_mentor, enrol_trainee
from lms.uploads import MAX_FILE_SIZE, check_upload
from tests.conftest import (
    FIXTURE_COURSES,
    PASSWORD,
    assert_error_tied,
    count_queries,
    csrf_token,
    element_attributes,
    login,
    page_text,
    post,
)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# A whole 1×1 red PNG (the picture decodes, for code that redraws it).
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
ESSAY = "/courses/fixture-course/intro/assignments/intro-essay"
PLAN = "/courses/fixture-course/events/assignments/events-plan"
QUIZ = "/courses/fixture-course/intro/assignments/intro-quiz"


def zipped(entries, method=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX = zipped([("[Content_Types].xml", "<Types/>"), ("_rels/.rels", "<r/>"), ("word/document.xml", "<w/>")])


def assignment(key):
    return db.session.scalar(select(Assignment).filter_by(key=key))


def submitted_essay(people, text="Мой район — Филёвский Парк."):
    submission = save_text_answer(people.trainee, assignment("intro-essay"), text, submit=True)
    db.session.commit()
    return submission


def upload(client, url, files, note=""):
    data = {"csrf_token": csrf_token(client, url), "note": note,
            "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(url, data=data, content_type="multipart/form-data")


# --- written answers ---------------------------------------------------------------------------

def test_trainee_saves_a_draft_previews_and_submits(client, people):
    login(client, people.trainee)
    preview = post(client, ESSAY, {"answer": "**жирный** текст", "action": "preview"})
    assert "<strong>жирный</strong>" in preview.get_data(as_text=True)
    # Previewing keeps the draft as well.
    draft = db.session.scalar(select(Submission))
    assert (draft.status, draft.answer_markdown) == ("draft", "**жирный** текст")

    saved = post(client, ESSAY, {"answer": "Черновик ответа", "action": "save"})
    assert saved.headers["Location"] == ESSAY + "#your-work"  # back to the answer, not the top of the page
    assert db.session.scalar(select(Submission)).answer_markdown == "Черновик ответа"
    page = client.get(ESSAY)
    assert "Черновик ответа" in page.get_data(as_text=True) and "черновик сохранён" in page_text(page)

    # "Submit" saves the draft and asks first; only the confirmation hands it in.
    response = post(client, ESSAY, {"answer": "Готовый ответ", "action": "submit"})
    assert response.status_code == 302 and response.headers["Location"].endswith(ESSAY + "/hand-in")
    submission = db.session.scalar(select(Submission))
    assert (submission.status, submission.answer_markdown) == ("draft", "Готовый ответ")
    confirm = client.get(ESSAY + "/hand-in")
    assert "Отправить на проверку?" in page_text(confirm) and "Готовый ответ" in page_text(confirm)
    response = post(client, ESSAY + "/hand-in")
    assert response.status_code == 302
    submission = db.session.scalar(select(Submission))
    assert (submission.id, submission.status, submission.answer_markdown) == (draft.id, "submitted", "Готовый ответ")
    assert "отправлено, ждёт наставника" in page_text(client.get("/courses/fixture-course/intro"))


def test_empty_answer_is_refused_and_changes_nothing(client, people):
    login(client, people.trainee)
    response = post(client, ESSAY, {"answer": "   ", "action": "submit"})
    assert response.status_code == 400
    assert "Сначала напишите ответ." in page_text(response)
    assert db.session.scalar(select(Submission)) is None
    answer = element_attributes(response, "answer")
    assert answer["aria-describedby"] == "answer-error answer-length" and answer["aria-invalid"] == "true"
    assert "autofocus" in answer and element_attributes(response, "answer-error")


def test_submitted_answer_cannot_be_changed_by_the_trainee(client, people):
    submitted_essay(people)
    login(client, people.trainee)
    response = post(client, ESSAY, {"answer": "Другой ответ", "action": "submit"})
    assert response.status_code == 400
    assert "Задание уже отправлено" in page_text(response)
    assert db.session.scalar(select(Submission)).answer_markdown == "Мой район — Филёвский Парк."


def test_answer_markdown_is_sanitised(client, people):
    login(client, people.trainee)
    post(client, ESSAY, {"answer": "<script>alert(1)</script><img src=x onerror=alert(2)>[x](javascript:alert(3))",
                         "action": "submit"})
    html = db.session.scalar(select(Submission)).answer_html
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html


# --- files ------------------------------------------------------------------------------------

def test_files_are_submitted_and_served_only_as_attachments(app, client, people):
    login(client, people.trainee)
    response = upload(client, PLAN, [("план.pdf", PDF), ("фото.png", PNG), ("plan.docx", DOCX)], note="Смотрите")
    assert response.status_code == 302 and response.headers["Location"].endswith(PLAN + "/hand-in")
    assert db.session.scalar(select(Submission)).status == "draft"  # kept, handed in once confirmed
    assert "план.pdf" in page_text(client.get(PLAN + "/hand-in"))
    assert post(client, PLAN + "/hand-in").status_code == 302
    submission = db.session.scalar(select(Submission))
    assert submission.status == "submitted" and [f.filename for f in submission.files] == [
        "план.pdf", "фото.png", "plan.docx"]
    file_id = submission.files[0].id
    download = client.get(f"/files/{file_id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "application/pdf"
    for user, status in ((people.other, 404), (people.other_mentor, 404), (people.mentor, 200), (people.admin, 200)):
        visitor = app.test_client()
        login(visitor, user)
        assert visitor.get(f"/files/{file_id}").status_code == status, user.email


BOMB = zipped([("[Content_Types].xml", "<Types/>"), ("word/document.xml", b"\0" * (120 * 1024 * 1024))])


@pytest.mark.parametrize("name, content, message", [
    ("image.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "не соответствует"),
    ("page.png", b"<html><script>alert(1)</script></html>", "не соответствует"),
    ("page.html", b"<html><script>alert(1)</script></html>", "принимаются только"),
    ("polyglot.pdf", PNG + b"<script>alert(1)</script>", "не соответствует"),
    ("photo.jpg", PDF, "не соответствует"),
    ("big.pdf", PDF + b"0" * (MAX_FILE_SIZE + 1 - len(PDF)), "больше 10 МБ"),
    ("bomb.docx", BOMB, "распаковывается"),
    ("fake.docx", b"PK\x03\x04 not really a zip", "не соответствует"),
    ("empty.pdf", b"", "пуст"),
])
def test_bad_uploads_are_refused_and_change_nothing(client, people, name, content, message):
    login(client, people.trainee)
    response = upload(client, PLAN, [(name, content)])
    assert response.status_code == 400
    assert message in page_text(response)
    assert db.session.scalar(select(Submission)) is None
    assert_error_tied(response, "files", "files-error", focused=True)


def test_exactly_ten_megabytes_is_accepted():
    assert check_upload("big.pdf", PDF + b"0" * (MAX_FILE_SIZE - len(PDF))).size == MAX_FILE_SIZE


def test_at_most_five_files(client, people):
    login(client, people.trainee)
    response = upload(client, PLAN, [(f"{i}.pdf", PDF) for i in range(6)])
    assert response.status_code == 400 and "Не больше 5 файлов." in page_text(response)
    assert db.session.scalar(select(Submission)) is None


def test_upload_without_files(client, people):
    login(client, people.trainee)
    response = upload(client, PLAN, [])
    assert response.status_code == 400 and "Выберите хотя бы один файл." in page_text(response)
    assert_error_tied(response, "files", "files-error", focused=True)


def test_file_names_are_cleaned():
    assert check_upload("../../etc/пароль.pdf", PDF).filename == "пароль.pdf"
    assert check_upload('C:\\docs\\"plan".pdf', PDF).filename == "plan.pdf"


# --- quizzes ----------------------------------------------------------------------------------

RIGHT = {"q-q1": "Менеджер сообщества", "q-q2": "Связи и доверие"}


def test_quiz_is_graded_at_once_with_explanations(client, people):
    login(client, people.trainee)
    response = post(client, QUIZ, RIGHT)
    assert response.status_code == 302
    text = page_text(client.get(QUIZ))
    assert "Тест пройден: 2 из 2." in text
    assert "Капитал здесь — отношения между людьми." in text
    submission = db.session.scalar(select(Submission))
    assert (submission.status, submission.score) == ("passed", 2)


def test_quiz_attempts_are_limited_and_the_best_counts(client, people):
    login(client, people.trainee)
    post(client, QUIZ, RIGHT)
    post(client, QUIZ, {"q-q1": "Никто", "q-q2": "Деньги"})
    third = post(client, QUIZ, RIGHT)
    assert third.status_code == 400 and "Вы использовали все попытки" in page_text(third)
    assert [s.score for s in db.session.scalars(select(Submission).order_by(Submission.attempt))] == [2, 0]
    assert "пройдено" in page_text(client.get("/courses/fixture-course/intro"))


def test_quiz_needs_every_question_and_ignores_foreign_options(client, people):
    login(client, people.trainee)
    response = post(client, QUIZ, {"q-q1": "Менеджер сообщества", "q-q2": "<script>"})
    assert response.status_code == 400 and "Ответьте на все вопросы" in page_text(response)
    html = response.get_data(as_text=True)  # the unanswered question's first option has the focus
    assert 'aria-describedby="question-q2-error"' in html and 'id="question-q2-error"' in html
    assert html.count(" autofocus") == 1 and re.search(r'<input [^>]*name="q-q2"[^>]*autofocus>', html)
    assert db.session.scalar(select(Submission)) is None


# --- the mentor's queue and grading -----------------------------------------------------------

def test_queue_lists_waiting_work_of_the_mentors_trainees_only(app, people, make_user, make_cohort):
    submitted_essay(people)
    stranger = make_user(["trainee"])
    make_cohort(people.course, trainees=[stranger], mentors=[people.other_mentor], name="Группа 2")
    save_text_answer(stranger, assignment("intro-essay"), "Чужой ответ", submit=True)
    db.session.commit()
    client = app.test_client()
    login(client, people.mentor)
    text = page_text(client.get("/mentor/queue"))
    assert "1 работа ждёт вашего решения." in text
    assert "Анна Соседова" in text and "Группа 1" in text and "Группа 2" not in text


def test_queue_filters_with_counts(client, people):
    submitted_essay(people)
    submit_files(people.trainee, assignment("events-plan"), [check_upload("plan.pdf", PDF)])
    db.session.commit()
    login(client, people.mentor)
    text = page_text(client.get("/mentor/queue"))
    assert "2 работы ждут вашего решения." in text
    assert "Эссе о районе (1)" in text and "План мероприятия (1)" in text and "Группа 1 (2)" in text
    filtered = page_text(client.get("/mentor/queue?kind=file"))
    assert "1 работа ждёт вашего решения." in filtered and "План мероприятия" in filtered
    module = assignment("intro-essay").module_id
    assert "1 работа" in page_text(client.get(f"/mentor/queue?module={module}"))
    assert client.get("/mentor/queue?cohort=abc&kind=<x>&after=garbage").status_code == 200


def test_queue_pages_oldest_first_with_keyset(app, people, make_user):
    trainees = []
    for i in range(30):
        trainee = make_user(["trainee"], name=f"Слушатель {i:02d}", password=None)
        enrol_trainee(people.cohort, trainee)
        save_text_answer(trainee, assignment("intro-essay"), f"Ответ {i}", submit=True)
        trainees.append(trainee)
    db.session.commit()
    client = app.test_client()
    login(client, people.mentor)
    first = client.get("/mentor/queue").get_data(as_text=True)
    assert first.count('class="card queue-item"') == 25
    assert first.index("Слушатель 00") < first.index("Слушатель 24") and "Слушатель 25" not in first
    next_url = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    assert second.count('class="card queue-item"') == 5 and "Слушатель 25" in second and 'rel="next"' not in second


def grade(client, submission, decision, feedback="", scores=("", ""), version=None, then="queue", reason=""):
    url = f"/mentor/submissions/{submission.id}"
    data = {"decision": decision, "feedback": feedback, "then": then, "reason": reason,
            "version": version if version is not None else submission.version}
    data.update({f"score-{i}": value for i, value in enumerate(scores)})
    return post(client, url, data)


def test_return_resubmit_and_pass_keeps_every_attempt(app, people):
    first = submitted_essay(people)
    mentor = app.test_client()
    login(mentor, people.mentor)
    page = page_text(mentor.get(f"/mentor/submissions/{first.id}"))
    assert "Опишите свой район в 300 словах." in page and "Полнота (0–5)" in page and "Мой район" in page
    assert grade(mentor, first, "return", "Добавьте **примеры**.", ("3", "")).status_code == 302

    trainee = app.test_client()
    login(trainee, people.trainee)
    assert "Новые оценки и отзывы" in page_text(trainee.get("/"))
    text = page_text(trainee.get(ESSAY))
    assert "возвращено на доработку" in text and "Добавьте примеры" in text
    assert "Новые оценки и отзывы" not in page_text(trainee.get("/"))
    post(trainee, ESSAY, {"answer": "Исправленный ответ с примерами", "action": "submit"})
    post(trainee, ESSAY + "/hand-in")
    second = db.session.scalar(select(Submission).filter_by(attempt=2))
    assert second.status == "submitted"

    assert grade(mentor, second, "pass", "Отлично", ("5", "4")).status_code == 302
    text = page_text(trainee.get(ESSAY))
    assert "Попытка 2 · пройдено" in text and "Попытка 1 · возвращено на доработку" in text
    module = page_text(trainee.get("/courses/fixture-course/intro"))
    assert "2 попытки" in module and "Добавьте примеры" in module and "Отлично" in module
    assert "Отлично" in text and "оценка 9 из 10" in text
    events = db.session.scalars(select(AuditEvent).filter_by(action="submission.grade")).all()
    assert len(events) == 2 and events[-1].actor_id == people.mentor.id


@pytest.mark.parametrize("decision, scores, feedback, message, field", [
    ("pass", ("6", "5"), "", "«Полнота» оценивается от 0 до 5 баллов.", "score-0"),
    ("pass", ("-1", "5"), "", "«Полнота» оценивается от 0 до 5 баллов.", "score-0"),
    ("pass", ("abc", "5"), "", "«Полнота» оценивается от 0 до 5 баллов.", "score-0"),
    ("pass", ("2", "2"), "", "ниже проходного балла", "decision"),
    ("fail", ("5", "5"), "", "достигает проходного балла", "decision"),
    ("pass", ("5", ""), "", "Оцените каждый критерий", "score-1"),
    ("return", ("", ""), "", "напишите отзыв", "feedback"),
    ("maybe", ("5", "5"), "", "Выберите", "decision"),
])
def test_bad_grades_get_a_clear_message_and_change_nothing(client, people, decision, scores, feedback, message,
                                                           field):
    submission = submitted_essay(people)
    login(client, people.mentor)
    response = grade(client, submission, decision, feedback, scores)
    assert response.status_code == 400
    assert message in page_text(response)
    if field == "feedback":
        assert_error_tied(response, "feedback", "feedback-error", focused=True)
    else:  # a group of options: its fieldset is described by the message, its first option has the focus
        html = response.get_data(as_text=True)
        group = "decision" if field == "decision" else "criterion"
        assert f'<fieldset class="{group}" aria-describedby="{field}-error">' in html and f'id="{field}-error"' in html
        first_option = rf'<input type="radio" name="{field}" value="[^"]*"( checked)? autofocus>'
        assert html.count(" autofocus") == 1 and re.search(first_option, html)
    db.session.refresh(submission)
    assert (submission.status, submission.score, submission.version) == ("submitted", None, 1)


def test_every_score_of_the_rubric_is_described_on_the_grading_page(client, people):
    submission = submitted_essay(people)
    login(client, people.mentor)
    page = client.get(f"/mentor/submissions/{submission.id}").get_data(as_text=True)
    # One radio button per score, each beside its descriptor, so two mentors read the same scale.
    assert page.count('name="score-0"') == 6 and page.count('name="score-1"') == 6
    assert "Не хватает одного из трёх" in page and "Нет текста" in page
    assert 'href="/courses/fixture-course/mentors-guide"' in page


def test_a_zero_on_a_gate_criterion_returns_the_work_whatever_the_total(app, client, people):
    plan = submit_files(people.trainee, assignment("events-plan"), [check_upload("plan.pdf", PDF)])
    db.session.commit()
    login(client, people.mentor)
    page = page_text(client.get(f"/mentor/submissions/{plan.id}"))
    assert "Цель (0–4) · критерий-порог" in page and "возвращает работу на доработку" in page
    # 0 + 6 reaches the pass mark of 6, but "Цель" is a gate.
    refused = grade(client, plan, "pass", "Хорошо", ("0", "6"))
    assert refused.status_code == 400 and "критерий-порог" in page_text(refused)
    db.session.refresh(plan)
    assert (plan.status, plan.score) == ("submitted", None)
    assert grade(client, plan, "fail", "Нет цели", ("0", "6")).status_code == 400
    assert grade(client, plan, "return", "Сформулируйте цель.", ("0", "6")).status_code == 302
    db.session.refresh(plan)
    assert (plan.status, plan.score) == ("returned", 6)

    trainee = app.test_client()
    login(trainee, people.trainee)
    text = page_text(trainee.get(PLAN))
    assert "критерий-порог оценён нулём" in text and "Сформулируйте цель." in text


def test_changing_a_grade_needs_a_reason_and_is_audited(client, people):
    submission = submitted_essay(people)
    login(client, people.mentor)
    grade(client, submission, "fail", "Мало", ("1", "1"))
    db.session.refresh(submission)
    refused = grade(client, submission, "pass", "Пересмотрено", ("5", "5"))
    assert refused.status_code == 400 and "укажите причину" in page_text(refused)
    assert_error_tied(refused, "reason", "reason-error", focused=True)
    assert grade(client, submission, "pass", "Пересмотрено", ("5", "5"), reason="Апелляция").status_code == 302
    db.session.refresh(submission)
    assert (submission.status, submission.score) == ("passed", 10)
    event = db.session.scalar(select(AuditEvent).filter_by(action="submission.regrade"))
    assert event.details["old"]["status"] == "failed" and event.details["old"]["score"] == 2
    assert event.details["new"] == {"status": "passed", "score": 10} and event.details["reason"] == "Апелляция"


def test_two_mentors_grading_at_once_do_not_overwrite_each_other(app, people, make_user):
    submission = submitted_essay(people)
    colleague = make_user(["mentor"], name="Коллега")
    assign_mentor(people.cohort, colleague)
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    login(first, people.mentor)
    login(second, colleague)
    seen_version = submission.version
    assert grade(first, submission, "pass", "Первая оценка", ("5", "5"), version=seen_version).status_code == 302
    response = grade(second, submission, "fail", "Вторая оценка", ("1", "1"), version=seen_version)
    assert response.status_code == 302
    page = page_text(second.get(response.headers["Location"]))
    assert "Кто-то другой оценил эту попытку" in page and "Первая оценка" in page
    db.session.refresh(submission)
    assert (submission.status, submission.feedback_markdown, submission.graded_by_id) == (
        "passed", "Первая оценка", people.mentor.id)


def test_concurrent_saves_are_caught_by_the_database(app, people):
    """Two transactions load version 1; the second UPDATE matches no row and fails (SQLite and PostgreSQL)."""
    submission_id = submitted_essay(people).id
    db.session.remove()
    one, two = Session(db.engine), Session(db.engine)
    try:
        a, b = one.get(Submission, submission_id), two.get(Submission, submission_id)
        a.status, b.status = "passed", "failed"
        one.commit()
        with pytest.raises(StaleDataError):
            two.commit()
    finally:
        one.close()
        two.close()
    assert db.session.get(Submission, submission_id).status == "passed"


def test_grading_service_reports_a_conflict_from_a_concurrent_writer(app, people):
    """The page's version matched when checked, but another transaction commits before our UPDATE."""
    submission_id, mentor_id = submitted_essay(people).id, people.mentor.id
    db.session.remove()
    submission = db.session.get(Submission, submission_id)
    loaded_version = submission.version
    with Session(db.engine) as other:
        row = other.get(Submission, submission.id)
        row.status, row.feedback_markdown = "failed", "Параллельная оценка"
        other.commit()
    with pytest.raises(GradingConflict):
        grade_submission(submission, db.session.get(User, mentor_id), [5, 5], "Моя оценка",
                         "pass", loaded_version)
    db.session.rollback()
    assert db.session.get(Submission, submission.id).feedback_markdown == "Параллельная оценка"


def test_save_and_next_opens_the_next_waiting_item(app, people, make_user):
    first = submitted_essay(people)
    other = make_user(["trainee"], name="Второй слушатель")
    enrol_trainee(people.cohort, other)
    second = save_text_answer(other, assignment("intro-essay"), "Ответ", submit=True)
    db.session.commit()
    client = app.test_client()
    login(client, people.mentor)
    response = grade(client, first, "pass", "Хорошо", ("5", "5"), then="next")
    assert response.headers["Location"] == f"/mentor/submissions/{second.id}"
    response = grade(client, second, "pass", "Хорошо", ("5", "5"), then="next")
    assert response.headers["Location"] == "/mentor/queue"
    assert "Очередь пуста" in page_text(client.get("/mentor/queue"))


def test_feedback_markdown_is_sanitised(client, people):
    submission = submitted_essay(people)
    login(client, people.mentor)
    grade(client, submission, "return", "<script>alert(1)</script>[x](javascript:alert(2)) <b onclick=x>b</b>")
    db.session.refresh(submission)
    html = submission.feedback_html
    assert "<script" not in html and "javascript:" not in html and "onclick" not in html


def test_mentor_cannot_open_work_of_other_cohorts_or_quizzes(app, people):
    submission = submitted_essay(people)
    client = app.test_client()
    login(client, people.other_mentor)
    assert client.get(f"/mentor/submissions/{submission.id}").status_code == 404
    assert grade(client, submission, "pass", "", ("5", "5")).status_code == 404
    assert client.get("/mentor/submissions/999999").status_code == 404
    db.session.refresh(submission)
    assert submission.status == "submitted"


def test_retired_assignment_keeps_submissions_visible(client, people):
    submission = submitted_essay(people)
    submission.assignment.retired = True
    db.session.commit()
    login(client, people.trainee)
    text = page_text(client.get(ESSAY))
    assert "больше не входит в курс" in text and "Мой район — Филёвский Парк." in text
    assert "Отправить на проверку" not in text


# --- query counts -----------------------------------------------------------------------------

def build_waiting(cohort, count):
    """`count` waiting items: half written answers, half files, from count/2 trainees."""
    essay, plan = assignment("intro-essay"), assignment("events-plan")
    for i in range(count // 2):
        trainee = create_user(f"bulk{i}@example.org", f"Слушатель {i}", ["trainee"])
        enrol_trainee(cohort, trainee)
        save_text_answer(trainee, essay, f"Ответ {i}", submit=True)
        submit_files(trainee, plan, [check_upload("p.pdf", PDF)])
    db.session.commit()


def mentor_page_queries(app, mentor, cohort, count):
    build_waiting(cohort, count)
    client = app.test_client()
    login(client, mentor)
    newest = db.session.scalar(select(Submission).order_by(Submission.id.desc()))
    pages = {"queue": "/mentor/queue", "queue filtered": "/mentor/queue?kind=file",
             "grading": f"/mentor/submissions/{newest.id}"}
    counts = {}
    for name, url in pages.items():
        client.get(url)
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        counts[name] = queries.count
    return counts


@pytest.mark.parametrize("count", [2000])
def test_queue_and_grading_page_queries_do_not_grow(app_factory, make_cohort, count):
    results = []
    for size in (10, count):
        app = app_factory()
        sync_curriculum(FIXTURE_COURSES)
        mentor = create_user("m@example.org", "Наставник", ["mentor"], password=PASSWORD)
        cohort = make_cohort(db.session.scalar(select(Course)), mentors=[mentor])
        results.append(mentor_page_queries(app, mentor, cohort, size))
    assert results[0] == results[1]
    assert max(results[1].values()) <= 8, results
