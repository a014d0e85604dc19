"""A trainee's first week (issue 16, items 1-7): nothing typed or chosen is lost, nothing irreversible happens
without a confirmation, work can be withdrawn until a mentor opens it, feedback comes first, and the site's
confirmation link stays at hand."""
import re
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.audit import AuditEvent
from lms.curriculum.services import sync_curriculum
from lms.extensions import db
from lms.grading.models import Submission
from lms.grading.services import grade_submission, submit_files
from lms.partners.services import save_partner
from lms.practice.models import PracticeEntry, SiteConfirmation
from lms.practice.services import answer_site_confirmation, request_site_confirmation
from lms.uploads import check_upload
from tests.conftest import FIXTURE_COURSES, assert_error_tied, csrf_token, login, page_text, post
from tests.test_grading import ESSAY, PDF, PLAN, PNG, assignment, submitted_essay, upload
from tests.test_practice import approve, form, log_entry, make_entry

QUIZ = "/courses/fixture-course/intro/assignments/intro-quiz"


@pytest.fixture
def site(people):
    site = save_partner(None, "Соседский центр «Филёвский Парк»", "centre", contact_name="Ольга")
    db.session.commit()
    return site


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def html(response):
    return response.get_data(as_text=True)


# --- 1. a quiz with a question left unanswered --------------------------------------------------------------------

def test_unanswered_question_keeps_the_other_answers_and_says_which_is_missing(client, people):
    login(client, people.trainee)
    response = post(client, QUIZ, {"q-q1": "Менеджер сообщества"})
    assert response.status_code == 400
    page = html(response)
    assert re.search(r'value="Менеджер сообщества"\s+checked', page)  # the answer picked is still picked
    summary = page[page.index('id="quiz-errors"'):]
    assert 'href="#question-q2"' in summary[:summary.index("</div>")]
    assert 'href="#question-q1"' not in summary[:summary.index("</div>")]
    assert re.search(r'<fieldset class="question has-error" id="question-q2" aria-describedby="question-q2-error"',
                     page)
    assert '<fieldset class="question" id="question-q1"' in page
    text = page_text(response)
    assert ("Ответьте на все вопросы, прежде чем отправлять. 1 вопрос без ответа: "
            "Вопрос 2: Что такое социальный капитал?") in text
    assert "На этот вопрос ещё нет ответа: выберите вариант." in text
    assert count(Submission) == 0  # no attempt used


def test_options_that_are_not_offered_do_not_count_as_answers(client, people):
    login(client, people.trainee)
    response = post(client, QUIZ, {"q-q1": "Никто", "q-q2": "Что-то своё"})
    assert response.status_code == 400 and 'href="#question-q2"' in html(response)
    assert count(Submission) == 0


# --- 2. long written answers: autosave, preview saves, the expected length ----------------------------------------

def test_autosave_keeps_the_draft_and_refuses_after_handing_in(client, people):
    login(client, people.trainee)
    token = csrf_token(client, ESSAY)
    saved = client.post(ESSAY + "/draft", data={"csrf_token": token, "answer": "Начало ответа"})
    assert saved.status_code == 200 and saved.json["saved"] is True
    assert "Черновик сохранён автоматически" in saved.json["message"]
    draft = db.session.scalar(select(Submission))
    assert (draft.status, draft.answer_markdown) == ("draft", "Начало ответа")
    # Empty text never overwrites a draft.
    assert client.post(ESSAY + "/draft", data={"csrf_token": token, "answer": "  "}).json == {"saved": False}
    assert db.session.scalar(select(Submission)).answer_markdown == "Начало ответа"
    # Without the CSRF token nothing is saved.
    assert client.post(ESSAY + "/draft", data={"answer": "Подделка"}).status_code == 400
    assert db.session.scalar(select(Submission)).answer_markdown == "Начало ответа"

    post(client, ESSAY + "/hand-in")
    refused = client.post(ESSAY + "/draft", data={"csrf_token": token, "answer": "Поздняя правка"})
    assert refused.status_code == 409 and "уже отправлено" in refused.json["error"]
    submission = db.session.scalar(select(Submission))
    assert (submission.status, submission.answer_markdown) == ("submitted", "Начало ответа")


def test_the_page_loads_the_autosave_script_and_works_without_it(client, people):
    login(client, people.trainee)
    page = html(client.get(ESSAY))
    assert '<script src="/static/draft.js" defer></script>' in page
    assert f'data-draft-url="{ESSAY}/draft"' in page and 'data-autosave-seconds="30"' in page
    # The plain form is still there for browsers without JavaScript.
    for action in ("preview", "save", "submit"):
        assert f'name="action" value="{action}"' in page
    script = client.get("/static/draft.js")
    assert script.status_code == 200 and b"sendBeacon" in script.data and b"beforeunload" in script.data


def test_expected_length_from_the_module_is_shown(app, client, people, tmp_path):
    courses = tmp_path / "courses"
    shutil.copytree(FIXTURE_COURSES, courses)
    path = courses / "fixture-course" / "01-intro.md"
    path.write_text(path.read_text(encoding="utf-8").replace("    kind: text\n", "    kind: text\n    words: 250-350\n",
                                                             1), encoding="utf-8")
    assert sync_curriculum(courses).ok
    db.session.commit()
    login(client, people.trainee)
    response = client.get(ESSAY)
    assert "Ожидаемый объём: 250–350 слов." in page_text(response)
    page = html(response)
    assert 'data-words-range="нужно 250–350"' in page
    assert 'data-words-one="{n} слово"' in page and 'data-words-few="{n} слова"' in page \
        and 'data-words-many="{n} слов"' in page
    client.post("/language", data={"csrf_token": csrf_token(client, ESSAY), "locale": "en"})
    assert "Expected length: 250–350 words." in page_text(client.get(ESSAY))


def test_no_expected_length_without_words(client, people):
    login(client, people.trainee)
    response = client.get(ESSAY)
    assert "Ожидаемый объём" not in page_text(response) and 'data-words-range=""' in html(response)


# --- 3. errors keep what was typed -------------------------------------------------------------------------------

def test_a_wrong_file_type_keeps_the_note_to_the_mentor(client, people):
    login(client, people.trainee)
    response = upload(client, PLAN, [("page.html", b"<html></html>")], note="Смотрите второй лист")
    assert response.status_code == 400 and "принимаются только" in page_text(response)
    assert re.search(r'<textarea id="note"[^>]*>Смотрите второй лист</textarea>', html(response))
    assert count(Submission) == 0


def test_an_error_on_the_entry_form_keeps_every_field_and_names_the_photos_to_choose_again(client, people, site):
    login(client, people.trainee)
    response = log_entry(client, site, files=[("фото.png", PNG)], reflection="", duration="",
                         **{"aud-adults": "4", "modules": str(people.course.modules[0].id)})
    assert response.status_code == 400
    page = html(response)
    module_id = people.course.modules[0].id
    for pattern in (r'name="date"[^>]*value="' + form(site)["date"], rf'<option value="{site.id}" selected',
                    r'name="start_time"[^>]*value="10:00"', r'name="end_time"[^>]*value="12:30"',
                    r'<option value="workshop_class" selected', r'name="aud-children_teens"[^>]*value="8"',
                    r'name="aud-adults"[^>]*value="4"', r'name="aud-pensioners"[^>]*value="3"',
                    rf'name="modules" value="{module_id}" checked',
                    r'<textarea id="description"[^>]*>Мастерская скворечников.</textarea>'):
        assert re.search(pattern, page), pattern
    text = page_text(response)
    assert "Прежде чем отправлять, напишите рефлексию" in text
    assert "Не сохранено: фото.png. Выберите фото или документы ещё раз." in text
    assert_error_tied(response, "reflection", "reflection-error", focused=True)
    assert_error_tied(response, "files", "files-error", focused=False)
    assert count(PracticeEntry) == 0


def test_a_bad_photo_says_so_at_the_field_and_keeps_the_rest(client, people, site):
    login(client, people.trainee)
    response = log_entry(client, site, files=[("photo.png", b"<svg onload=alert(1)>")])
    assert response.status_code == 400
    assert re.search(r'<textarea id="reflection"[^>]*>Сработали пары родитель — ребёнок.</textarea>', html(response))
    assert "не соответствует" in page_text(response) and "Не сохранено" not in page_text(response)


# --- 4. withdraw and correct -------------------------------------------------------------------------------------

def test_trainee_withdraws_an_answer_corrects_it_and_hands_it_in_again(app, client, people):
    submission = submitted_essay(people)
    mentor = app.test_client()
    login(mentor, people.mentor)
    assert "Эссе о районе" in page_text(mentor.get("/mentor/queue"))

    login(client, people.trainee)
    page = page_text(client.get(ESSAY))
    assert "Наставник ещё не открыл работу" in page and "Забрать на исправление" in page
    response = post(client, f"/submissions/{submission.id}/withdraw", token_from=ESSAY)
    assert response.status_code == 302 and response.headers["Location"].endswith(ESSAY + "#your-work")
    withdrawn = db.session.get(Submission, submission.id)
    assert (withdrawn.status, withdrawn.submitted_at, withdrawn.answer_markdown) == (
        "draft", None, "Мой район — Филёвский Парк.")
    event = db.session.scalar(select(AuditEvent).filter_by(action="submission.withdraw"))
    assert event.actor_id == people.trainee.id and event.object_id == str(submission.id)
    assert "Эссе о районе" not in page_text(mentor.get("/mentor/queue"))
    assert "Слушатель забрал эту работу на исправление" in page_text(mentor.get(f"/mentor/submissions/{submission.id}"))

    assert "Мой район — Филёвский Парк." in html(client.get(ESSAY))  # back in the form, to correct
    post(client, ESSAY, {"answer": "Мой район — Филёвский Парк, с примерами.", "action": "submit"})
    post(client, ESSAY + "/hand-in")
    again = db.session.get(Submission, submission.id)
    assert (again.status, again.attempt, again.answer_markdown) == (
        "submitted", 1, "Мой район — Филёвский Парк, с примерами.")
    assert "Эссе о районе" in page_text(mentor.get("/mentor/queue"))


def test_once_a_mentor_opened_it_the_work_cannot_be_withdrawn(app, client, people):
    submission = submitted_essay(people)
    mentor = app.test_client()
    login(mentor, people.mentor)
    mentor.get(f"/mentor/submissions/{submission.id}")
    assert db.session.get(Submission, submission.id).review_opened_at is not None

    login(client, people.trainee)
    page = page_text(client.get(ESSAY))
    assert "Забрать на исправление" not in page and "Наставник уже открыл её для проверки" in page
    response = post(client, f"/submissions/{submission.id}/withdraw", token_from=ESSAY)
    assert response.status_code == 302
    assert "забрать её больше нельзя" in page_text(client.get(ESSAY))
    assert db.session.get(Submission, submission.id).status == "submitted"
    assert count(AuditEvent) == db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action != "submission.withdraw"))


def test_only_the_author_withdraws(app, people):
    submission = submitted_essay(people)
    for user, status in ((people.other, 404), (people.mentor, 403), (people.admin, 403)):
        visitor = app.test_client()
        login(visitor, user)
        assert post(visitor, f"/submissions/{submission.id}/withdraw", token_from="/").status_code == status
    assert db.session.get(Submission, submission.id).status == "submitted"


def test_withdrawn_files_stay_in_the_draft_with_the_note(client, people):
    submission = submit_files(people.trainee, assignment("events-plan"), [check_upload("план.pdf", PDF)],
                              note="Первый вариант")
    db.session.commit()
    login(client, people.trainee)
    post(client, f"/submissions/{submission.id}/withdraw", token_from=PLAN)
    page = client.get(PLAN)
    assert "В вашем черновике: план.pdf" in page_text(page) and "Сдать эти файлы" in page_text(page)
    assert re.search(r'<textarea id="note"[^>]*>Первый вариант</textarea>', html(page))
    # A new note with the same files, then handed in again.
    data = {"csrf_token": csrf_token(client, PLAN), "note": "Второй вариант", "files": []}
    assert client.post(PLAN, data=data, content_type="multipart/form-data").status_code == 302
    post(client, PLAN + "/hand-in")
    again = db.session.get(Submission, submission.id)
    assert (again.status, again.answer_markdown, [f.filename for f in again.files]) == (
        "submitted", "Второй вариант", ["план.pdf"])


def test_trainee_withdraws_a_practice_entry_until_a_mentor_opens_it(app, client, people, site):
    entry = make_entry(people, site)
    _confirmation, _token = request_site_confirmation(entry)
    db.session.commit()
    login(client, people.trainee)
    assert "Забрать на исправление" in page_text(client.get(f"/practice/{entry.id}"))
    response = post(client, f"/practice/{entry.id}", {"action": "withdraw"})
    assert response.status_code == 302
    entry = db.session.get(PracticeEntry, entry.id)
    assert (entry.status, entry.submitted_at) == ("draft", None)
    assert count(SiteConfirmation) == 0  # the link sent for the old version stops working
    assert db.session.scalar(select(AuditEvent).filter_by(action="practice.withdraw")).actor_id == people.trainee.id
    mentor = app.test_client()
    login(mentor, people.mentor)
    assert "Вера" not in page_text(mentor.get("/mentor/queue?kind=practice"))
    assert people.trainee.name not in page_text(mentor.get("/mentor/queue?kind=practice"))

    # Corrected and submitted again; once the mentor has opened it, no more withdrawing.
    post(client, f"/practice/{entry.id}", form(site, duration="90", start_time="", end_time=""))
    assert db.session.get(PracticeEntry, entry.id).status == "submitted"
    assert people.trainee.name in page_text(mentor.get("/mentor/queue?kind=practice"))
    mentor.get(f"/practice/{entry.id}")
    assert db.session.get(PracticeEntry, entry.id).review_opened_at is not None
    assert "Забрать на исправление" not in page_text(client.get(f"/practice/{entry.id}"))
    refused = post(client, f"/practice/{entry.id}", {"action": "withdraw"})
    assert refused.status_code == 400 and "забрать её больше нельзя" in page_text(refused)
    assert db.session.get(PracticeEntry, entry.id).status == "submitted"


def test_an_entry_the_site_answered_about_cannot_be_withdrawn(client, people, site):
    entry = make_entry(people, site)
    confirmation, _token = request_site_confirmation(entry)
    answer_site_confirmation(confirmation, "confirmed", "Ольга", "")
    db.session.commit()
    login(client, people.trainee)
    assert "Площадка уже ответила по ней" in page_text(client.get(f"/practice/{entry.id}"))
    refused = post(client, f"/practice/{entry.id}", {"action": "withdraw"})
    assert refused.status_code == 400 and db.session.get(PracticeEntry, entry.id).status == "submitted"


# --- 5. confirm before the irreversible ---------------------------------------------------------------------------

def test_hand_in_page_shows_what_goes_and_going_back_changes_nothing(client, people):
    login(client, people.trainee)
    post(client, ESSAY, {"answer": "Мой **ответ**", "action": "submit"})
    page = client.get(ESSAY + "/hand-in")
    assert "<strong>ответ</strong>" in html(page) and "Да, отправить" in page_text(page)
    assert f'href="{ESSAY}#your-work"' in html(page)
    assert db.session.scalar(select(Submission)).status == "draft"
    assert client.get(ESSAY + "/hand-in").status_code == 200  # looking again hands nothing in


def test_hand_in_without_a_draft_is_refused(client, people):
    login(client, people.trainee)
    assert client.get(ESSAY + "/hand-in").status_code == 302
    response = post(client, ESSAY + "/hand-in", token_from=ESSAY)
    assert response.status_code == 400 and "Нет черновика" in page_text(response)
    assert count(Submission) == 0


def test_deleting_a_practice_draft_asks_first(client, people, site):
    draft = make_entry(people, site, submit=False)
    db.session.commit()
    login(client, people.trainee)
    page = client.get(f"/practice/{draft.id}")
    assert f'href="/practice/{draft.id}/delete"' in html(page)
    # The entry page itself no longer deletes.
    assert post(client, f"/practice/{draft.id}", {"action": "delete"}).status_code == 403
    question = client.get(f"/practice/{draft.id}/delete")
    assert "Удалить черновик?" in page_text(question) and "отменить это нельзя" in page_text(question)
    assert count(PracticeEntry) == 1
    response = post(client, f"/practice/{draft.id}/delete")
    assert response.status_code == 302 and count(PracticeEntry) == 0


def test_a_submitted_entry_is_not_deleted(client, people, site):
    entry = make_entry(people, site)
    db.session.commit()
    login(client, people.trainee)
    assert post(client, f"/practice/{entry.id}/delete", token_from=f"/practice/{entry.id}").status_code == 302
    assert count(PracticeEntry) == 1


# --- 6. feedback first --------------------------------------------------------------------------------------------

def test_the_mentors_decision_stands_above_the_form_and_the_history(client, people):
    submission = submitted_essay(people)
    grade_submission(submission, people.mentor, [0, 3], "Назовите жителей и места.", "return", submission.version)
    db.session.commit()
    login(client, people.trainee)
    text = page_text(client.get(ESSAY))
    decision = text.index("Решение наставника: возвращено на доработку")
    assert decision < text.index("Задание") < text.index("Исправленный ответ") < text.index("Ваши попытки")
    assert text.index("Назовите жителей и места.") < text.index("Исправленный ответ")
    assert "Почему: за критерий-порог поставлен ноль" not in text  # the fixture's rubric has no gate
    assert "Почему: наставник просит доработать работу" in text


def test_a_failed_answer_says_why(client, people):
    submission = submitted_essay(people)
    grade_submission(submission, people.mentor, [1, 1], "Слишком общо.", "fail", submission.version)
    db.session.commit()
    login(client, people.trainee)
    text = page_text(client.get(ESSAY))
    assert "Решение наставника: не пройдено" in text and "Почему: сумма баллов ниже проходного балла 6." in text


# --- 7. the site's confirmation link ------------------------------------------------------------------------------

def test_the_confirmation_link_stays_listed_while_valid(app, client, people, site):
    entry = make_entry(people, site)
    db.session.commit()
    login(client, people.trainee)
    assert "Создать ссылку для подтверждения" in page_text(client.get(f"/practice/{entry.id}"))
    post(client, f"/practice/{entry.id}", {"action": "confirm"})
    first = html(client.get(f"/practice/{entry.id}"))
    link = re.search(r'value="(http://localhost/confirm/[^"]+)"', first).group(1)
    again = html(client.get(f"/practice/{entry.id}"))
    assert link in again and "Создать ссылку для подтверждения" not in page_text(client.get(f"/practice/{entry.id}"))
    assert 'data-copy-link="confirmation-link-' in again and 'data-share="confirmation-link-' in again
    assert '<script src="/static/share.js" defer></script>' in again
    # Asking again gives the same link, not a second request.
    post(client, f"/practice/{entry.id}", {"action": "confirm"})
    assert count(SiteConfirmation) == 1
    assert app.test_client().get(link.removeprefix("http://localhost")).status_code == 200


def test_no_new_link_once_the_site_answered_or_the_entry_is_approved(app, client, people, site):
    answered = make_entry(people, site)
    confirmation, token = request_site_confirmation(answered)
    answer_site_confirmation(confirmation, "declined", "Ольга", "Не было")
    approved = make_entry(people, site)
    approve(approved, people.mentor)
    db.session.commit()
    login(client, people.trainee)
    for entry in (answered, approved):
        page = page_text(client.get(f"/practice/{entry.id}"))
        assert "Создать ссылку для подтверждения" not in page
        refused = post(client, f"/practice/{entry.id}", {"action": "confirm"})
        assert refused.status_code == 400
    assert "подтверждение площадки больше не нужно" in page_text(client.get(f"/practice/{approved.id}"))
    assert count(SiteConfirmation) == 1
    assert "/confirm/" not in html(client.get(f"/practice/{answered.id}"))
    # A link made before the approval stops working once the entry is approved.
    pending = make_entry(people, site, minutes=30)
    _confirmation, token = request_site_confirmation(pending)
    approve(pending, people.mentor)
    db.session.commit()
    assert app.test_client().get(f"/confirm/{token}").status_code == 400


def test_a_link_expires_after_fourteen_days(app, people, site, monkeypatch):
    import lms.practice.services as services
    from lms.clock import utcnow

    entry = make_entry(people, site)
    _confirmation, token = request_site_confirmation(entry)
    db.session.commit()
    assert app.test_client().get(f"/confirm/{token}").status_code == 200
    later = utcnow() + timedelta(days=15)
    monkeypatch.setattr(services, "utcnow", lambda: later)
    assert app.test_client().get(f"/confirm/{token}").status_code == 400
