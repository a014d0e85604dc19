"""Signing in and out, set-password links, sessions and rate limits."""
import re
import time

import pytest
from itsdangerous.timed import TimestampSigner

from lms.auth.models import User
from lms.auth.services import end_sessions, make_set_password_token, set_password
from lms.certificates.services import issue_certificate
from lms.extensions import db
from tests.conftest import PASSWORD, csrf_token, login, page_text, post, send_notifications

WRONG = "Неверная электронная почта или пароль."


def test_sign_in_lands_on_dashboard(client, people):
    response = login(client, people.trainee)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Здравствуйте, Анна Соседова!" in page_text(client.get("/"))


def test_email_is_case_insensitive(client, people):
    assert login(client, "  TRAINEE@Example.ORG ").status_code == 302


def test_passwords_are_hashed_with_argon2id(people):
    assert people.trainee.password_hash.startswith("$argon2id$")
    assert PASSWORD not in people.trainee.password_hash


def test_wrong_password_and_unknown_email_get_the_same_answer(client, people):
    wrong = login(client, people.trainee, "wrong password")
    unknown = login(client, "nobody@example.org", "wrong password")
    assert wrong.status_code == unknown.status_code == 200
    assert WRONG in page_text(wrong)
    assert page_text(wrong) == page_text(unknown)
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_sign_in(client, people):
    people.trainee.active = False
    db.session.commit()
    response = login(client, people.trainee)
    assert response.status_code == 200
    assert "Ваша учётная запись отключена" in page_text(response)
    assert client.get("/").status_code == 302


def test_inactive_user_with_wrong_password_learns_nothing(client, people):
    people.trainee.active = False
    db.session.commit()
    assert WRONG in page_text(login(client, people.trainee, "wrong password"))


def test_login_without_csrf_token_is_refused(client, people):
    response = client.post("/login", data={"email": people.trainee.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_logout_needs_post_and_csrf(client, people):
    login(client, people.trainee)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_login_is_rate_limited_per_account(client, people):
    for _ in range(5):
        assert login(client, people.trainee, "wrong password").status_code == 200
    response = login(client, people.trainee, PASSWORD)
    assert response.status_code == 429
    assert "Слишком много попыток" in page_text(response)


def test_login_is_rate_limited_per_client(client, people):
    for i in range(10):
        assert login(client, f"nobody{i}@example.org", "wrong").status_code == 200
    assert login(client, people.trainee).status_code == 429


def test_successful_logins_do_not_use_up_the_limit(client, people):
    for _ in range(7):
        assert login(client, people.trainee).status_code == 302
        post(client, "/logout", token_from="/")


EVIL_NEXT = [
    "//evil.example", "https://evil.example", "http://evil.example/", "///evil.example", "////evil.example",
    "/\\evil.example", "\\\\evil.example", "\\/evil.example", "/\t/evil.example", "/\n/evil.example",
    " //evil.example", "https:evil.example", "http:/evil.example", "javascript:alert(1)",
    "data:text/html,hi", "evil.example", "//evil.example/%2f..", "/%0d%0aSet-Cookie:x=1",
    "\u3002evil.example", "//evil.example@localhost/", "https://localhost@evil.example/",
]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_next_never_leaves_the_site(client, people, target):
    response = login(client, people.trainee, next_url=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/" or (location == target and target.startswith("/%0d")), location


def test_next_to_a_local_page_is_followed(client, people):
    response = login(client, people.trainee, next_url="/courses/fixture-course?x=1")
    assert response.headers["Location"] == "/courses/fixture-course?x=1"


def test_login_page_offers_next_from_the_redirect(client, people):
    response = client.get("/courses/fixture-course")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="/courses/fixture-course"' in html


def test_session_cookie_flags(client, people):
    response = login(client, people.trainee)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_behind_https(app_factory):
    app = app_factory(LMS_BASE_URL="https://lms.example.org")
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_new_session_on_login(client, people):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, people.trainee)
    with client.session_transaction() as session:
        assert "planted" not in session


def _session_cookie(client):
    return client.get_cookie("session").value


def test_cookie_replayed_after_logout_is_refused(client, people):
    login(client, people.trainee)
    stolen = _session_cookie(client)
    post(client, "/logout", token_from="/")
    client.set_cookie("session", stolen)
    assert client.get("/").status_code == 302


def test_logout_ends_every_session_of_the_user(app, people):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, people.trainee)
    login(laptop, people.trainee)
    post(phone, "/logout", token_from="/")
    assert laptop.get("/").status_code == 302


def test_password_change_and_deactivation_end_sessions(app, people):
    first, second = app.test_client(), app.test_client()
    login(first, people.trainee)
    login(second, people.mentor)
    set_password(people.trainee, "a brand new password")
    people.mentor.active = False
    end_sessions(people.mentor)
    db.session.commit()
    assert first.get("/").status_code == 302
    assert second.get("/").status_code == 302


def test_role_change_takes_effect_on_next_request(client, people):
    login(client, people.mentor)
    assert "Мои группы" in page_text(client.get("/"))
    people.mentor.role_rows[0].role = "trainee"
    db.session.commit()
    text = page_text(client.get("/"))
    assert "Мои группы" not in text and "Мои курсы" in text


def test_set_password_link_sets_password_and_signs_in(client, make_user):
    user = make_user(password=None, email="new@example.org")
    token = make_set_password_token(user)
    db.session.commit()  # the link's key, as issuing it in a request would
    assert client.get(f"/set-password/{token}").status_code == 200
    response = post(client, f"/set-password/{token}", {"password": "my new password", "confirm": "my new password"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert login(client, "new@example.org", "my new password").status_code == 302


def test_set_password_link_is_single_use(client, make_user):
    user = make_user(password=None)
    token = make_set_password_token(user)
    db.session.commit()  # the link's key, as issuing it in a request would
    post(client, f"/set-password/{token}", {"password": "my new password", "confirm": "my new password"})
    response = client.get(f"/set-password/{token}")
    assert response.status_code == 400
    assert "Эта ссылка недействительна" in page_text(response)


def test_set_password_link_expires_after_seven_days(client, make_user, monkeypatch):
    user = make_user(password=None)
    token = make_set_password_token(user)
    db.session.commit()  # the link's key, as issuing it in a request would
    later = int(time.time()) + 7 * 24 * 3600 + 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    assert client.get(f"/set-password/{token}").status_code == 400


def test_set_password_link_forged_or_truncated(client, make_user):
    token = make_set_password_token(make_user(password=None))
    db.session.commit()  # the link's key, as issuing it in a request would
    assert client.get(f"/set-password/{token[:-3]}").status_code == 400
    assert client.get("/set-password/not-a-token").status_code == 400


def test_set_password_bad_input_changes_nothing(client, make_user):
    user = make_user(password=None)
    token = make_set_password_token(user)
    db.session.commit()  # the link's key, as issuing it in a request would
    short = post(client, f"/set-password/{token}", {"password": "short", "confirm": "short"})
    assert short.status_code == 200 and "Не меньше 10 символов." in page_text(short)
    mismatch = post(client, f"/set-password/{token}", {"password": "long enough 1", "confirm": "long enough 2"})
    assert "Пароли не совпадают." in page_text(mismatch)
    assert db.session.get(User, user.id).password_hash is None


def test_forgot_password_without_mail_says_ask_the_administrator(client, people):
    known = post(client, "/forgot-password", {"email": people.trainee.email})
    unknown = post(client, "/forgot-password", {"email": "nobody@example.org"})
    assert "Попросите администратора" in page_text(known)
    assert page_text(known) == page_text(unknown)


def test_forgot_password_with_mail_sends_a_working_link(app, people, mail_server):
    client = app.test_client()
    known = post(client, "/forgot-password", {"email": people.trainee.email})
    unknown = post(client, "/forgot-password", {"email": "nobody@example.org"})
    assert page_text(known) == page_text(unknown) and "мы отправили" in page_text(known)
    send_notifications(app)
    (message,) = mail_server.messages
    assert message["To"] == people.trainee.email
    link = re.search(r"http://localhost(/set-password/\S+)", message.get_body(("plain",)).get_content()).group(1)
    assert post(client, link, {"password": "brand new password", "confirm": "brand new password"}).status_code == 302


def test_forgot_password_is_rate_limited(client, people):
    for _ in range(5):
        post(client, "/forgot-password", {"email": people.trainee.email})
    assert post(client, "/forgot-password", {"email": people.trainee.email}).status_code == 429


# --- /settings ---------------------------------------------------------------------------------------------------

def settings_post(client, data):
    return post(client, "/settings", data, token_from="/settings")


def test_settings_change_the_name_until_a_certificate_is_issued(client, people):
    login(client, people.trainee)
    page = page_text(client.get("/settings"))
    assert "Полное имя, как его напечатают в вашем сертификате" in page and "Какие уведомления приходят по почте" in page
    response = settings_post(client, {"action": "name", "name": " Анна  Соседова-Ким "})
    assert response.status_code == 302 and response.headers["Location"] == "/settings#name"
    assert db.session.get(User, people.trainee.id).name == "Анна Соседова-Ким"
    blank = settings_post(client, {"action": "name", "name": "   "})
    assert blank.status_code == 400 and "Укажите имя." in page_text(blank)
    assert 'aria-invalid="true" aria-describedby="name-error"' in blank.get_data(as_text=True)
    issue_certificate(people.trainee, people.course, people.admin, override_reason="test")
    db.session.commit()
    refused = settings_post(client, {"action": "name", "name": "Другое Имя"})
    assert refused.status_code == 400 and "обратитесь к администратору" in page_text(refused)
    assert db.session.get(User, people.trainee.id).name == "Анна Соседова-Ким"
    assert "Ваш сертификат уже выдан с этим именем" in page_text(client.get("/settings"))


def test_settings_language_is_remembered(client, people):
    login(client, people.mentor)
    assert settings_post(client, {"action": "language", "locale": "en"}).status_code == 302
    assert db.session.get(User, people.mentor.id).locale == "en"
    assert "Interface language" in page_text(client.get("/settings"))
    bad = settings_post(client, {"action": "language", "locale": "xx"})
    assert bad.status_code == 400 and db.session.get(User, people.mentor.id).locale == "en"


def test_settings_password_change_keeps_this_session_and_ends_the_others(app, client, people):
    login(client, people.trainee)
    elsewhere = app.test_client()
    login(elsewhere, people.trainee)
    wrong = settings_post(client, {"action": "password", "current_password": "wrong", "new_password": "a new password",
                                   "confirm_password": "a new password"})
    assert wrong.status_code == 400 and "Текущий пароль указан неверно." in page_text(wrong)
    mismatch = settings_post(client, {"action": "password", "current_password": PASSWORD,
                                      "new_password": "a new password", "confirm_password": "another one"})
    assert "Новые пароли не совпадают." in page_text(mismatch)
    short = settings_post(client, {"action": "password", "current_password": PASSWORD, "new_password": "short",
                                   "confirm_password": "short"})
    assert short.status_code == 400 and "не короче 10 символов" in page_text(short)
    assert login(app.test_client(), people.trainee).status_code == 302  # nothing changed so far
    done = settings_post(client, {"action": "password", "current_password": PASSWORD,
                                  "new_password": "a new password", "confirm_password": "a new password"})
    assert done.status_code == 302 and client.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302  # signed out there
    assert login(app.test_client(), people.trainee.email, "a new password").status_code == 302


def test_settings_e_mail_change_is_confirmed_from_the_new_address(app, people, mail_server):
    client = app.test_client()
    login(client, people.trainee)
    taken = settings_post(client, {"action": "email", "email": people.mentor.email})
    assert taken.status_code == 400 and "уже есть" in page_text(taken)
    same = settings_post(client, {"action": "email", "email": people.trainee.email})
    assert "Это и так ваш адрес почты." in page_text(same)
    sent = settings_post(client, {"action": "email", "email": "Anna.New@Example.org"})
    assert sent.status_code == 302 and db.session.get(User, people.trainee.id).email == "trainee@example.org"
    send_notifications(app)
    (message,) = mail_server.messages
    assert message["To"] == "anna.new@example.org"
    link = re.search(r"http://localhost(/settings/email/\S+)", message.get_body(("plain",)).get_content()).group(1)
    visitor = app.test_client()  # the link may be opened where the person is not signed in
    assert "anna.new@example.org" in page_text(visitor.get(link))
    assert db.session.get(User, people.trainee.id).email == "trainee@example.org"  # opening it changes nothing
    assert post(visitor, link, {}, token_from=link).status_code == 302
    assert db.session.get(User, people.trainee.id).email == "anna.new@example.org"
    stale = visitor.get(link)
    assert stale.status_code == 400 and "недействительна" in page_text(stale)
    assert visitor.get("/settings/email/forged").status_code == 400
    assert login(app.test_client(), "anna.new@example.org").status_code == 302


def test_settings_e_mail_change_to_an_address_taken_meanwhile_changes_nothing(app, people, make_user, mail_server):
    client = app.test_client()
    login(client, people.trainee)
    settings_post(client, {"action": "email", "email": "wanted@example.org"})
    send_notifications(app)
    link = re.search(r"http://localhost(/settings/email/\S+)",
                     mail_server.messages[0].get_body(("plain",)).get_content()).group(1)
    make_user(email="wanted@example.org")
    refused = post(app.test_client(), link, {}, token_from="/login")
    assert refused.status_code == 400 and "уже есть" in page_text(refused)
    assert db.session.get(User, people.trainee.id).email == "trainee@example.org"


def test_settings_without_mail_say_who_changes_the_address(client, people):
    login(client, people.trainee)
    refused = settings_post(client, {"action": "email", "email": "new@example.org"})
    assert refused.status_code == 400 and "обратитесь к администратору" in page_text(refused)
