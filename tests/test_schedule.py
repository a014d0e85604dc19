"""The cohort's time (issue 22): sessions and series, attendance and the certificate rule, deadlines with the
module's default, a cohort's date and a trainee's extension, late work and the cut-off, the calendar and its feed,
reminders."""
from datetime import date, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from lms.certificates.eligibility import compute_eligibility
from lms.clock import local_today, utcnow
from lms.curriculum.models import Assignment
from lms.curriculum.services import sync_curriculum
from lms.extensions import db
from lms.grading.models import Submission
from lms.grading.services import GradingError, save_text_answer
from lms.learning.models import Enrolment
from lms.notifications.models import Notification
from lms.schedule.models import AssignmentDeadline, Attendance, CohortSession, DeadlineExtension
from lms.schedule.reminders import make_reminders
from lms.schedule.services import (
    ScheduleInvalid,
    SessionData,
    grant_extension,
    record_attendance,
    schedule_sessions,
)
from tests.conftest import assert_error_tied, login, page_text, post
from tests.test_curriculum import courses, edit, problems  # noqa: F401  (courses is a fixture)

TODAY = local_today()


def seminar(**overrides):
    values = dict(kind="seminar", title="Семинар в центре", day=TODAY + timedelta(days=3), start=time(18, 30),
                  end=time(20), place="Соседский центр «Филёвский Парк»")
    values.update(overrides)
    return SessionData(**values)


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def essay():
    return db.session.scalar(select(Assignment).filter_by(key="intro-essay"))


# --- sessions ----------------------------------------------------------------------------------

def test_mentor_schedules_a_fortnightly_series_and_edits_one(app, people):
    client = app.test_client()
    login(client, people.mentor)
    url = f"/cohorts/{people.cohort.id}/sessions/new"
    response = post(client, url, {"kind": "seminar", "title": "Семинар", "day": (TODAY + timedelta(days=1)).isoformat(),
                                  "start": "18:30", "end": "20:00", "place": "Центр", "repeat": "fortnightly",
                                  "count": "4"})
    assert response.status_code == 302
    sessions = db.session.scalars(select(CohortSession).order_by(CohortSession.starts_at)).all()
    assert len(sessions) == 4 and len({s.series for s in sessions}) == 1
    assert sessions[1].starts_at - sessions[0].starts_at == timedelta(days=14)
    assert sessions[0].starts_at.time() == time(15, 30)  # 18:30 in Moscow is 15:30 UTC
    page = f"/sessions/{sessions[1].id}"
    post(client, page, {"action": "update", "kind": "case_club", "title": "Кейс-клуб", "day": (
        TODAY + timedelta(days=15)).isoformat(), "start": "19:00", "end": "21:00"})
    db.session.refresh(sessions[1])
    assert sessions[1].title == "Кейс-клуб" and sessions[0].title == "Семинар"
    assert count(Notification, Notification.user_id == people.trainee.id,
                 Notification.kind == "session_changed") == 1
    post(client, page, {"action": "cancel"})
    db.session.refresh(sessions[1])
    assert sessions[1].cancelled_at is not None
    assert count(Notification, Notification.kind == "session_cancelled") == 1


@pytest.mark.parametrize("overrides, field, message", [
    ({"end": "18:00"}, "end", "Конец должен быть позже начала."),
    ({"day": "2031-01-01"}, "day", "Занятие должно проходить в сроки группы."),
    ({"day": "0001-01-01"}, "day", "Введите дату в формате ГГГГ-ММ-ДД."),
    ({"online_url": "javascript:alert(1)"}, "online_url", "Укажите ссылку полностью"),
    ({"kind": "party"}, "kind", "Выберите вид занятия."),
    ({"title": ""}, "title", "Укажите название занятия."),
    ({"repeat": "weekly", "count": "99"}, "count", "В серии от 2 до 26 занятий."),
])
def test_bad_sessions_get_a_message_on_the_field_and_save_nothing(app, people, overrides, field, message):
    people.cohort.starts_on, people.cohort.ends_on = TODAY - timedelta(days=30), TODAY + timedelta(days=300)
    db.session.commit()
    client = app.test_client()
    login(client, people.mentor)
    data = {"kind": "seminar", "title": "Семинар", "day": (TODAY + timedelta(days=1)).isoformat(),
            "start": "18:30", "end": "20:00", **overrides}
    response = post(client, f"/cohorts/{people.cohort.id}/sessions/new", data)
    assert response.status_code == 400 and message in page_text(response)
    assert_error_tied(response, field, f"{field}-error", focused=True)
    assert count(CohortSession) == 0


def test_the_first_field_in_error_has_the_focus(app, people):
    client = app.test_client()
    login(client, people.mentor)
    response = post(client, f"/cohorts/{people.cohort.id}/sessions/new",
                    {"kind": "seminar", "title": "", "day": (TODAY + timedelta(days=1)).isoformat(), "start": "18:30",
                     "end": "17:00"})
    assert response.status_code == 400 and count(CohortSession) == 0
    assert_error_tied(response, "title", "title-error", focused=True)
    assert_error_tied(response, "end", "end-error", focused=False)


def test_another_cohorts_mentor_and_trainees_cannot_schedule(app, people):
    session, = schedule_sessions(people.cohort, people.mentor, seminar())
    db.session.commit()
    for visitor, status in ((people.other_mentor, 404), (people.trainee, 404)):
        client = app.test_client()
        login(client, visitor)
        assert client.get(f"/cohorts/{people.cohort.id}/schedule").status_code == status
    client = app.test_client()
    login(client, people.trainee)
    assert post(client, f"/sessions/{session.id}", {"action": "cancel"}).status_code == 403


def test_due_dates_and_extensions_from_the_cohort_page_return_to_their_section(app, people):
    url = f"/cohorts/{people.cohort.id}/schedule"
    admin = app.test_client()
    login(admin, people.admin)
    refused = post(admin, url, {"action": "deadline", "assignment": essay().id, "due": "20.09.2026"})
    assert refused.status_code == 400 and count(AssignmentDeadline) == 0
    saved = post(admin, url, {"action": "deadline", "assignment": essay().id, "due": "2026-09-20"})
    assert saved.headers["Location"] == url + "#deadlines" and count(AssignmentDeadline) == 1
    mentor = app.test_client()
    login(mentor, people.mentor)
    given = post(mentor, url, {"action": "extension", "trainee": people.trainee.id, "assignment": essay().id,
                               "due": "2026-10-01", "reason": "Болела"})
    assert given.headers["Location"] == url + "#extension" and count(DeadlineExtension) == 1


def test_a_refused_extension_or_due_date_marks_its_fields(app, people):
    url = f"/cohorts/{people.cohort.id}/schedule"
    mentor = app.test_client()
    login(mentor, people.mentor)
    refused = post(mentor, url, {"action": "extension", "trainee": people.trainee.id, "assignment": essay().id,
                                 "due": "", "reason": ""})
    assert refused.status_code == 400 and count(DeadlineExtension) == 0
    assert_error_tied(refused, "ext-due", "due-error", focused=True)
    assert_error_tied(refused, "ext-reason", "reason-error", focused=False)
    admin = app.test_client()
    login(admin, people.admin)
    refused = post(admin, url, {"action": "deadline", "assignment": essay().id, "due": "2026-09-20",
                                "cutoff": "2026-09-01"})
    assert refused.status_code == 400 and count(AssignmentDeadline) == 0
    html = refused.get_data(as_text=True)
    assert 'id="cutoff-error"' in html
    assert 'value="2026-09-01" aria-invalid="true" aria-describedby="cutoff-error" autofocus' in html


# --- attendance --------------------------------------------------------------------------------

def test_attendance_only_once_begun_and_the_trainee_sees_their_own(app, people, make_user):
    future, = schedule_sessions(people.cohort, people.mentor, seminar())
    past, = schedule_sessions(people.cohort, people.mentor, seminar(day=TODAY - timedelta(days=2)))
    db.session.commit()
    with pytest.raises(ScheduleInvalid):
        record_attendance(future, people.mentor, {people.trainee.id: "present"})
    db.session.rollback()
    client = app.test_client()
    login(client, people.mentor)
    refused = post(client, f"/sessions/{past.id}", {"action": "attendance", f"t-{people.other.id}": "present"})
    assert refused.status_code == 400 and count(Attendance) == 0
    saved = post(client, f"/sessions/{past.id}", {"action": "attendance", f"t-{people.trainee.id}": "late"})
    assert saved.headers["Location"] == f"/sessions/{past.id}#attendance"
    assert db.session.get(Attendance, (past.id, people.trainee.id)).status == "late"
    trainee = app.test_client()
    login(trainee, people.trainee)
    assert "Моё посещение с опозданием" in page_text(trainee.get(f"/sessions/{past.id}"))


@pytest.mark.parametrize("marks, eligible", [
    (["present", "present", "present", "absent", "absent"], False),  # 60% of 5
    (["present", "present", "present", "late", "absent"], True),  # 80%
    (["present", "present", "present", "excused", "absent"], False),  # 3 of 4 counted: 75%
    (["present", "present", "present", "present", "excused"], True),  # 4 of 4
])
def test_attendance_rule_of_the_certificate(app, people, marks, eligible):
    people.course.certificate = {"attendance": 0.8}
    for n, mark in enumerate(marks):
        session, = schedule_sessions(people.cohort, people.mentor, seminar(day=TODAY - timedelta(days=10 - n)))
        record_attendance(session, people.mentor, {people.trainee.id: mark})
    db.session.commit()
    result = compute_eligibility(people.course, [people.trainee.id])[people.trainee.id]
    (requirement,) = result.requirements
    assert requirement.kind == "attendance" and result.eligible is eligible


# --- deadlines ---------------------------------------------------------------------------------

def test_due_week_is_validated(courses):  # noqa: F811
    edit(courses, "01-intro.md", "    kind: text\n", "    kind: text\n    due_week: 0\n")
    assert any("'due_week' must be a whole number of weeks from 1 to 104" in p for p in problems(courses))


def test_default_due_date_cohort_override_and_extension(app, people, courses):  # noqa: F811
    edit(courses, "01-intro.md", "    kind: text\n", "    kind: text\n    due_week: 2\n", )
    assert sync_curriculum(courses).ok
    people.cohort.starts_on = date(2026, 9, 1)
    db.session.commit()
    from lms.schedule.deadlines import deadline_for
    due = deadline_for(people.trainee.id, essay()).due_at
    assert due.isoformat() == "2026-09-14T20:59:59"  # the end of 14 September in Moscow
    from lms.schedule.services import set_cohort_deadline
    set_cohort_deadline(people.cohort, essay(), people.admin, date(2026, 9, 20), None)
    assert deadline_for(people.trainee.id, essay()).due_at.isoformat() == "2026-09-20T20:59:59"
    with pytest.raises(ScheduleInvalid) as refused:
        grant_extension(people.trainee, essay(), people.mentor, date(2026, 9, 30), "  ")
    assert "reason" in refused.value.errors
    grant_extension(people.trainee, essay(), people.mentor, date(2026, 9, 30), "Болезнь")
    assert deadline_for(people.trainee.id, essay()).due_at.isoformat() == "2026-09-30T20:59:59"


@pytest.mark.parametrize("seconds, late", [(1, False), (-1, True)])
def test_work_is_late_one_second_after_the_due_date(app, people, seconds, late):
    db.session.add(AssignmentDeadline(cohort_id=people.cohort.id, assignment_id=essay().id,
                                      due_at=utcnow() + timedelta(seconds=seconds)))
    db.session.commit()
    submission = save_text_answer(people.trainee, essay(), "Ответ", submit=True)
    db.session.commit()
    assert submission.late is late
    mentor = app.test_client()
    login(mentor, people.mentor)
    assert ("с опозданием" in page_text(mentor.get("/mentor/queue"))) is late
    assert ("с опозданием" in page_text(mentor.get(f"/mentor/submissions/{submission.id}"))) is late


def test_cut_off_closes_submission_with_a_message(app, people):
    db.session.add(AssignmentDeadline(cohort_id=people.cohort.id, assignment_id=essay().id,
                                      due_at=utcnow() - timedelta(days=2), cutoff_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    with pytest.raises(GradingError, match="Приём работ по этому заданию закрыт"):
        save_text_answer(people.trainee, essay(), "Ответ", submit=True)
    db.session.rollback()
    assert count(Submission) == 0


# --- the calendar and its feed ------------------------------------------------------------------

def test_feed_shows_the_persons_events_in_moscow_time_and_a_renewed_token_stops_the_old(app, people, make_cohort,
                                                                                        make_user):
    mine, = schedule_sessions(people.cohort, people.mentor, seminar())
    others = make_cohort(people.course, trainees=[people.other], name="Группа 2")
    theirs, = schedule_sessions(others, people.admin, seminar(title="Чужой семинар"))
    db.session.add(AssignmentDeadline(cohort_id=people.cohort.id, assignment_id=essay().id,
                                      due_at=utcnow() + timedelta(days=5)))
    db.session.commit()
    client = app.test_client()
    login(client, people.trainee)
    post(client, "/calendar/renew", token_from="/calendar")
    db.session.refresh(people.trainee)
    old = people.trainee.calendar_token
    feed = app.test_client().get(f"/calendar/{old}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    calendar = Calendar.from_ical(feed.data)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"Семинар в центре", "Срок: Эссе о районе"}
    start = events["Семинар в центре"].decoded("dtstart")
    assert str(start.tzinfo) == "Europe/Moscow" and start.time() == time(18, 30)
    assert "Семинар в центре" in page_text(client.get("/calendar"))
    post(client, "/calendar/renew", token_from="/calendar")
    assert app.test_client().get(f"/calendar/{old}.ics").status_code == 404
    assert app.test_client().get("/calendar/unknown.ics").status_code == 404
    assert theirs.id != mine.id


# --- reminders and start pages -------------------------------------------------------------------

def test_reminders_of_tomorrows_session_and_work_due_are_made_once(app, people):
    soon, = schedule_sessions(people.cohort, people.mentor, seminar())
    soon.starts_at, soon.ends_at = utcnow() + timedelta(hours=20), utcnow() + timedelta(hours=21)
    db.session.add(AssignmentDeadline(cohort_id=people.cohort.id, assignment_id=essay().id,
                                      due_at=utcnow() + timedelta(hours=20)))
    people.cohort.starts_on = TODAY - timedelta(days=7)
    db.session.commit()
    now = utcnow() + timedelta(hours=1)
    assert make_reminders(now) == 2
    db.session.commit()
    assert make_reminders(now) == 0
    kinds = sorted(db.session.scalars(select(Notification.kind).where(Notification.user_id == people.trainee.id)))
    assert kinds == ["deadline_soon", "session_tomorrow"]


def test_start_pages_say_what_is_next(app, people):
    schedule_sessions(people.cohort, people.mentor, seminar())
    past, = schedule_sessions(people.cohort, people.mentor, seminar(day=TODAY - timedelta(days=1)))
    db.session.add(AssignmentDeadline(cohort_id=people.cohort.id, assignment_id=essay().id,
                                      due_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    client = app.test_client()
    login(client, people.trainee)
    text = page_text(client.get("/"))
    assert "Ближайшие две недели" in text and "просрочено Эссе о районе" in text and "Семинар в центре" in text
    assert "Продолжить: Введение" in text
    # The next step first: the course to continue, then the dates.
    assert text.index("Продолжить: Введение") < text.index("Ближайшие две недели")
    mentor = app.test_client()
    login(mentor, people.mentor)
    text = page_text(mentor.get("/"))
    assert "Посещаемость ещё не отмечена" in text and "Семинар в центре" in text
    assert text.index("Открыть очередь") < text.index("Посещаемость ещё не отмечена") < text.index("Группа 1")
    assert past.id


def test_demo_gives_the_cohort_a_schedule_attendance_and_due_dates(app, course, runner):
    assert runner.invoke(args=["lms", "demo"]).exit_code == 0
    assert count(CohortSession) == 12
    assert count(Attendance) > 0 and count(AssignmentDeadline) > 0
    assert runner.invoke(args=["lms", "demo"]).exit_code == 0
    assert count(CohortSession) == 12  # idempotent


def test_mentor_sees_trainees_without_activity_and_the_report_counts_attendance_and_late_work(app, people):
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.trainee_id == people.trainee.id))
    enrolment.enrolled_at = utcnow() - timedelta(days=30)
    past, = schedule_sessions(people.cohort, people.mentor, seminar(day=TODAY - timedelta(days=2)))
    record_attendance(past, people.mentor, {people.trainee.id: "present"})
    db.session.commit()
    mentor = app.test_client()
    login(mentor, people.mentor)
    assert "Отстают: Анна Соседова (нет активности две недели)" in page_text(mentor.get("/"))
    db.session.add(AssignmentDeadline(cohort_id=people.cohort.id, assignment_id=essay().id,
                                      due_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    save_text_answer(people.trainee, essay(), "Ответ", submit=True)
    db.session.commit()
    assert "Отстают" not in page_text(mentor.get("/"))
    admin = app.test_client()
    login(admin, people.admin)
    report = page_text(admin.get("/admin/reports"))
    assert "из них с опозданием 1" in report and "Проведено занятий 1" in report
    assert "Посетили (вовремя или с опозданием) 1 (100%)" in report


def test_mentor_sees_trainees_with_overdue_work_until_it_is_handed_in_or_extended(app, people):
    people.cohort.starts_on = TODAY - timedelta(days=3)  # active trainee: just enrolled, not idle
    db.session.add(AssignmentDeadline(cohort_id=people.cohort.id, assignment_id=essay().id,
                                      due_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    mentor = app.test_client()
    login(mentor, people.mentor)
    assert "Отстают: Анна Соседова (1 работа просрочена)" in page_text(mentor.get("/"))
    grant_extension(people.trainee, essay(), people.mentor, TODAY + timedelta(days=3), "Болела")
    db.session.commit()
    assert "Отстают" not in page_text(mentor.get("/"))
    extension = db.session.get(DeadlineExtension, (people.trainee.id, essay().id))
    extension.due_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert "Отстают: Анна Соседова (1 работа просрочена)" in page_text(mentor.get("/"))
    save_text_answer(people.trainee, essay(), "Ответ", submit=True)
    db.session.commit()
    assert "Отстают" not in page_text(mentor.get("/"))


def test_matrix_and_trainee_record_show_attendance(app, people):
    for n, mark in enumerate(("present", "absent", "excused")):
        session, = schedule_sessions(people.cohort, people.mentor, seminar(day=TODAY - timedelta(days=5 - n)))
        record_attendance(session, people.mentor, {people.trainee.id: mark})
    db.session.commit()
    client = app.test_client()
    login(client, people.mentor)
    assert "Посещаемость" in page_text(client.get(f"/admin/cohorts/{people.cohort.id}"))
    assert "50%" in page_text(client.get(f"/admin/cohorts/{people.cohort.id}"))
    record = page_text(client.get(f"/admin/cohorts/{people.cohort.id}/trainees/{people.trainee.id}"))
    assert "Посещено 50% занятий, на которых отмечали (отметок: 3)." in record


# --- the course's plan of sessions -------------------------------------------------------------

def test_a_cohort_schedule_is_made_from_the_course_plan(app, people, courses):  # noqa: F811
    from tests.test_curriculum import PLAN
    edit(courses, "course.md", "  min_activity_types: 2\n", "  min_activity_types: 2\n" + PLAN)
    assert sync_curriculum(courses).ok
    db.session.commit()
    people.cohort.starts_on, people.cohort.ends_on = date(2027, 2, 3), date(2027, 3, 20)  # a Wednesday
    db.session.commit()
    client = app.test_client()
    login(client, people.mentor)
    schedule = client.get(f"/cohorts/{people.cohort.id}/schedule").get_data(as_text=True)
    assert f"/cohorts/{people.cohort.id}/schedule/plan" in schedule
    url = f"/cohorts/{people.cohort.id}/schedule/plan"
    preview = page_text(client.get(url))
    # Week 1 is the seven days from Wednesday 3 February: its Saturday is the 6th; the case club (Wednesdays of
    # weeks 2, 4, 6, 8) meets on 10 and 24 February and 10 March, and 24 March is after the cohort ends.
    assert "06.02.2027 11:00–17:00 семинар Вводный интенсив Введение" in preview
    assert "24.03.2027 19:00–21:00 кейс-клуб Кейс-клуб · после окончания группы: не назначается" in preview
    assert "Назначить 4 занятия" in preview and count(CohortSession) == 0
    assert post(client, url, {}).status_code == 302
    sessions = db.session.scalars(select(CohortSession).order_by(CohortSession.starts_at)).all()
    assert [s.title for s in sessions] == ["Вводный интенсив"] + ["Кейс-клуб"] * 3
    assert sessions[0].module.slug == "intro" and sessions[0].series is None
    assert len({s.series for s in sessions[1:]}) == 1 and sessions[1].series
    assert "В группе уже 4 занятия" in page_text(client.get(url))


def test_the_plan_needs_the_cohort_start_and_course_plan(app, people, courses):  # noqa: F811
    client = app.test_client()
    login(client, people.mentor)
    url = f"/cohorts/{people.cohort.id}/schedule/plan"
    assert "В курсе нет плана занятий" in page_text(client.get(url))
    from tests.test_curriculum import PLAN
    edit(courses, "course.md", "  min_activity_types: 2\n", "  min_activity_types: 2\n" + PLAN)
    assert sync_curriculum(courses).ok
    people.cohort.starts_on = None
    db.session.commit()
    refused = post(client, url, {})
    assert refused.status_code == 400 and "Сначала укажите дату начала группы" in page_text(refused)
    assert count(CohortSession) == 0
