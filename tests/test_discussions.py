"""Conversation (issue 15): comments beside work, announcements, the cohort's discussion board and its
moderation."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.curriculum.models import Assignment
from lms.discussions.models import DiscussionPost, DiscussionThread, WorkComment
from lms.discussions.services import DiscussionError, edit_comment, edit_post, reply, start_thread
from lms.extensions import db
from lms.grading.services import save_text_answer
from lms.notifications.models import Notification
from tests.conftest import assert_error_tied, count_queries, login, page_text, post

HOSTILE = ['<script>alert(1)</script>', '[x](javascript:alert(1))', '<img src=x onerror=alert(1)>',
           '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', '<iframe src="https://evil.example"></iframe>']


def essay(people):
    assignment = db.session.scalar(select(Assignment).filter_by(key="intro-essay"))
    submission = save_text_answer(people.trainee, assignment, "Ответ", submit=True)
    db.session.commit()
    return submission


def kinds(user):
    return sorted(db.session.scalars(select(Notification.kind).where(Notification.user_id == user.id)))


def test_trainee_and_mentor_talk_beside_the_work(app, people):
    submission = essay(people)
    trainee, mentor = app.test_client(), app.test_client()
    login(trainee, people.trainee)
    login(mentor, people.mentor)
    page = "/courses/fixture-course/intro/assignments/intro-essay"
    response = post(trainee, f"/submissions/{submission.id}/comments", {"body": "Можно **сдать позже**?"},
                    token_from=page)
    assert response.status_code == 302 and response.headers["Location"].startswith(page)
    assert "work_comment" not in kinds(people.mentor) and kinds(people.mentor).count("comment_added") == 1
    grade = page_text(mentor.get(f"/mentor/submissions/{submission.id}"))
    assert "Можно сдать позже" in grade.replace(" ?", "?") and "Анна Соседова" in grade
    post(mentor, f"/submissions/{submission.id}/comments", {"body": "Да, до пятницы."},
         token_from=f"/mentor/submissions/{submission.id}")
    assert kinds(people.trainee) == ["comment_added"]
    assert "Да, до пятницы." in page_text(trainee.get(page))
    stranger = app.test_client()
    login(stranger, people.other)
    assert post(stranger, f"/submissions/{submission.id}/comments", {"body": "Чужой"}, token_from="/").status_code \
        == 404


def test_comment_edit_window_is_15_minutes(app, people, monkeypatch):
    submission = essay(people)
    from lms.discussions import services
    comment = services.add_comment(people.trainee, "Первый", submission=submission, trainee=people.trainee,
                                   cohort_id=people.cohort.id, url="/")
    # The clock stands still: exactly 15 minutes after writing, the author may still edit; a microsecond later not.
    now = comment.created_at + timedelta(minutes=15)
    monkeypatch.setattr(services, "utcnow", lambda: now)
    edit_comment(comment, people.trainee, "Исправлено")
    now += timedelta(microseconds=1)
    with pytest.raises(DiscussionError):
        edit_comment(comment, people.trainee, "Поздно")
    with pytest.raises(DiscussionError):
        edit_comment(comment, people.mentor, "Не моё")
    assert comment.body_markdown == "Исправлено"


def test_announcement_stays_on_the_start_page_until_read(app, people):
    mentor = app.test_client()
    login(mentor, people.mentor)
    url = f"/cohorts/{people.cohort.id}/announcements"
    refused = post(mentor, url, {"title": "", "body": "Текст"})
    assert refused.status_code == 400 and "Укажите название" in page_text(refused) and "Текст" in page_text(refused)
    assert_error_tied(refused, "title", "title-error", focused=True)
    post(mentor, url, {"title": "Семинар переносится", "body": "На **четверг**."})
    trainee = app.test_client()
    login(trainee, people.trainee)
    assert "Объявление: Семинар переносится" in page_text(trainee.get("/"))
    assert "четверг" in page_text(trainee.get(url))
    notification = db.session.scalar(select(Notification).where(Notification.user_id == people.trainee.id))
    trainee.get(f"/notifications/{notification.id}")
    assert "Семинар переносится" not in page_text(trainee.get("/"))
    assert post(trainee, url, {"title": "Я тоже", "body": "Могу?"}).status_code == 403


def test_board_threads_replies_search_and_notifications(app, people, make_user):
    trainee = app.test_client()
    login(trainee, people.trainee)
    board = f"/cohorts/{people.cohort.id}/discussions"
    empty = post(trainee, board, {"title": "Кейс", "body": "   "})
    assert empty.status_code == 400 and "Напишите что-нибудь" in page_text(empty)
    assert_error_tied(empty, "body", "body-error", focused=True)
    assert db.session.scalar(select(func.count()).select_from(DiscussionThread)) == 0
    response = post(trainee, board, {"title": "Как собрать инициативную группу", "body": "Поделитесь опытом."})
    thread = db.session.scalar(select(DiscussionThread))
    assert response.headers["Location"] == f"/discussions/{thread.id}"
    mentor = app.test_client()
    login(mentor, people.mentor)
    empty = post(mentor, f"/discussions/{thread.id}", {"action": "reply", "body": ""})
    assert empty.status_code == 400 and kinds(people.trainee) == []
    assert_error_tied(empty, "body", "body-error", focused=True)
    post(mentor, f"/discussions/{thread.id}", {"action": "reply", "body": "Начните с соседей по подъезду."})
    assert kinds(people.trainee) == ["discussion_reply"]
    text = page_text(trainee.get(f"/discussions/{thread.id}"))
    assert "Поделитесь опытом." in text and "Начните с соседей по подъезду." in text
    assert "Как собрать" in page_text(trainee.get(board + "?q=подъезду"))
    assert "Как собрать" not in page_text(trainee.get(board + "?q=бюджет"))
    outsider = app.test_client()
    login(outsider, people.other)
    assert outsider.get(board).status_code == 404 and outsider.get(f"/discussions/{thread.id}").status_code == 404


def test_moderation_pin_lock_and_hide_with_a_reason(app, people):
    thread = start_thread(people.cohort, people.trainee, "Тема", "Первый пост")
    bad = reply(thread, people.trainee, "Реклама")
    db.session.commit()
    mentor = app.test_client()
    login(mentor, people.mentor)
    post(mentor, f"/discussions/{thread.id}", {"action": "pin"})
    post(mentor, f"/discussions/{thread.id}", {"action": "lock"})
    post(mentor, f"/posts/{bad.id}", {"action": "hide", "reason": "Реклама не по теме"},
         token_from=f"/discussions/{thread.id}")
    db.session.refresh(thread)
    assert thread.pinned and thread.locked
    trainee = app.test_client()
    login(trainee, people.trainee)
    page = page_text(trainee.get(f"/discussions/{thread.id}"))
    assert "Скрыто модератором: Реклама не по теме" in page  # the author sees why
    other_trainee = app.test_client()
    from lms.auth.services import create_user
    from lms.learning.services import enrol_trainee
    peer = create_user("peer@example.org", "Соседка", ["trainee"], password="correct horse battery")
    enrol_trainee(people.cohort, peer)
    db.session.commit()
    login(other_trainee, peer)
    assert "Реклама" not in page_text(other_trainee.get(f"/discussions/{thread.id}"))
    locked = post(trainee, f"/discussions/{thread.id}", {"action": "reply", "body": "Ещё"})
    assert locked.status_code == 400 and "Тема закрыта" in page_text(locked) or locked.status_code == 400
    assert post(trainee, f"/discussions/{thread.id}", {"action": "pin"}).status_code == 403


def test_post_edit_window_is_30_minutes_and_authors_delete_their_own(app, people, monkeypatch):
    from lms.discussions import services
    thread = start_thread(people.cohort, people.trainee, "Тема", "Первый")
    first = db.session.scalar(select(DiscussionPost).where(DiscussionPost.thread_id == thread.id))
    frozen = [first.created_at + timedelta(minutes=30)]
    monkeypatch.setattr(services, "utcnow", lambda: frozen[0])
    edit_post(first, people.trainee, "Исправлено")
    frozen[0] += timedelta(microseconds=1)
    with pytest.raises(DiscussionError):
        edit_post(first, people.trainee, "Поздно")
    monkeypatch.undo()
    db.session.commit()
    client = app.test_client()
    login(client, people.trainee)
    post(client, f"/posts/{first.id}", {"action": "delete"}, token_from=f"/discussions/{thread.id}")
    assert "Автор удалил это сообщение." in page_text(client.get(f"/discussions/{thread.id}"))


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_markdown_renders_inert_everywhere(app, people, payload):
    thread = start_thread(people.cohort, people.trainee, payload[:150], payload)
    reply(thread, people.mentor, payload + " https://example.org")
    db.session.commit()
    client = app.test_client()
    login(client, people.trainee)
    html = client.get(f"/discussions/{thread.id}").get_data(as_text=True)
    main = html.split("<main", 1)[1]
    for bad in ("<script", 'href="javascript:', "<img", "<iframe", 'href="data:'):
        assert bad not in main, bad  # what is left is text, escaped
    assert 'rel="nofollow ugc noopener"' in html


def test_a_long_thread_and_a_big_board_page_in_few_queries(app, people):
    thread = start_thread(people.cohort, people.trainee, "Длинная тема", "Начало")
    db.session.add_all(DiscussionPost(thread_id=thread.id, author_id=people.trainee.id, body_markdown=f"Ответ {n}",
                                      body_html=f"<p>Ответ {n}</p>") for n in range(500))
    thread.replies = 500
    db.session.add_all(DiscussionThread(cohort_id=people.cohort.id, author_id=people.trainee.id, title=f"Тема {n}")
                       for n in range(300))
    db.session.commit()
    client = app.test_client()
    login(client, people.trainee)
    for url in (f"/discussions/{thread.id}", f"/discussions/{thread.id}?page=5",
                f"/cohorts/{people.cohort.id}/discussions", f"/cohorts/{people.cohort.id}/discussions?page=4"):
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        assert queries.count <= 8, (url, queries.count)
    assert db.session.scalar(select(func.count()).select_from(WorkComment)) == 0


def test_editing_a_post_returns_to_it_on_its_page(app, people):
    thread = start_thread(people.cohort, people.trainee, "Длинная тема", "Начало")
    for n in range(60):
        reply(thread, people.mentor if n % 2 else people.trainee, f"Ответ {n}")
    db.session.commit()
    mine = db.session.scalars(select(DiscussionPost).where(DiscussionPost.author_id == people.trainee.id)
                              .order_by(DiscussionPost.id.desc())).first()
    client = app.test_client()
    login(client, people.trainee)
    response = post(client, f"/posts/{mine.id}", {"action": "edit", "body": "Исправленный ответ"},
                    token_from=f"/discussions/{thread.id}")
    assert response.headers["Location"] == f"/discussions/{thread.id}?page=2#post-{mine.id}"
    assert f'id="post-{mine.id}"' in client.get(response.headers["Location"]).get_data(as_text=True)


def test_personal_data_export_has_comments_and_posts_and_anonymising_keeps_them_without_the_name(app, people):
    import io
    import json
    import zipfile

    submission = essay(people)
    from lms.discussions.services import add_comment
    add_comment(people.trainee, "Мой вопрос", submission=submission, trainee=people.trainee,
                cohort_id=people.cohort.id, url="/")
    thread = start_thread(people.cohort, people.trainee, "Тема", "Мой пост")
    db.session.commit()
    admin = app.test_client()
    login(admin, people.admin)
    archive = zipfile.ZipFile(io.BytesIO(post(admin, f"/admin/users/{people.trainee.id}", {"action": "export"}).data))
    data = json.loads(archive.read("data.json"))
    assert data["comments"][0]["body_markdown"] == "Мой вопрос"
    assert data["discussion_posts"][0]["body_markdown"] == "Мой пост"
    post(admin, f"/admin/users/{people.trainee.id}", {"action": "anonymise", "confirm": "yes"})
    mentor = app.test_client()
    login(mentor, people.mentor)
    page = page_text(mentor.get(f"/discussions/{thread.id}"))
    assert "Мой пост" in page and "Анна Соседова" not in page


def test_participation_counts_in_the_matrix_and_the_report(app, people):
    thread = start_thread(people.cohort, people.trainee, "Тема", "Первый")
    reply(thread, people.trainee, "Ещё")
    reply(thread, people.mentor, "Ответ наставника")
    db.session.commit()
    admin = app.test_client()
    login(admin, people.admin)
    matrix = admin.get(f"/admin/cohorts/{people.cohort.id}").get_data(as_text=True)
    row = matrix.split("Анна Соседова", 1)[1].split("</tr>", 1)[0]
    assert "<td>2</td>" in row
    assert "Сообщений в обсуждениях 3" in page_text(admin.get("/admin/reports"))
    assert "Сообщений в обсуждениях;3" in admin.get("/admin/reports/summary.csv").get_data(as_text=True).replace(
        ",", ";")
