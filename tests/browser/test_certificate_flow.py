"""An administrator bulk-issues a cohort's certificates; the trainee downloads the PDF; an anonymous
visitor checks the verify link and sees valid, and after revocation, revoked."""
import pytest
from sqlalchemy import select

from lms.auth.models import find_user_by_email
from lms.auth.services import create_user
from lms.extensions import db
from lms.learning.models import Cohort
from lms.learning.services import enrol_trainee
from tests.browser.conftest import open_menu

pytestmark = pytest.mark.browser


PASSWORD = "certificate trainee password"
GRADUATES = (("graduate1@example.org", "Галина Выпускница"), ("graduate2@example.org", "Глеб Выпускник"))


def enrol_eligible_graduates(app):
    """Two more trainees in the demo cohort who meet every requirement, so other tests' data is untouched."""
    from tests.test_certificates import make_eligible

    with app.app_context():
        cohort = db.session.scalar(select(Cohort))
        people = type("People", (), {"mentor": find_user_by_email("mentor@example.org"), "cohort": cohort})
        for email, name in GRADUATES:
            trainee = create_user(email, name, ["trainee"], password=PASSWORD)
            enrol_trainee(cohort, trainee)
            db.session.commit()
            make_eligible(people, trainee)


def sign_in(page, base, accounts, email):
    page.goto(base + "/login")
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль").fill(accounts[email][1] if email in accounts else PASSWORD)
    page.locator("main").get_by_role("button", name="Войти").click()
    page.wait_for_url(base + "/")


def test_bulk_issue_download_verify_revoke(server, server_app, browser, page):
    base, accounts, _env = server
    enrol_eligible_graduates(server_app)

    sign_in(page, base, accounts, "admin@example.org")
    open_menu(page)
    page.get_by_role("link", name="Сертификаты").click()
    page.get_by_role("link", name="Выдать всем, кто выполнил требования…").click()
    assert "Будет выдано 2 сертификата" in page.inner_text("main")
    page.get_by_role("button", name="Выдать: 2").click()
    assert "Выдано 2 сертификата." in page.inner_text("main")
    open_menu(page)
    page.get_by_role("button", name="Выйти").click()

    sign_in(page, base, accounts, "graduate1@example.org")
    card = page.locator(".certificate").first
    assert "Действителен" in card.inner_text()
    with page.expect_download() as download_info:
        page.evaluate("url => { const a = document.createElement('a'); a.href = url; a.download = 'c.pdf';"
                      " document.body.appendChild(a); a.click(); }",
                      card.get_by_role("link", name="PDF").get_attribute("href"))
    assert download_info.value.path().read_bytes().startswith(b"%PDF")
    verify_href = card.get_by_role("link", name="Страница проверки").get_attribute("href")
    open_menu(page)
    page.get_by_role("button", name="Выйти").click()

    visitor = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    visitor.goto(base + verify_href)
    assert "Сертификат действителен" in visitor.inner_text("main")
    assert "Галина Выпускница" in visitor.inner_text("main")

    sign_in(page, base, accounts, "admin@example.org")
    open_menu(page)
    page.get_by_role("link", name="Сертификаты").click()
    row = page.locator("tr", has_text="Галина Выпускница")
    row.get_by_label("Причина (видна всем)").fill("Выдан по ошибке")
    row.get_by_role("button", name="Отозвать").click()
    assert "отозван" in page.inner_text("main")

    visitor.reload()
    text = visitor.inner_text("main")
    assert "Сертификат отозван" in text and "Выдан по ошибке" in text
    visitor.context.close()
