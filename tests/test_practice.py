"""The field-practice log: entries, validation, review workflow, site confirmation, summary, exports."""
import io
import re
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from lms.audit import AuditEvent
from lms.clock import local_today
from lms.extensions import db
from lms.partners.services import save_partner
from lms.practice.models import PracticeEntry, PracticeSite, SiteConfirmation
from lms.practice.services import (
    EntryData,
    EntryInvalid,
    review_practice_entry,
    save_practice_entry,
)
from lms.practice.summary import practice_summary
from tests.conftest import count_queries, csrf_token, login, page_text, post, send_notifications
from tests.test_grading import PNG

TODAY = local_today()


@pytest.fixture
def site(people):
    site = save_partner(None, "Соседский центр «Филёвский Парк»", "centre", contact_name="Ольга")
    db.session.commit()
    return site


def form(place, **overrides):
    data = {"date": (TODAY - timedelta(days=1)).isoformat(), "site": str(place.id), "start_time": "10:00",
            "end_time": "12:30", "activity_type": "workshop_class", "aud-children_teens": "8",
            "aud-pensioners": "3", "description": "Мастерская скворечников.",
            "reflection": "Сработали пары родитель — ребёнок.", "action": "submit"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def log_entry(client, place, files=(), **overrides):
    data = form(place, **overrides)
    data["csrf_token"] = csrf_token(client, "/practice/new")
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/practice/new", data=data, content_type="multipart/form-data")


def make_entry(people, site, day=None, minutes=120, activity="workshop_class", audiences=None, submit=True,
               start=None):
    end = None
    if start is not None:
        end = time(start.hour + minutes // 60, start.minute + minutes % 60)
    return save_practice_entry(people.trainee, EntryData(
        cohort=people.cohort, site=site, date=day or TODAY - timedelta(days=1), start_time=start, end_time=end,
        duration_minutes=None if start else minutes, activity_type=activity,
        audiences=audiences if audiences is not None else {"adults": 5}, description="Описание",
        reflection="Рефлексия"), submit=submit)


def approve(entry, mentor):
    review_practice_entry(entry, mentor, "approve", "", entry.version)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


# --- logging ----------------------------------------------------------------------------------

def test_trainee_logs_a_session_with_a_photo(client, people, site):
    login(client, people.trainee)
    assert client.get("/practice/new").status_code == 200
    response = log_entry(client, site, files=[("фото.png", PNG)])
    assert response.status_code == 302
    entry = db.session.scalar(select(PracticeEntry))
    assert (entry.status, entry.minutes, entry.participants) == ("submitted", 150, 11)
    assert {(a.audience, a.participants) for a in entry.audiences} == {("children_teens", 8), ("pensioners", 3)}
    assert [a.filename for a in entry.attachments] == ["фото.png"]
    page = page_text(client.get(response.headers["Location"]))
    assert "Запись отправлена наставнику." in page and "Мастерская или занятие" in page
    assert "Дети и подростки: 8" in page


def test_duration_instead_of_times_and_a_draft_without_reflection(client, people, site):
    login(client, people.trainee)
    response = log_entry(client, site, start_time="", end_time="", duration="90", reflection="", action="save")
    assert response.status_code == 302
    entry = db.session.scalar(select(PracticeEntry))
    assert (entry.status, entry.minutes, entry.start_time) == ("draft", 90, None)


@pytest.mark.parametrize("overrides, field_message", [
    ({"date": (TODAY + timedelta(days=1)).isoformat()}, "Дата не может быть в будущем."),
    ({"date": "вчера"}, "Введите дату в формате ГГГГ-ММ-ДД."),
    ({"start_time": "12:00", "end_time": "11:00"}, "Конец должен быть позже начала."),
    ({"start_time": "06:00", "end_time": "19:00"}, "Одна запись — не больше 12 часов."),
    ({"start_time": "", "end_time": "", "duration": "800"}, "Одна запись — не больше 12 часов."),
    ({"start_time": "", "end_time": "", "duration": ""}, "Укажите время начала и конца"),
    ({"start_time": "10:00", "end_time": ""}, "Укажите и начало, и конец"),
    ({"aud-pensioners": "-3"}, "Число участников — целое число от 0 до 10 000."),
    ({"aud-pensioners": "10001"}, "Число участников — целое число от 0 до 10 000."),
    ({"reflection": "  "}, "напишите рефлексию"),
    ({"activity_type": "partying"}, "Выберите вид деятельности."),
    ({"site": "999"}, "Выберите, где проходила практика."),
])
def test_bad_entries_get_a_message_on_the_field_and_save_nothing(client, people, site, overrides, field_message):
    login(client, people.trainee)
    response = log_entry(client, site, **overrides)
    assert response.status_code == 400
    text = page_text(response)
    assert field_message in text and "ничего не сохранено" in text
    assert count(PracticeEntry) == 0


def test_date_outside_the_cohort_and_inactive_site(client, people, site):
    people.cohort.starts_on = TODAY - timedelta(days=3)
    closed = save_partner(None, "Закрытая площадка", "library", active=False)
    db.session.commit()
    login(client, people.trainee)
    early = log_entry(client, site, date=(TODAY - timedelta(days=10)).isoformat())
    assert "Дата должна попадать в сроки вашей группы." in page_text(early)
    inactive = log_entry(client, site, site=str(closed.id))
    assert "Эта площадка больше не принимает практикантов" in page_text(inactive)
    assert count(PracticeEntry) == 0


def test_overlapping_entries_are_refused(client, people, site):
    login(client, people.trainee)
    assert log_entry(client, site).status_code == 302
    overlap = log_entry(client, site, start_time="12:00", end_time="13:00")
    assert overlap.status_code == 400 and "пересекается с другой вашей записью" in page_text(overlap)
    assert log_entry(client, site, start_time="12:30", end_time="13:00").status_code == 302
    assert count(PracticeEntry) == 2


def test_bad_photo_is_refused(client, people, site):
    login(client, people.trainee)
    response = log_entry(client, site, files=[("photo.png", b"<svg onload=alert(1)>")])
    assert response.status_code == 400 and "не соответствует" in page_text(response)
    assert count(PracticeEntry) == 0


def test_description_and_reflection_are_sanitised(client, people, site):
    login(client, people.trainee)
    log_entry(client, site, description="<script>alert(1)</script>", reflection="[x](javascript:alert(2))")
    entry = db.session.scalar(select(PracticeEntry))
    assert "<script" not in entry.description_html and "javascript:" not in entry.reflection_html


# --- review workflow --------------------------------------------------------------------------

def review(client, entry, action, comment="", version=None):
    return post(client, f"/practice/{entry.id}", {"action": action, "comment": comment,
                                                   "version": version or entry.version})


def test_return_fix_resubmit_approve_and_frozen(app, people, site):
    entry = make_entry(people, site)
    db.session.commit()
    mentor, trainee = app.test_client(), app.test_client()
    login(mentor, people.mentor)
    login(trainee, people.trainee)
    assert "Мастерская или занятие" in page_text(mentor.get("/mentor/queue?kind=practice"))
    refused = review(mentor, entry, "return")
    assert refused.status_code == 400 and "при возврате напишите комментарий" in page_text(refused)
    assert review(mentor, entry, "return", "Добавьте число участников").status_code == 302

    assert "Добавьте число участников" in page_text(trainee.get(f"/practice/{entry.id}"))
    data = form(site, start_time="", end_time="", duration="120", **{"aud-adults": "7"})
    assert post(trainee, f"/practice/{entry.id}", data).status_code == 302
    db.session.refresh(entry)
    assert (entry.status, entry.participants) == ("submitted", 18)

    assert review(mentor, entry, "approve").status_code == 302
    db.session.refresh(entry)
    assert entry.status == "approved"
    frozen = post(trainee, f"/practice/{entry.id}", form(site))
    assert frozen.status_code == 400 and "сейчас её изменить нельзя" in page_text(frozen)
    assert "2 из 10 ч" in page_text(trainee.get("/practice"))


def test_reopening_an_approved_entry_needs_a_reason_and_is_audited(client, people, site):
    entry = make_entry(people, site)
    approve(entry, people.mentor)
    db.session.commit()
    login(client, people.mentor)
    refused = post(client, f"/practice/{entry.id}", {"action": "reopen", "reason": ""})
    assert refused.status_code == 400 and "Укажите причину" in page_text(refused)
    assert post(client, f"/practice/{entry.id}", {"action": "reopen", "reason": "Часы завышены"}).status_code == 302
    db.session.refresh(entry)
    assert entry.status == "returned"
    event = db.session.scalar(select(AuditEvent).filter_by(action="practice.reopen"))
    assert event.details["reason"] == "Часы завышены" and event.actor_id == people.mentor.id


def test_second_reviewer_gets_a_conflict(app, people, site, make_user):
    from lms.learning.services import assign_mentor

    entry = make_entry(people, site)
    colleague = make_user(["mentor"])
    assign_mentor(people.cohort, colleague)
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    login(first, people.mentor)
    login(second, colleague)
    version = entry.version
    assert review(first, entry, "approve", version=version).status_code == 302
    response = review(second, entry, "return", "Нет", version=version)
    assert "Кто-то другой проверил эту запись" in page_text(second.get(response.headers["Location"]))
    db.session.refresh(entry)
    assert entry.status == "approved"


def test_who_sees_and_who_reviews_an_entry(app, people, site):
    entry = make_entry(people, site)
    db.session.commit()
    for user, status in ((people.other, 404), (people.other_mentor, 404), (people.admin, 200),
                         (people.mentor, 200), (people.trainee, 200)):
        client = app.test_client()
        login(client, user)
        assert client.get(f"/practice/{entry.id}").status_code == status, user.email
    for user in (people.admin, people.trainee):
        client = app.test_client()
        login(client, user)
        assert review(client, entry, "approve").status_code == 403
    db.session.refresh(entry)
    assert entry.status == "submitted"


def test_bulk_approval_only_of_entries_the_mentor_may_approve(app, people, site, make_user, make_cohort):
    mine = [make_entry(people, site, day=TODAY - timedelta(days=i)) for i in (1, 2, 3)]
    stranger = make_user(["trainee"])
    cohort = make_cohort(people.course, trainees=[stranger], mentors=[people.other_mentor], name="Группа 2")
    foreign = save_practice_entry(stranger, EntryData(
        cohort=cohort, site=site, date=TODAY - timedelta(days=1), duration_minutes=60, activity_type="partner_meeting",
        description="Встреча", reflection="Итоги"), submit=True)
    db.session.commit()
    client = app.test_client()
    login(client, people.mentor)
    ids = [e.id for e in mine] + [foreign.id]
    page = client.get("/mentor/practice/approve?" + "&".join(f"ids={i}" for i in ids))
    assert page_text(page).count("Я прочитал(а) эту запись") == 3
    nothing = post(client, "/mentor/practice/approve", {"ids": ids}, token_from="/")
    assert "Отметьте «Я прочитал(а) эту запись»" in page_text(nothing)
    response = post(client, "/mentor/practice/approve", {"ids": ids, "read": ids[:2] + [foreign.id]},
                    token_from="/")
    assert response.status_code == 302
    statuses = {e.id: db.session.get(PracticeEntry, e.id).status for e in mine + [foreign]}
    assert statuses == {mine[0].id: "approved", mine[1].id: "approved", mine[2].id: "submitted",
                        foreign.id: "submitted"}


# --- confirmation by the site ------------------------------------------------------------------

def test_site_contact_confirms_once_without_an_account(app, people, site):
    entry = make_entry(people, site)
    db.session.commit()
    trainee = app.test_client()
    login(trainee, people.trainee)
    response = post(trainee, f"/practice/{entry.id}", {"action": "confirm"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#confirmation")
    html = trainee.get(f"/practice/{entry.id}").get_data(as_text=True)
    link = html.split('/confirm/')[1].split('"')[0]
    visitor = app.test_client()
    page = visitor.get(f"/confirm/{link}")
    text = page_text(page)
    assert page.status_code == 200 and "Мастерская скворечников" not in text and "Описание" in text
    assert 'name="robots" content="noindex"' in page.get_data(as_text=True)
    assert people.trainee.email not in text
    missing_name = visitor.post(f"/confirm/{link}", data={"decision": "confirmed", "name": "",
                                                          "csrf_token": csrf_token(visitor, f"/confirm/{link}")})
    assert "Укажите, пожалуйста, своё имя." in page_text(missing_name)
    token = csrf_token(visitor, f"/confirm/{link}")
    done = visitor.post(f"/confirm/{link}", data={"decision": "confirmed", "name": "Ольга Петрова",
                                                  "comment": "Всё так", "csrf_token": token})
    assert "Вы подтвердили занятие" in page_text(done)
    assert visitor.get(f"/confirm/{link}").status_code == 400
    mentor = app.test_client()
    login(mentor, people.mentor)
    assert "Подтверждено площадкой: Ольга Петрова" in page_text(mentor.get(f"/practice/{entry.id}"))


def test_forged_and_draft_confirmations(app, people, site, client):
    assert client.get("/confirm/forged-token").status_code == 400
    draft = make_entry(people, site, submit=False)
    db.session.commit()
    login(client, people.trainee)
    response = post(client, f"/practice/{draft.id}", {"action": "confirm"})
    assert response.status_code == 400 and "Сначала отправьте запись" in page_text(response)
    assert count(SiteConfirmation) == 0


# --- summary and exports ----------------------------------------------------------------------

def test_summary_matches_a_hand_count(people, site):
    library = save_partner(None, "Библиотека № 213", "library")
    d = TODAY - timedelta(days=1)
    entries = [
        make_entry(people, site, day=d, minutes=120, activity="workshop_class", audiences={"children_teens": 10}),
        make_entry(people, site, day=d - timedelta(days=1), minutes=90, activity="workshop_class",
                   audiences={"children_teens": 4, "parents_on_leave": 6}),
        make_entry(people, library, day=d - timedelta(days=8), minutes=60, activity="partner_meeting",
                   audiences={"local_business": 2}),
        make_entry(people, library, day=d - timedelta(days=2), minutes=300, activity="event_organisation",
                   audiences={"adults": 40}),  # stays submitted: not counted
    ]
    for entry in entries[:3]:
        approve(entry, people.mentor)
    db.session.commit()
    s = practice_summary(people.trainee, people.course, today=TODAY)
    assert (s.approved_minutes, s.entries, s.participants, s.pending_minutes) == (270, 3, 22, 300)
    assert s.approved_hours == 4.5 and s.missing_hours == 5.5 and s.missing_activity_types == 0
    assert dict(s.by_activity) == {"workshop_class": 210, "partner_meeting": 60}
    assert {code: (m, p) for code, m, p in s.by_audience} == {
        "children_teens": (210, 14), "parents_on_leave": (90, 6), "local_business": (60, 2)}
    assert dict(s.sites) == {"Соседский центр «Филёвский Парк»": 210, "Библиотека № 213": 60}
    assert round(sum(b.hours for b in s.weeks), 2) == 4.5


def test_log_page_shows_summary_and_chart(client, people, site):
    approve(make_entry(people, site), people.mentor)
    db.session.commit()
    login(client, people.trainee)
    response = client.get("/practice")
    html, text = response.get_data(as_text=True), page_text(response)
    # The chart needs no script; the log's only scripts are those that keep entries offline.
    assert "<svg" in html and re.findall(r"<script[^>]*>", html) == [
        '<script defer src="/static/practice-queue.js">', '<script defer src="/static/practice-offline.js">']
    assert "2 из 10 ч" in text and "Для сертификата не хватает: 8 ч одобренной практики" in text
    assert "ещё 1 вид деятельности" in text


def test_csv_exports_for_trainee_mentor_and_cohort(app, people, site):
    make_entry(people, site)
    save_practice_entry(people.trainee, EntryData(
        cohort=people.cohort, site=site, date=TODAY - timedelta(days=5), duration_minutes=30,
        activity_type="outreach_survey", description='=HYPERLINK("http://evil.example","x")',
        reflection="+1 and -1 @me"), submit=True)
    db.session.commit()
    trainee = app.test_client()
    login(trainee, people.trainee)
    own = trainee.get(f"/practice/trainees/{people.trainee.id}/export.csv")
    assert own.status_code == 200 and own.headers["Content-Disposition"].startswith("attachment")
    body = own.get_data(as_text=True)
    assert "'=HYPERLINK" in body and "'+1 and -1 @me" in body and ",=HYPERLINK" not in body
    assert trainee.get(f"/practice/cohorts/{people.cohort.id}/export.csv").status_code == 403
    for user, status in ((people.mentor, 200), (people.admin, 200), (people.other_mentor, 404)):
        client = app.test_client()
        login(client, user)
        response = client.get(f"/practice/cohorts/{people.cohort.id}/export.csv")
        assert response.status_code == status, user.email
    other = app.test_client()
    login(other, people.other)
    assert other.get(f"/practice/trainees/{people.trainee.id}/export.csv").status_code == 404


def build_entries(people, site, n):
    start = TODAY - timedelta(days=n // 4 + 1)
    for i in range(n):
        entry = make_entry(people, site, day=start + timedelta(days=i // 4), minutes=30, start=time(8 + 2 * (i % 4)),
                           activity=("workshop_class", "partner_meeting", "outreach_survey")[i % 3],
                           audiences={"adults": i % 7, "youth": 1})
        if i % 2:
            approve(entry, people.mentor)
    db.session.commit()


@pytest.mark.parametrize("n", [2000])
def test_log_and_summary_queries_do_not_grow(app_factory, make_user, make_cohort, n):
    from lms.curriculum.models import Course
    from lms.curriculum.services import sync_curriculum
    from tests.conftest import FIXTURE_COURSES

    counts = []
    for size in (10, n):
        app = app_factory()
        sync_curriculum(FIXTURE_COURSES)
        course = db.session.scalar(select(Course))
        trainee, mentor = make_user(["trainee"]), make_user(["mentor"])
        cohort = make_cohort(course, trainees=[trainee], mentors=[mentor])
        site = save_partner(None, "Центр", "centre")
        people = type("P", (), {"trainee": trainee, "mentor": mentor, "cohort": cohort})
        build_entries(people, site, size)
        pages = {}
        for user, url in ((trainee, "/practice"), (mentor, f"/practice/trainees/{trainee.id}"),
                          (mentor, "/practice/trainees"), (mentor, "/mentor/queue?kind=practice")):
            client = app.test_client()
            login(client, user)
            client.get(url)
            with count_queries() as queries:
                assert client.get(url).status_code == 200
            pages[url.split("/")[1] + ":" + url.rsplit("/", 1)[-1].split("?")[0].replace(str(trainee.id), "id")] = \
                queries.count
        counts.append(pages)
    assert counts[0] == counts[1]
    assert max(counts[1].values()) <= 8, counts


# --- practice sites ---------------------------------------------------------------------------

def test_demo_adds_the_pilot_centre_and_partners(runner, course):
    assert runner.invoke(args=["lms", "demo"]).exit_code == 0
    assert runner.invoke(args=["lms", "demo"]).exit_code == 0
    names = set(db.session.scalars(select(PracticeSite.name)))
    assert "Соседский центр «Филёвский Парк» (пилотный)" in names and len(names) == 8
    assert count(PracticeEntry) == 2


def test_entry_after_the_cohort_ended_is_refused(people, site):
    people.cohort.ends_on = TODAY - timedelta(days=5)
    db.session.commit()
    with pytest.raises(EntryInvalid) as error:
        make_entry(people, site, day=TODAY - timedelta(days=1))
    assert set(error.value.errors) == {"date"}


def test_confirmation_request_is_e_mailed_to_the_site_when_mail_is_configured(app, people, mail_server):
    site = save_partner(None, "Библиотека", "library", contact_email="library@example.org")
    entry = make_entry(people, site)
    db.session.commit()
    client = app.test_client()
    login(client, people.trainee)
    post(client, f"/practice/{entry.id}", {"action": "confirm"})
    assert "отправлен на library@example.org" in page_text(client.get(f"/practice/{entry.id}"))
    send_notifications(app)
    (message,) = mail_server.messages
    assert message["To"] == "library@example.org" and "/confirm/" in message.get_body(("plain",)).get_content()


def test_trainees_practice_shows_one_cohort_at_a_time(client, people, make_cohort):
    """A large programme's list would be thousands of rows: staff pick a cohort; a mentor only among theirs."""
    second = make_cohort(people.course, trainees=[people.other], mentors=[people.other_mentor], name="Группа 2")
    login(client, people.admin)
    first_page = page_text(client.get("/practice/trainees"))
    assert "Анна Соседова" in first_page and "Олег Чужой" not in first_page
    assert f'href="/practice/trainees?cohort={second.id}"' in client.get("/practice/trainees").get_data(as_text=True)
    second_page = page_text(client.get(f"/practice/trainees?cohort={second.id}"))
    assert "Олег Чужой" in second_page and "Анна Соседова" not in second_page

    mentor = client.application.test_client()
    login(mentor, people.mentor)
    page = mentor.get(f"/practice/trainees?cohort={second.id}")
    assert page.status_code == 200
    assert "Олег Чужой" not in page_text(page) and "Анна Соседова" in page_text(page)
    assert f'href="/practice/trainees?cohort={second.id}"' not in page.get_data(as_text=True)
