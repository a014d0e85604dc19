"""Logging practice offline on a page: entries kept while there is no connection arrive exactly once, with their
photos, when it returns, whatever happens to the connection or the session meanwhile; nobody else signing in on the
same page sees or sends them; the app is installable."""
import os

import pytest
from sqlalchemy import select

from lms.auth.models import User
from lms.extensions import db
from lms.practice.models import PracticeEntry
from lms.uploads import MAX_FILE_SIZE
from tests.browser.conftest import CHROMIUM, open_menu
from tests.browser.test_nothing_lost_flow import new_trainee, sign_in
from tests.test_grading import PNG

pytestmark = pytest.mark.browser
SITE = "Соседский центр «Филёвский Парк» (пилотный)"


def entries_of(app, email):
    """(description, attachment names) of each entry the trainee has on the server, oldest first."""
    with app.app_context():
        entries = db.session.scalars(select(PracticeEntry).join(User, User.id == PracticeEntry.trainee_id)
                                     .where(User.email == email).order_by(PracticeEntry.id)).all()
        return [(e.description_markdown, [a.filename for a in e.attachments]) for e in entries]


def ready_for_offline(page, base):
    """The practice log installs the service worker, which keeps the log and the form."""
    page.goto(base + "/practice")
    page.evaluate("() => navigator.serviceWorker.ready.then(() => null)")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    for _attempt in range(50):
        if page.evaluate("() => caches.open('lms-pages').then(c => c.keys()).then(k => k.length)") == 3:
            break
        page.wait_for_timeout(100)


def log_offline(page, base, minutes, text, photo=None, reflection="Получилось."):
    page.goto(base + "/practice/new")
    page.get_by_label("Площадка").select_option(label=SITE)
    page.get_by_label("или минут").fill(str(minutes))
    page.get_by_label("Вид деятельности").select_option(label="Мастерская или занятие")
    page.get_by_label("Что происходило (Markdown)").fill(text)
    page.get_by_label("Рефлексия").fill(reflection)
    if photo:
        page.get_by_label("Фото или документы").set_input_files(str(photo))
    page.get_by_role("button", name="Отправить наставнику").click()
    page.wait_for_url(base + "/practice#offline-queue")


def kept_offline(page, server, server_app, email, name, minutes, text, **fields):
    """A new trainee signs in, opens the log (which makes the app ready offline) and logs a session offline."""
    base, _accounts, _env = server
    sign_in(page, base, new_trainee(server_app, email, name))
    ready_for_offline(page, base)
    page.context.set_offline(True)
    log_offline(page, base, minutes, text, **fields)
    return base


def kept(page):
    page.locator("#offline-queue").wait_for()
    return page.locator("#offline-queue li").all_inner_texts()


def wait_until_sent(page, count):
    page.wait_for_function(f"() => document.querySelectorAll('#offline-queue .status-passed').length === {count}")


def test_two_entries_logged_offline_arrive_once_with_their_photo(server, server_app, page, tmp_path):
    base, _accounts, _env = server
    email = new_trainee(server_app, "offline.twice@example.org", "Ольга Офлайнова")
    photo = tmp_path / "двор.png"
    photo.write_bytes(PNG)
    sign_in(page, base, email)
    ready_for_offline(page, base)

    page.context.set_offline(True)
    log_offline(page, base, 90, "Субботник во дворе.", photo)
    log_offline(page, base, 45, "Встреча совета дома.")
    waiting = kept(page)
    assert len(waiting) == 2 and all("Ждёт отправки" in item for item in waiting)
    assert "1,5 ч" in waiting[0] and "0,8 ч" in waiting[1]
    assert entries_of(server_app, email) == []

    page.context.set_offline(False)
    wait_until_sent(page, 2)
    page.reload()
    page.wait_for_timeout(500)  # a second visit sends nothing again
    assert entries_of(server_app, email) == [("Субботник во дворе.", ["двор.png"]), ("Встреча совета дома.", [])]
    assert page.locator("#offline-queue").is_hidden()


def test_an_answer_lost_on_the_way_back_does_not_make_a_second_entry(server, server_app, page):
    email = "offline.lost@example.org"
    kept_offline(page, server, server_app, email, "Лев Потерянный", 60, "Лекция о компосте.")

    dropped = []

    def answered_then_dropped(route):
        route.fetch()  # the server makes the entry; the page never hears back
        dropped.append(route.request.url)
        route.abort("connectionreset")

    page.context.route("**/practice/queued", answered_then_dropped)
    page.context.set_offline(False)
    for _attempt in range(100):
        if dropped:
            break
        page.wait_for_timeout(100)
    assert dropped and len(entries_of(server_app, email)) == 1
    assert "Ждёт отправки" in kept(page)[0]

    page.context.unroute("**/practice/queued")
    page.reload()
    wait_until_sent(page, 1)
    assert len(entries_of(server_app, email)) == 1


def test_a_refused_entry_opens_in_the_form_with_the_message_on_its_field(server, server_app, page):
    email = "offline.refused@example.org"
    kept_offline(page, server, server_app, email, "Роза Отказова", 40, "Без рефлексии.", reflection="")
    page.context.set_offline(False)
    page.locator("#offline-queue li", has_text="Требует внимания").wait_for()
    page.locator("#offline-queue").get_by_role("link", name="Изменить").click()
    page.locator("#reflection-error").wait_for()
    assert "напишите рефлексию" in page.locator(".field.has-error", has=page.get_by_label("Рефлексия")).inner_text()
    assert page.get_by_label("Что происходило (Markdown)").input_value() == "Без рефлексии."
    assert page.get_by_label("или минут").input_value() == "40"
    page.get_by_label("Рефлексия").fill("Теперь с рефлексией.")
    page.get_by_role("button", name="Отправить наставнику").click()
    wait_until_sent(page, 1)
    assert entries_of(server_app, email) == [("Без рефлексии.", [])]


def test_an_entry_kept_offline_can_be_deleted_there(server, server_app, page):
    email = "offline.deleted@example.org"
    kept_offline(page, server, server_app, email, "Дина Удалова", 20, "Передумала.")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#offline-queue").get_by_role("button", name="Удалить").click()
    page.locator("#offline-queue").wait_for(state="hidden")
    page.context.set_offline(False)
    page.reload()
    page.wait_for_timeout(500)
    assert entries_of(server_app, email) == []


def test_an_expired_session_keeps_the_queue_until_the_trainee_signs_in(server, server_app, page):
    email = "offline.expired@example.org"
    base = kept_offline(page, server, server_app, email, "Ева Истёкшая", 30, "Кружок вязания.")
    page.context.clear_cookies()  # the session ends while the page is offline
    page.context.set_offline(False)
    page.get_by_role("link", name="Сеанс закончился").click()
    assert entries_of(server_app, email) == []
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль").fill("first week trainee password")
    page.locator("main").get_by_role("button", name="Войти").click()
    page.wait_for_url(base + "/practice")
    wait_until_sent(page, 1)
    assert len(entries_of(server_app, email)) == 1


def test_someone_else_on_the_same_phone_neither_sees_nor_sends_the_queue(server, server_app, page):
    first = "offline.first@example.org"
    base = kept_offline(page, server, server_app, first, "Фаина Первая", 60, "Чаепитие соседей.")
    second = new_trainee(server_app, "offline.second@example.org", "Семён Второй")
    page.context.clear_cookies()
    page.context.set_offline(False)

    sign_in(page, base, second)
    page.goto(base + "/practice")
    page.wait_for_timeout(1000)
    assert page.locator("#offline-queue").is_hidden()
    assert entries_of(server_app, first) == entries_of(server_app, second) == []

    # The first trainee, back on the phone, finds the entry and it is sent as theirs.
    page.context.clear_cookies()
    sign_in(page, base, first)
    page.goto(base + "/practice")
    wait_until_sent(page, 1)
    assert len(entries_of(server_app, first)) == 1 and entries_of(server_app, second) == []


def test_signing_out_with_entries_kept_asks_to_send_or_discard_them(server, server_app, page):
    email = "offline.leaving@example.org"
    base = kept_offline(page, server, server_app, email, "Леонид Уходящий", 60, "Прогулка по району.")
    open_menu(page)
    page.locator(".menu-panel").get_by_role("button", name="Выйти").click()
    page.wait_for_url(base + "/practice?sign-out=1#offline-queue")
    box = page.locator(".sign-out-box")
    box.wait_for()
    page.context.set_offline(False)
    box.get_by_role("button", name="Отправить и выйти").click()
    page.wait_for_url(base + "/login")
    assert len(entries_of(server_app, email)) == 1
    assert page.evaluate("() => caches.open('lms-pages').then(c => c.keys()).then(k => k.length)") == 0


def test_the_app_is_installable(server, server_app, browser, tmp_path):
    """Chromium offers to install only outside incognito: a profile on disk."""
    base, _accounts, _env = server
    context = browser.browser_type.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, viewport={"width": 360, "height": 740}, locale="ru-RU",
        args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--no-first-run"])
    try:
        page = context.pages[0]
        page.set_default_timeout(10000)
        sign_in(page, base, new_trainee(server_app, "offline.install@example.org", "Инна Установщица"))
        ready_for_offline(page, base)
        manifest = page.evaluate("() => fetch('/manifest.webmanifest').then(r => r.json())")
        assert manifest["short_name"] and manifest["display"] == "standalone"
        session = context.new_cdp_session(page)
        assert session.send("Page.getAppManifest")["errors"] == []
        assert session.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    finally:
        context.close()


def test_other_pages_offline_show_the_offline_page(server, server_app, page):
    base, _accounts, _env = server
    sign_in(page, base, new_trainee(server_app, "offline.elsewhere@example.org", "Эдуард Везде"))
    ready_for_offline(page, base)
    page.context.set_offline(True)
    page.goto(base + "/calendar")
    assert "Нет соединения" in page.inner_text("main")
    page.get_by_role("link", name="Дневник практики").first.click()
    page.wait_for_url(base + "/practice")


def test_a_photo_over_the_upload_limit_is_made_smaller_in_the_browser(server, server_app, page, tmp_path):
    from PIL import Image

    base, _accounts, _env = server
    sign_in(page, base, new_trainee(server_app, "offline.photo@example.org", "Фёкла Фотова"))
    big = tmp_path / "большое.png"
    Image.frombytes("RGB", (2100, 2100), os.urandom(2100 * 2100 * 3)).save(big)  # noise: hardly compressible
    assert big.stat().st_size > MAX_FILE_SIZE
    page.goto(base + "/practice/new")
    page.get_by_label("Фото или документы").set_input_files(str(big))
    page.wait_for_function("""limit => { const file = document.getElementById("files").files[0];
                                         return file.name === "большое.jpg" && file.size <= limit; }""",
                           arg=MAX_FILE_SIZE)
