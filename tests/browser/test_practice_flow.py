"""On a phone: a trainee logs a session with a photo; the mentor returns it; the trainee fixes it; the
mentor approves it; the trainee's approved hours go up."""
import pytest

from tests.browser.conftest import open_menu
from tests.test_grading import PNG

pytestmark = pytest.mark.browser


def sign_in(page, base, accounts, email):
    page.goto(base + "/login")
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль").fill(accounts[email][1])
    page.locator("main").get_by_role("button", name="Войти").click()
    page.wait_for_url(base + "/")


def test_log_return_fix_approve(server, page, tmp_path):
    base, accounts, _env = server
    trainee, mentor = "trainee3@example.org", "mentor@example.org"
    photo = tmp_path / "фото.png"
    photo.write_bytes(PNG)

    sign_in(page, base, accounts, trainee)
    open_menu(page)
    page.get_by_role("link", name="Дневник практики").click()
    assert "0 из 10 ч" in page.inner_text("main")
    page.get_by_role("link", name="Записать занятие").click()
    page.get_by_label("Площадка").select_option(label="Соседский центр «Филёвский Парк» (пилотный)")
    page.get_by_label("Начало").fill("10:00")
    page.get_by_label("Конец").fill("12:00")
    page.get_by_label("Вид деятельности").select_option(label="Мастерская или занятие")
    page.get_by_label("Дети и подростки").fill("9")
    page.get_by_label("Что происходило (Markdown)").fill("Собирали скворечники.")
    page.get_by_label("Рефлексия").fill("Детям понравилось; нужно больше инструментов.")
    page.get_by_label("Фото или документы").set_input_files(str(photo))
    page.get_by_role("button", name="Отправить наставнику").click()
    assert "Запись отправлена наставнику." in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    open_menu(page)
    page.get_by_role("button", name="Выйти").click()

    sign_in(page, base, accounts, mentor)
    page.goto(base + "/mentor/queue?kind=practice")
    page.locator(".queue-item", has_text="Вера Районова").get_by_role("link").click()
    assert "фото.png" in page.inner_text("main")
    page.get_by_label("Комментарий для слушателя").fill("Уточните число родителей.")
    page.get_by_role("button", name="Вернуть на доработку").click()
    open_menu(page)
    page.get_by_role("button", name="Выйти").click()

    sign_in(page, base, accounts, trainee)
    open_menu(page)
    page.get_by_role("link", name="Дневник практики").click()
    page.get_by_role("link", name="Мастерская или занятие").first.click()
    assert "Уточните число родителей." in page.inner_text("main")
    page.get_by_label("Родители в декретном отпуске").fill("4")
    page.get_by_role("button", name="Отправить наставнику").click()
    assert "Запись отправлена наставнику." in page.inner_text("main")
    open_menu(page)
    page.get_by_role("button", name="Выйти").click()

    sign_in(page, base, accounts, mentor)
    page.goto(base + "/mentor/queue?kind=practice")
    page.locator(".queue-item", has_text="Вера Районова").get_by_role("link").click()
    page.get_by_role("button", name="Одобрить").click()
    assert "Запись одобрена." in page.inner_text("main")
    open_menu(page)
    page.get_by_role("button", name="Выйти").click()

    sign_in(page, base, accounts, trainee)
    open_menu(page)
    page.get_by_role("link", name="Дневник практики").click()
    main = page.inner_text("main")
    assert "2 из 10 ч" in main and "охвачено 13 участников" in main
