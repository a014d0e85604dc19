"""On a phone (360 px), nothing a trainee typed or chose is lost: a quiz keeps its answers, a written answer's
draft is saved while typing and when the tab closes, errors keep the form, work can be withdrawn and corrected,
and the site's confirmation link can be copied or shared."""
import re

import pytest
from sqlalchemy import select

from lms.auth.services import create_user
from lms.extensions import db
from lms.learning.models import Cohort
from lms.learning.services import enrol_trainee

pytestmark = pytest.mark.browser

PASSWORD = "first week trainee password"
QUIZ = "/courses/fixture-course/intro/assignments/intro-quiz"
ESSAY = "/courses/fixture-course/intro/assignments/intro-essay"
PLAN = "/courses/fixture-course/events/assignments/events-plan"


def new_trainee(app, email, name):
    """A trainee of the demo cohort of our own, so that other tests' data is untouched."""
    with app.app_context():
        trainee = create_user(email, name, ["trainee"], password=PASSWORD)
        enrol_trainee(db.session.scalar(select(Cohort)), trainee)
        db.session.commit()
    return email


def sign_in(page, base, email):
    page.goto(base + "/login")
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Войти").click()
    page.wait_for_url(base + "/")


def fits_the_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_quiz_keeps_the_answers_and_links_to_the_missing_one(server, server_app, page):
    base, _accounts, _env = server
    sign_in(page, base, new_trainee(server_app, "quiz.keeper@example.org", "Кира Тестова"))
    page.goto(base + QUIZ)
    page.get_by_role("group", name="1. Кто работает в соседском центре?").get_by_label("Менеджер сообщества").check()
    page.get_by_role("button", name="Отправить ответы").click()

    summary = page.locator("#quiz-errors")
    assert "1 вопрос без ответа" in summary.inner_text()
    assert page.get_by_role("group", name="1. Кто работает в соседском центре?") \
        .get_by_label("Менеджер сообщества").is_checked()
    fits_the_phone(page)
    summary.get_by_role("link", name=re.compile("Вопрос 2")).click()
    assert page.url.endswith("#question-q2")
    question = page.get_by_role("group", name="2. Что такое социальный капитал?")
    assert "На этот вопрос ещё нет ответа" in question.inner_text()
    question.get_by_label("Связи и доверие").check()
    page.get_by_role("button", name="Отправить ответы").click()
    assert "Тест пройден: 2 из 2." in page.inner_text("main")


def test_an_autosaved_draft_survives_closing_the_tab(server, server_app, page):
    base, _accounts, _env = server
    sign_in(page, base, new_trainee(server_app, "draft.keeper@example.org", "Дарья Черновая"))
    page.clock.install()
    page.goto(base + ESSAY)
    answer = page.get_by_label("Ответ (Markdown")
    answer.click()
    answer.press_sequentially("Мой двор на Филёвском")
    assert page.locator(".word-count").inner_text() == "4 слова"
    assert page.locator(".autosave-status").inner_text() == "Ещё не сохранено"
    page.clock.run_for(31_000)  # the 30-second autosave
    page.locator(".autosave-status", has_text="Черновик сохранён автоматически").wait_for()
    fits_the_phone(page)
    context = page.context
    page.close()

    again = context.new_page()
    again.goto(base + ESSAY)
    assert again.get_by_label("Ответ (Markdown").input_value() == "Мой двор на Филёвском"
    assert "черновик сохранён" in again.inner_text("main")


def test_leaving_with_unsaved_text_asks_first_and_saves_it(server, server_app, page):
    base, _accounts, _env = server
    sign_in(page, base, new_trainee(server_app, "draft.leaver@example.org", "Лев Уходящий"))
    page.goto(base + ESSAY)
    answer = page.get_by_label("Ответ (Markdown")
    answer.click()
    answer.press_sequentially("Ушёл, не сохранив")
    asked = []

    def leave_anyway(dialog):
        asked.append(dialog.type)
        dialog.accept()

    page.on("dialog", leave_anyway)
    page.get_by_role("link", name="Назад к модулю").click()
    page.wait_for_url(re.compile(r".*/courses/fixture-course/intro$"))
    assert asked == ["beforeunload"]
    for _attempt in range(20):  # the page sent the draft as it went (sendBeacon); it arrives a moment later
        page.goto(base + ESSAY)
        if page.get_by_label("Ответ (Markdown").input_value() == "Ушёл, не сохранив":
            break
        page.wait_for_timeout(250)
    assert page.get_by_label("Ответ (Markdown").input_value() == "Ушёл, не сохранив"

    # "Save draft" itself leaves the page without asking.
    page.get_by_role("button", name="Сохранить черновик").click()
    assert "Черновик сохранён." in page.inner_text("main") and asked == ["beforeunload"]


def test_a_wrong_file_keeps_the_note_and_a_refused_entry_keeps_the_form(server, server_app, page, tmp_path):
    base, _accounts, _env = server
    sign_in(page, base, new_trainee(server_app, "form.keeper@example.org", "Фёдор Формов"))
    wrong = tmp_path / "план.html"
    wrong.write_text("<html></html>")
    page.goto(base + PLAN)
    page.get_by_label("Файлы").set_input_files(str(wrong))
    page.get_by_label("Комментарий для наставника").fill("Смотрите второй лист")
    page.get_by_role("button", name="Отправить на проверку").click()
    assert "принимаются только" in page.inner_text("main")
    assert page.get_by_label("Комментарий для наставника").input_value() == "Смотрите второй лист"
    fits_the_phone(page)

    from tests.test_grading import PNG

    photo = tmp_path / "фото.png"
    photo.write_bytes(PNG)
    page.goto(base + "/practice/new")
    page.get_by_label("Площадка").select_option(label="Соседский центр «Филёвский Парк» (пилотный)")
    page.get_by_label("Начало").fill("10:00")
    page.get_by_label("Конец").fill("11:30")
    page.get_by_label("Вид деятельности").select_option(label="Мастерская или занятие")
    page.get_by_label("Дети и подростки").fill("7")
    page.get_by_label("Что происходило (Markdown)").fill("Рисовали карту двора.")
    page.get_by_label("Фото или документы").set_input_files(str(photo))
    page.get_by_role("button", name="Отправить наставнику").click()  # no reflection: refused
    main = page.inner_text("main")
    assert "напишите рефлексию" in main and "Не сохранено: фото.png. Выберите фото или документы ещё раз." in main
    assert page.get_by_label("Начало").input_value() == "10:00" and page.get_by_label("Конец").input_value() == "11:30"
    assert page.get_by_label("Дети и подростки").input_value() == "7"
    assert page.get_by_label("Что происходило (Markdown)").input_value() == "Рисовали карту двора."
    assert page.get_by_label("Вид деятельности").input_value() == "workshop_class"
    fits_the_phone(page)


def test_withdraw_correct_and_hand_in_again(server, server_app, page):
    base, _accounts, _env = server
    sign_in(page, base, new_trainee(server_app, "withdraw.me@example.org", "Вадим Забирающий"))
    page.goto(base + ESSAY)
    page.get_by_label("Ответ (Markdown").fill("Первый вариант с опечткой.")
    page.get_by_role("button", name="Отправить на проверку").click()
    page.get_by_role("button", name="Да, отправить").click()
    assert "Ответ отправлен." in page.inner_text("main")
    page.get_by_role("button", name="Забрать на исправление").click()
    assert "Работа забрана и снова стала черновиком" in page.inner_text("main")
    answer = page.get_by_label("Ответ (Markdown")
    assert answer.input_value() == "Первый вариант с опечткой."
    answer.fill("Первый вариант без опечатки.")
    page.get_by_role("button", name="Отправить на проверку").click()
    assert "Первый вариант без опечатки." in page.inner_text("main")
    page.get_by_role("button", name="Да, отправить").click()
    main = page.inner_text("main")
    assert "Ответ отправлен." in main and "Попытка 1 · отправлено, ждёт наставника" in main
    fits_the_phone(page)


def test_the_confirmation_link_is_copied_and_shared(server, server_app, browser, tmp_path):
    base, _accounts, _env = server
    email = new_trainee(server_app, "link.sharer@example.org", "Лиза Ссылкина")
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ru-RU")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    # The Web Share sheet is the phone's own; here it records what it was given.
    context.add_init_script("navigator.share = data => { window.sharedWith = data; return Promise.resolve(); };")
    page = context.new_page()
    page.set_default_timeout(10000)
    try:
        sign_in(page, base, email)
        page.goto(base + "/practice/new")
        page.get_by_label("Площадка").select_option(label="Соседский центр «Филёвский Парк» (пилотный)")
        page.get_by_label("или минут").fill("60")
        page.get_by_label("Вид деятельности").select_option(label="Мастерская или занятие")
        page.get_by_label("Что происходило (Markdown)").fill("Занятие по компосту.")
        page.get_by_label("Рефлексия").fill("Пришли соседи с третьего этажа.")
        page.get_by_role("button", name="Отправить наставнику").click()
        page.get_by_role("button", name="Создать ссылку для подтверждения").click()
        assert page.url.endswith("#confirmation")
        link = page.get_by_label("Ссылка для подтверждения").input_value()
        assert "/confirm/" in link

        page.get_by_role("button", name="Копировать").click()
        page.locator(".share-status", has_text="Ссылка скопирована").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == link
        page.get_by_role("button", name="Поделиться").click()
        assert page.evaluate("window.sharedWith.url") == link
        fits_the_phone(page)

        page.reload()
        assert page.get_by_label("Ссылка для подтверждения").input_value() == link  # listed while valid
        assert page.get_by_role("button", name="Создать ссылку для подтверждения").count() == 0
    finally:
        context.close()
