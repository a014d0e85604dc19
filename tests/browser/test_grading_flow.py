"""A trainee submits a written answer, the mentor returns it, the trainee revises, the mentor passes it."""
import re

import pytest

from tests.browser.conftest import open_menu

pytestmark = pytest.mark.browser
ESSAY = "/courses/fixture-course/intro/assignments/intro-essay"


def sign_in(page, base, accounts, email):
    page.goto(base + "/login")
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль").fill(accounts[email][1])
    page.locator("main").get_by_role("button", name="Войти").click()
    page.wait_for_url(base + "/")


def sign_out(page):
    open_menu(page)
    page.get_by_role("button", name="Выйти").click()


def mentor_decides(page, base, accounts, decision, scores, feedback):
    sign_in(page, base, accounts, "mentor@example.org")
    page.get_by_role("link", name="Открыть очередь проверки").click()
    page.get_by_role("link", name="Эссе о районе").click()
    # Each criterion is a group of radio buttons, one per score, each named by its score and descriptor.
    for criterion, value in zip(("Полнота (0–5)", "Конкретность (0–5)"), scores, strict=True):
        if value:
            page.get_by_role("group", name=criterion).get_by_role("radio", name=re.compile(rf"^{value} —")).check()
    page.get_by_label("Отзыв для слушателя (Markdown)").fill(feedback)
    page.get_by_label(decision, exact=True).check()
    page.get_by_role("button", name="Сохранить", exact=True).click()
    assert "Оценка сохранена." in page.inner_text("main")
    sign_out(page)


def test_return_revise_and_pass(server, page):
    base, accounts, _env = server
    trainee = "trainee2@example.org"

    sign_in(page, base, accounts, trainee)
    page.goto(base + ESSAY)
    page.get_by_label("Ответ (Markdown").fill("Мой район — это **Филёвский Парк**.")
    page.get_by_role("button", name="Отправить на проверку").click()
    assert "Отправить на проверку?" in page.inner_text("main")  # handing in asks first
    page.get_by_role("button", name="Да, отправить").click()
    assert "Ответ отправлен." in page.inner_text("main")
    sign_out(page)

    mentor_decides(page, base, accounts, "Вернуть на доработку", ("2", "1"), "Добавьте примеры из жизни двора.")

    sign_in(page, base, accounts, trainee)
    assert "Новые оценки и отзывы" in page.inner_text("main")
    page.get_by_role("link", name="Эссе о районе").click()
    assert "Добавьте примеры из жизни двора." in page.inner_text("main")
    page.get_by_label("Ответ (Markdown").fill("Филёвский Парк: двор на Олеко Дундича, огород у центра, чат соседей.")
    page.get_by_role("button", name="Отправить на проверку").click()
    page.get_by_role("button", name="Да, отправить").click()
    sign_out(page)

    mentor_decides(page, base, accounts, "Зачтено", ("5", "4"), "Отлично, примеры убедительные.")

    sign_in(page, base, accounts, trainee)
    page.goto(base + ESSAY)
    main = page.inner_text("main")
    assert "Попытка 2 · пройдено" in main and "Отлично, примеры убедительные." in main
    assert "оценка 9 из 10" in main
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
