"""A trainee on a phone signs in, reads a module, marks it done and sees the progress change."""
import pytest

pytestmark = pytest.mark.browser


def test_trainee_marks_a_module_done(server, page):
    base, accounts, _env = server
    email = "trainee1@example.org"
    _role, password = accounts[email]

    page.goto(base + "/login")
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(base + "/")
    assert "Пройдено модулей: 1 из 3" in page.inner_text("main")

    page.get_by_role("link", name="Тестовый курс").click()
    page.get_by_role("link", name="Мероприятия", exact=True).click()
    assert page.get_by_role("heading", name="Мероприятия", level=1).is_visible()
    page.get_by_role("button", name="Отметить как пройденный").click()
    assert "Модуль отмечен как пройденный." in page.inner_text("main")

    page.get_by_role("link", name="Тестовый курс").click()
    assert "Пройдено модулей: 2 из 3" in page.inner_text("main")
    page.get_by_role("link", name="Главная").first.click()
    assert "Пройдено модулей: 2 из 3" in page.inner_text("main")
    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
