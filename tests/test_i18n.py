"""Russian by default, English on request, remembered per user; every visible string is translated."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from lms.auth.models import User
from lms.curriculum.models import Assignment
from lms.extensions import db
from lms.grading.services import save_text_answer
from tests.conftest import csrf_token, login, page_text, post

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "lms" / "translations"


def extracted_messages():
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / "lms", method_map, options_map, keywords=keywords):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def catalog(lang):
    with open(CATALOGS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def test_every_message_is_translated_into_russian_and_english():
    wanted = extracted_messages()
    assert len(wanted) > 50
    for lang in ("ru", "en"):
        messages = {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog(lang) if m.id}
        missing = sorted(wanted - set(messages))
        assert missing == [], f"run `make translations` and translate for {lang}: {missing}"
        untranslated = sorted(key for key in wanted if not all(
            messages[key].string if isinstance(messages[key].string, tuple) else [messages[key].string]))
        assert untranslated == [], f"untranslated in {lang}: {untranslated}"
        fuzzy = sorted(key for key in wanted if messages[key].fuzzy)
        assert fuzzy == [], f"fuzzy (unchecked) in {lang}: {fuzzy}"


def _plain(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def test_compiled_catalogs_are_up_to_date():
    for lang in ("ru", "en"):
        with open(CATALOGS / lang / "LC_MESSAGES" / "messages.mo", "rb") as f:
            compiled = {_plain(m.id): _plain(m.string) for m in read_mo(f) if m.id}
        source = {_plain(m.id): _plain(m.string) for m in catalog(lang) if m.id}
        assert compiled == source, f"run `make` to recompile {lang}"


def test_russian_is_the_default(client):
    text = page_text(client.get("/login"))
    assert "Войти" in text and "Электронная почта" in text


def test_anonymous_visitor_switches_to_english(client):
    response = client.post("/language", data={"locale": "en", "next": "/login",
                                               "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/login"
    text = page_text(client.get("/login"))
    assert "Sign in" in text and "E-mail" in text and "Войти" not in text


def test_unknown_language_is_refused(client):
    response = client.post("/language", data={"locale": "xx", "csrf_token": csrf_token(client)})
    assert response.status_code == 400


def test_choice_is_remembered_per_user(app, people):
    first = app.test_client()
    login(first, people.trainee)
    post(first, "/language", {"locale": "en", "next": "/"}, token_from="/")
    assert db.session.get(User, people.trainee.id).locale == "en"
    second = app.test_client()  # another device
    login(second, people.trainee)
    text = page_text(second.get("/"))
    assert "My courses" in text and "1 of 3" not in text and "0 of 3 modules done" in text


def test_form_validation_messages_are_translated(client, people):
    response = client.post("/login", data={"email": "", "password": "", "csrf_token": csrf_token(client)})
    assert "Обязательное поле." in page_text(response)


def test_russian_content_on_an_english_page_carries_its_lang(app, people):
    """Sentences composed in Python (notifications, messages, the audit log) mark the names and titles in them,
    escaped, and the log's CSV gets the plain text."""
    people.mentor.locale = people.admin.locale = "en"
    essay = db.session.scalar(select(Assignment).filter_by(key="intro-essay"))
    save_text_answer(people.trainee, essay, "Ответ", submit=True)
    db.session.commit()
    mentor = app.test_client()
    login(mentor, people.mentor)
    assert ('<span lang="ru">Анна Соседова</span> handed in “<span lang="ru">Эссе о районе</span>”.'
            in mentor.get("/notifications").get_data(as_text=True))
    schedule = f"/cohorts/{people.cohort.id}/schedule"
    post(mentor, schedule, {"action": "extension", "trainee": people.trainee.id, "assignment": essay.id,
                            "due": "2026-10-01", "reason": "Болела"})
    assert 'Extension given to <span lang="ru">Анна Соседова</span>.' in mentor.get(schedule).get_data(as_text=True)
    admin = app.test_client()
    login(admin, people.admin)
    url = f"/admin/users/{people.trainee.id}"
    post(admin, url, {"action": "profile", "name": "Анна <Ким>", "email": people.trainee.email})
    log = admin.get("/admin/audit?action=user.update").get_data(as_text=True)
    assert '<span lang="ru">Анна Соседова</span> → <span lang="ru">Анна &lt;Ким&gt;</span>' in log
    assert f'<a href="{url}"><span lang="ru">Анна &lt;Ким&gt;</span></a>' in log
    exported = admin.get("/admin/audit.csv?action=user.update").get_data(as_text=True)
    assert "Анна Соседова → Анна <Ким>" in exported and "span" not in exported


def test_a_literal_marked_as_content_follows_each_page_language(app):
    """`"«Вид»"|content` in a template is not folded when the template is compiled (in the first page's language)."""
    from flask_babel import force_locale

    with app.test_request_context():
        with force_locale("ru"):
            template = app.jinja_env.from_string('{{ "«Вид»"|content }}')  # compiled once, as a page's template
            assert template.render() == "«Вид»"
        with force_locale("en"):
            assert template.render() == '<span lang="ru">«Вид»</span>'


def test_stored_html_gets_the_lang_of_its_text_not_of_its_markup(app):
    """A module's body is HTML: its tags and entities are Latin letters, which do not make Russian text English."""
    from flask_babel import force_locale

    from lms.i18n import lang_attr

    with app.test_request_context():
        with force_locale("en"):
            assert lang_attr('<p class="lead">Соседский центр &mdash; <a href="/x">место</a></p>') == ' lang="ru"'
            assert lang_attr('<p class="lead">A centre &mdash; <a href="/x">a place</a></p>') == ""
        with force_locale("ru"):
            assert lang_attr('<p class="lead">Соседский центр &mdash; <a href="/x">место</a></p>') == ""
            assert lang_attr('<p class="lead">A centre &mdash; <a href="/x">a place</a></p>') == ' lang="en"'
            assert lang_attr("<p>&mdash; 2026</p>") == ""
