"""Notifications (issue 14): the bell, what is notified, e-mail through a real SMTP server, digests, retries,
one-click unsubscribe, settings, and senders running at the same moment."""
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from lms.auth.models import User
from lms.auth.services import create_user
from lms.clock import utcnow
from lms.curriculum.models import Assignment
from lms.extensions import db
from lms.grading.services import grade_submission, save_text_answer, submit_files
from lms.notifications.models import Notification, NotificationSetting, OutgoingEmail
from lms.notifications.sending import send_notifications as send_due
from lms.notifications.services import next_digest_at, notify, queue_email, queue_link_email
from lms.partners.services import save_partner
from lms.practice.services import EntryData, save_practice_entry
from lms.uploads import check_upload
from tests.conftest import MailServer, free_port, login, page_text, post, send_notifications
from tests.test_grading import PDF, grade

ROOT = Path(__file__).resolve().parent.parent


def assignment(key):
    return db.session.scalar(select(Assignment).filter_by(key=key))


def essay(people):
    submission = save_text_answer(people.trainee, assignment("intro-essay"), "Мой район", submit=True)
    db.session.commit()
    return submission


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_mentor_grades_and_the_trainee_gets_one_e_mail_in_russian(app, people, mail_server):
    submission = essay(people)
    mentor = app.test_client()
    login(mentor, people.mentor)
    assert grade(mentor, submission, "pass", "Хорошо", scores=("4", "4")).status_code == 302
    trainee = app.test_client()
    login(trainee, people.trainee)
    page = trainee.get("/").get_data(as_text=True)
    assert 'class="bell has-unread"' in page and "Уведомления: 1 непрочитанное" in page
    assert "«Эссе о районе» оценено: зачтено, баллы: 8." in page_text(trainee.get("/notifications"))

    send_notifications(app)
    (message,) = mail_server.messages
    assert message.recipients == [people.trainee.email]
    assert message["Subject"] == "«Эссе о районе» оценено: зачтено, баллы: 8."
    assert MailServer.sender(message) == "Школа менеджеров соседских сообществ <lms@localhost>"
    text, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
    assert "Здравствуйте, Анна Соседова!" in text and "<a href=\"http://localhost/courses/" in html
    link = re.search(r"http://localhost(/courses/\S+)", text).group(1)
    assert "Хорошо" in page_text(trainee.get(link))  # the link opens the graded work with its feedback
    unsubscribe = message["List-Unsubscribe"].strip()  # a long header is folded onto a second line
    assert unsubscribe.startswith("<http://localhost/unsubscribe/") and unsubscribe.endswith(">")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    assert "sent 0" in send_notifications(app)
    assert len(mail_server.messages) == 1


def test_e_mail_is_in_the_recipients_language(app, people, mail_server):
    people.trainee.locale = "en"
    submission = essay(people)
    grade_submission(submission, people.mentor, [None, None], "Please add examples", "return", submission.version)
    db.session.commit()
    send_notifications(app)
    (message,) = mail_server.messages
    assert message["Subject"] == "“Эссе о районе” is returned to you for revision."
    assert "Hello, Анна Соседова!" in message.get_body(("plain",)).get_content()


def test_what_is_notified_to_whom(app, people):
    site = save_partner(None, "Центр", "centre")
    entry = save_practice_entry(people.trainee, EntryData(
        cohort=people.cohort, site=site, date=utcnow().date() - timedelta(days=1), duration_minutes=60,
        activity_type="workshop_class", description="Занятие", reflection="Итоги"), submit=True)
    submit_files(people.trainee, assignment("events-plan"), [check_upload("plan.pdf", PDF)])
    db.session.commit()
    kinds = lambda user: sorted(db.session.scalars(select(Notification.kind).where(  # noqa: E731
        Notification.user_id == user.id)))
    assert kinds(people.mentor) == ["practice_submitted", "work_submitted"]
    assert kinds(people.other_mentor) == [] and kinds(people.trainee) == []

    from lms.practice.services import review_practice_entry
    review_practice_entry(entry, people.mentor, "return", "Добавьте число участников", entry.version)
    db.session.commit()
    assert kinds(people.trainee) == ["practice_returned"]
    assert db.session.get(User, people.trainee.id).unread_notifications == 1


def test_a_notification_exists_if_and_only_if_its_cause_commits(app, people):
    submission = essay(people)
    before = count(Notification)
    grade_submission(submission, people.mentor, [4, 4], "Хорошо", "pass", submission.version)
    db.session.rollback()
    assert count(Notification) == before
    assert db.session.get(User, people.trainee.id).unread_notifications == 0
    submission = db.session.merge(submission)
    grade_submission(submission, people.mentor, [4, 4], "Хорошо", "pass", submission.version)
    db.session.commit()
    assert count(Notification, Notification.user_id == people.trainee.id) == 1


def test_mentors_get_one_daily_digest_of_waiting_work(app, people, mail_server):
    essay(people)
    submit_files(people.trainee, assignment("events-plan"), [check_upload("plan.pdf", PDF)])
    db.session.commit()
    assert send_due().sent == 0  # a digest waits for its hour
    due = next_digest_at(utcnow())
    assert db.session.scalar(select(func.min(Notification.email_due_at))) == due
    result = send_due(now=due + timedelta(minutes=1))
    assert (result.composed, result.sent) == (1, 1)
    (message,) = mail_server.messages
    assert message.recipients == [people.mentor.email]
    assert message["Subject"] == "Работа в моей очереди на проверку — обновлений: 2"
    text = message.get_body(("plain",)).get_content()
    assert "Анна Соседова сдаёт «Эссе о районе»." in text and "Анна Соседова сдаёт «План мероприятия»." in text
    assert send_due(now=due + timedelta(minutes=2)).sent == 0


def test_a_refusal_is_retried_later_and_then_sent_once(app, people, mail_server):
    mail_server.refuse = ["451 4.3.0 Try again later"]
    queue_link_email(people.trainee.email, "Ссылка", "Откройте ссылку:", "http://localhost/x", user=people.trainee)
    db.session.commit()
    first = send_due()
    assert (first.sent, first.retrying) == (0, 1) and mail_server.messages == []
    email = db.session.scalar(select(OutgoingEmail))
    assert email.status == "pending" and email.attempts == 1 and "451" in email.last_error
    assert send_due().sent == 0  # not before its backoff
    assert send_due(now=utcnow() + timedelta(minutes=2)).sent == 1
    assert len(mail_server.messages) == 1
    assert send_due(now=utcnow() + timedelta(minutes=10)).sent == 0


def test_an_undeliverable_address_ends_as_a_failure_administrators_see(app, people, mail_server):
    people.trainee.email = "anna@invalid.example"
    queue_link_email(people.trainee.email, "Ссылка", "Откройте ссылку:", "http://localhost/x", user=people.trainee)
    db.session.commit()
    assert send_due().failed == 1
    email = db.session.scalar(select(OutgoingEmail))
    assert email.status == "failed" and "550" in email.last_error
    assert db.session.scalar(select(Notification.kind).where(Notification.user_id == people.admin.id)) == \
        "email_failed"
    admin = app.test_client()
    login(admin, people.admin)
    page = page_text(admin.get("/admin/emails"))
    assert "anna@invalid.example" in page and "550 5.1.1 No such mailbox" in page and "не доставлено" in page


def test_an_internationalised_address_is_sent_with_smtputf8(app, people, mail_server):
    queue_email("соседка@пример.рф", "Приглашение", "Текст", "<p>Текст</p>")
    queue_email("neighbour@example.org", "Приглашение", "Текст", "<p>Текст</p>")
    db.session.commit()
    send_notifications(app)
    assert sorted(m.recipients[0] for m in mail_server.messages) == ["neighbour@example.org", "соседка@пример.рф"]
    assert db.session.scalar(select(func.count()).select_from(OutgoingEmail).where(OutgoingEmail.status == "sent")) \
        == 2


def test_one_click_unsubscribe_turns_the_group_off_without_signing_in(app, people, mail_server):
    submission = essay(people)
    grade_submission(submission, people.mentor, [4, 4], "Хорошо", "pass", submission.version)
    db.session.commit()
    send_notifications(app)
    url = urlsplit(mail_server.messages[0]["List-Unsubscribe"].strip().strip("<>")).path
    visitor = app.test_client()
    assert "Больше не присылать эти письма?" in page_text(visitor.get(url))
    done = visitor.post(url, data={"List-Unsubscribe": "One-Click"})  # RFC 8058: no CSRF token, no session
    assert done.status_code == 200 and "Письма отключены" in page_text(done)
    assert "Настройки писем" in page_text(done)
    assert db.session.get(NotificationSetting, (people.trainee.id, "grades")).mode == "off"
    tampered = visitor.post(url[:-3] + "abc")
    assert tampered.status_code == 400 and "Ссылка не работает" in page_text(tampered)
    assert visitor.get("/unsubscribe/not-a-token").status_code == 400


def test_settings_save_choices_and_refuse_unknown_values(client, people):
    login(client, people.mentor)
    page = client.get("/settings/notifications").get_data(as_text=True)
    assert 'name="queue" value="digest" checked' in page and 'name="grades"' not in page
    refused = post(client, "/settings/notifications", {"queue": "hourly"})
    assert refused.status_code == 400 and "Выберите один из предложенных вариантов" in page_text(refused)
    assert db.session.get(NotificationSetting, (people.mentor.id, "queue")) is None
    post(client, "/settings/notifications", {"queue": "now"})
    assert db.session.get(NotificationSetting, (people.mentor.id, "queue")).mode == "now"


def test_bell_list_opening_and_marking_read(app, people):
    first = notify(people.trainee, "certificate_issued", "/certificates", actor=people.admin, title="Курс")
    notify(people.trainee, "certificate_revoked", "/certificates", actor=people.admin, title="Курс")
    db.session.commit()
    stranger = app.test_client()
    login(stranger, people.other)
    assert post(stranger, f"/notifications/{first.id}/read", token_from="/").status_code == 404
    assert stranger.get(f"/notifications/{first.id}").status_code == 404
    client = app.test_client()
    login(client, people.trainee)
    listing = page_text(client.get("/notifications"))
    assert listing.index("отозван") < listing.index("выдан") and "Ирина Админ" in listing
    opened = client.get(f"/notifications/{first.id}")
    assert opened.status_code == 302 and opened.headers["Location"] == "/certificates"
    assert db.session.get(User, people.trainee.id).unread_notifications == 1
    post(client, "/notifications/read-all", token_from="/notifications")
    assert db.session.get(User, people.trainee.id).unread_notifications == 0
    assert count(Notification, Notification.read_at.is_(None)) == 0


def test_deactivated_people_get_nothing_and_their_pending_e_mail_is_dropped(app, people, mail_server):
    queue_link_email(people.trainee.email, "Ссылка", "Откройте:", "http://localhost/x", user=people.trainee)
    db.session.commit()
    admin = app.test_client()
    login(admin, people.admin)
    post(admin, f"/admin/users/{people.trainee.id}", {"action": "deactivate"})
    assert db.session.scalar(select(OutgoingEmail.status)) == "dropped"
    assert notify(db.session.get(User, people.trainee.id), "certificate_issued", "/certificates", title="К") is None
    send_notifications(app)
    assert mail_server.messages == []


def test_without_mail_notifications_stay_in_the_app(app, people, runner):
    submission = essay(people)
    grade_submission(submission, people.mentor, [4, 4], "Хорошо", "pass", submission.version)
    db.session.commit()
    assert count(Notification, Notification.email_due_at.is_not(None)) == 0 and count(OutgoingEmail) == 0
    assert "E-mail is off" in runner.invoke(args=["lms", "send-notifications"]).output
    admin = app.test_client()
    login(admin, people.admin)
    assert "Почта выключена" in page_text(admin.get("/admin/emails"))


def test_mentor_start_page_shows_what_waits_by_age(app, people):
    old = essay(people)
    old.submitted_at = utcnow() - timedelta(days=6)
    submit_files(people.trainee, assignment("events-plan"), [check_upload("plan.pdf", PDF)])
    db.session.commit()
    client = app.test_client()
    login(client, people.mentor)
    text = page_text(client.get("/"))
    assert "Ждёт вас" in text and "Ответы 1 0 1" in text and "Записи практики 0 0 0" in text


def test_a_failed_sync_tells_administrators(app, people, tmp_path, runner):
    broken = tmp_path / "courses" / "broken"
    broken.mkdir(parents=True)
    (broken / "course.md").write_text("---\ntitle: [\n---\n")
    app.config["LMS_COURSES_DIR"] = str(tmp_path / "courses")
    assert runner.invoke(args=["lms", "sync-courses"]).exit_code == 1
    assert db.session.scalar(select(Notification.kind).where(Notification.user_id == people.admin.id)) == \
        "sync_failed"


# --- two senders at once ---------------------------------------------------------------------------

@pytest.fixture
def shared_app(app_factory, tmp_path):
    """A database two processes share: the test's on PostgreSQL, a file on SQLite."""
    if os.environ.get("TEST_DATABASE_URL"):
        return app_factory()
    return app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'lms.sqlite3'}")


def test_two_senders_at_the_same_moment_send_each_e_mail_once(shared_app):
    from aiosmtpd.controller import Controller

    server = MailServer()
    controller = Controller(server, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        for n in range(60):
            user = create_user(f"person{n}@example.org", f"Человек {n}", ["trainee"])
            queue_link_email(user.email, f"Письмо {n}", "Откройте:", "http://localhost/x", user=user)
        db.session.commit()
        env = {**os.environ, "DATABASE_URL": shared_app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "s",
               "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(controller.port), "MAIL_USE_TLS": "false",
               "LMS_SIGNING_KEY_PATH": shared_app.config["LMS_SIGNING_KEY_PATH"]}
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "lms", "send-notifications"]
        senders = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                   for _ in range(2)]
        outputs = [sender.communicate(timeout=120)[0].decode() for sender in senders]
        assert [sender.returncode for sender in senders] == [0, 0], outputs
    finally:
        controller.stop()
    subjects = sorted(message["Subject"] for message in server.messages)
    assert len(subjects) == 60 and len(set(subjects)) == 60, outputs
    db.session.expire_all()
    assert count(OutgoingEmail, OutgoingEmail.status == "sent") == 60


def test_the_quick_header_folding_writes_what_the_classic_policy_writes(app):
    import io
    from email.generator import BytesGenerator
    from email.policy import compat32

    from lms.mail import SMTP_POLICY, build_message

    for subject in ("Работа «Эссе о районе» зачтена: длинная тема, которую нужно перенести на вторую строку",
                    "Short", "A plain ASCII subject that is long enough to need folding when it goes past 78"):
        message = build_message("trainee@example.org", subject, "Текст", "<p>Текст</p>", {
            "List-Unsubscribe": "<https://lms.example.org/unsubscribe/" + "a" * 60 + ">"})
        quick, classic = io.BytesIO(), io.BytesIO()
        BytesGenerator(quick, mangle_from_=False, policy=SMTP_POLICY).flatten(message)
        BytesGenerator(classic, mangle_from_=False, policy=compat32.clone(linesep="\r\n")).flatten(message)
        assert quick.getvalue() == classic.getvalue()
