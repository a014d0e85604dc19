"""The programme report: every figure checked against a programme built by hand."""
import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select

from lms.certificates.services import issue_certificate, revoke_certificate
from lms.clock import local_today
from lms.curriculum.models import Assignment, Module
from lms.extensions import db
from lms.grading.services import grade_submission, save_text_answer
from lms.learning.services import enrol_trainee, mark_module_done
from lms.partners.services import save_partner
from lms.practice.models import PracticeEntry
from lms.practice.services import (
    EntryData,
    approve_practice_entries,
    reopen_practice_entry,
    review_practice_entry,
    save_practice_entry,
)
from lms.reports.services import programme_report
from tests.conftest import count_queries, login, page_text, practice_totals_agree

TODAY = local_today()


def entry(people, trainee, site, days_ago, minutes, activity, audiences, approve=True):
    e = save_practice_entry(trainee, EntryData(
        cohort=people.cohort, site=site, date=TODAY - timedelta(days=days_ago), duration_minutes=minutes,
        activity_type=activity, audiences=audiences, description="Описание", reflection="Итоги"), submit=True)
    if approve:
        review_practice_entry(e, people.mentor, "approve", "", e.version)
    return e


@pytest.fixture
def programme(people, make_user):
    """Three trainees: Анна does everything and is certified, Борис half, Вера only enrolled."""
    boris, vera = make_user(["trainee"], name="Борис"), make_user(["trainee"], name="Вера")
    enrol_trainee(people.cohort, boris)
    enrol_trainee(people.cohort, vera)
    centre = save_partner(None, "Центр", "centre")
    library = save_partner(None, '=HYPERLINK("http://evil.example")', "library")
    for module in db.session.scalars(select(Module)):
        mark_module_done(people.trainee, module)
    essay = db.session.scalar(select(Assignment).filter_by(key="intro-essay"))
    anna_essay = save_text_answer(people.trainee, essay, "Ответ", submit=True)
    grade_submission(anna_essay, people.mentor, [5, 5], "Да", "pass", anna_essay.version)
    save_text_answer(boris, essay, "Ответ Бориса", submit=True)
    entry(people, people.trainee, centre, 1, 120, "event_organisation", {"children_teens": 30, "parents_on_leave": 10})
    entry(people, people.trainee, centre, 8, 240, "workshop_class", {"children_teens": 12})
    entry(people, people.trainee, library, 15, 300, "partner_meeting", {"local_business": 3})
    entry(people, people.trainee, library, 400, 600, "workshop_class", {"adults": 50})  # before the period
    entry(people, boris, centre, 2, 90, "event_organisation", {"pensioners": 20})
    entry(people, boris, centre, 3, 60, "outreach_survey", {"pensioners": 5}, approve=False)  # waits: not counted
    certificate, _created = issue_certificate(people.trainee, people.course, people.admin, override_reason="Тест")
    boris_certificate, _created = issue_certificate(boris, people.course, people.admin, override_reason="Тест")
    revoke_certificate(boris_certificate, people.admin, "Ошибка")
    db.session.commit()
    return people


def test_every_figure_matches_the_hand_count(programme):
    r = programme_report(TODAY - timedelta(days=364), TODAY)
    assert (r.enrolled, r.active, r.completed) == (3, 2, 1)
    assert (r.certificates_issued, r.certificates_revoked) == (2, 1)
    assert (r.submitted, r.passed) == (2, 1)
    assert r.approved_minutes == 120 + 240 + 300 + 90
    assert {code: (m, n) for code, m, n in r.by_activity} == {
        "event_organisation": (210, 2), "workshop_class": (240, 1), "partner_meeting": (300, 1)}
    assert {name: (m, n) for name, _kind, m, n in r.by_site} == {
        "Центр": (450, 3), '=HYPERLINK("http://evil.example")': (300, 1)}
    assert {code: (m, p) for code, m, p in r.by_audience} == {
        "children_teens": (360, 42), "parents_on_leave": (120, 10), "local_business": (300, 3), "pensioners": (90, 20)}
    assert (r.events, r.event_participants, r.partner_sites) == (2, 60, 2)
    assert sum(m for _w, m in r.weeks) == 750
    ((course, steps),) = r.funnels
    assert course == "Тестовый курс"
    assert [(s.key, s.count) for s in steps] == [("enrolled", 3), ("read", 1), ("passed", 0), ("hours", 1),
                                                 ("certified", 1)]


def test_a_short_period_and_one_cohort(programme, make_cohort, make_user):
    other = make_cohort(programme.course, trainees=[make_user(["trainee"])], name="Группа 2")
    r = programme_report(TODAY - timedelta(days=2), TODAY, cohort=programme.cohort)
    assert r.approved_minutes == 120 + 90 and r.events == 2 and r.enrolled == 3
    assert programme_report(TODAY - timedelta(days=2), TODAY, cohort=other).approved_minutes == 0


def test_report_page_and_csv_exports(app, programme):
    client = app.test_client()
    login(client, programme.admin)
    text = page_text(client.get("/admin/reports"))
    assert "Записано слушателей 3" in text and "Одобренные часы практики 12,5" in text
    assert "<svg" in client.get("/admin/reports").get_data(as_text=True)
    summary = client.get("/admin/reports/summary.csv")
    assert summary.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(summary.get_data().decode("utf-8-sig")), delimiter=";"))
    assert summary.get_data().startswith("\ufeff".encode()) and ["Записано слушателей", "3"] in rows
    assert ["Одобренные часы практики", "12,5"] in rows  # Russian Excel reads a decimal comma
    sites = client.get("/admin/reports/sites.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in sites and "\n=HYPERLINK" not in sites
    for table in ("activity", "audiences", "weeks", "funnel"):
        assert client.get(f"/admin/reports/{table}.csv").status_code == 200
    assert client.get("/admin/reports/nope.csv").status_code == 404
    bad = page_text(client.get("/admin/reports?start=2026-12-01&end=2026-01-01"))
    assert "Период заканчивается раньше" in bad


def test_certificate_figures_agree_after_a_revocation(app, programme):
    client = app.test_client()
    login(client, programme.admin)
    text = page_text(client.get("/admin/reports"))
    assert "Выдано сертификатов за период 2" in text and "из них отозвано 1" in text
    assert "из них действуют 1" in text
    html = client.get("/admin/reports").get_data(as_text=True)
    assert ">имеют действующий сертификат</text>" in html and "зачтённым" not in html
    funnel = client.get("/admin/reports/funnel.csv").get_data().decode("utf-8-sig")
    assert "Тестовый курс;имеют действующий сертификат;1" in funnel


def test_report_downloads_as_one_workbook(app, programme):
    client = app.test_client()
    login(client, programme.admin)
    response = client.get("/admin/reports/report.xlsx")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == ["Сводка", "По видам деятельности", "По площадкам", "По аудиториям",
                                   "Часы по неделям", "Воронка завершения"]
    summary = {row[0]: row[1] for row in workbook["Сводка"].iter_rows(min_row=2, values_only=True)}
    assert summary["Записано слушателей"] == 3 and summary["Одобренные часы практики"] == 12.5
    sites = list(workbook["По площадкам"].iter_rows(min_row=2, values_only=True))
    assert ('=HYPERLINK("http://evil.example")', 5.0, 1) in sites  # kept as text, never a formula
    (cell,) = [row[0] for row in workbook["По площадкам"].iter_rows(min_row=2) if "HYPERLINK" in str(row[0].value)]
    assert cell.data_type == "s"


def test_report_queries_do_not_grow(app, programme, make_user):
    client = app.test_client()
    login(client, programme.admin)
    urls = ("/admin/reports", f"/admin/reports?cohort={programme.cohort.id}", "/admin/reports/summary.csv")

    def counts():
        result = {}
        for url in urls:
            client.get(url)
            with count_queries() as queries:
                assert client.get(url).status_code == 200
            result[url] = queries.count
        return result

    small = counts()
    site = save_partner(None, "Ещё площадка", "ngo")
    for i in range(40):
        trainee = make_user(["trainee"])
        enrol_trainee(programme.cohort, trainee)
        entry(programme, trainee, site, i % 30 + 1, 60, "workshop_class", {"youth": i})
    db.session.commit()
    large = counts()
    assert small == large and max(large.values()) <= 8, (small, large)


def test_a_cohort_report_leaves_out_other_cohorts(programme, make_cohort, make_user):
    """The whole-programme path reads some tables past their indexes; a cohort's path does not. Both give the
    same figures for the same trainees."""
    whole = programme_report(TODAY - timedelta(days=364), TODAY)
    newcomer = make_user(["trainee"])
    other = make_cohort(programme.course, trainees=[newcomer], name="Группа 2")
    other_people = type("P", (), {"cohort": other, "mentor": programme.mentor})
    entry(other_people, newcomer, save_partner(None, "Другой центр", "ngo"), 3, 90, "event_organisation",
          {"pensioners": 7})
    save_text_answer(newcomer, db.session.scalar(select(Assignment).filter_by(key="intro-essay")), "Ответ",
                     submit=True)
    db.session.commit()
    mine = programme_report(TODAY - timedelta(days=364), TODAY, cohort=programme.cohort)
    for name in ("enrolled", "active", "completed", "certificates_issued", "certificates_revoked", "submitted",
                 "passed", "approved_minutes", "by_activity", "by_site", "by_audience", "events",
                 "event_participants", "partner_sites", "weeks", "funnels"):
        assert getattr(mine, name) == getattr(whole, name), name
    assert programme_report(TODAY - timedelta(days=364), TODAY).approved_minutes == whole.approved_minutes + 90


def test_practice_totals_follow_every_review(programme):
    """The report reads practice from totals kept as entries are approved: reopening takes an entry out, approving
    it again (alone or with others) puts it back, and the totals always equal the approved entries."""
    period = (TODAY - timedelta(days=364), TODAY)
    event = db.session.scalars(select(PracticeEntry).filter_by(trainee_id=programme.trainee.id, minutes=120)).one()
    assert practice_totals_agree()
    old = db.session.scalars(select(PracticeEntry).filter_by(trainee_id=programme.trainee.id, minutes=600)).one()
    reopen_practice_entry(event, programme.mentor, "Уточните число участников")
    reopen_practice_entry(old, programme.mentor, "Нет фотографий")
    db.session.commit()
    assert practice_totals_agree()
    r = programme_report(*period)
    assert (r.approved_minutes, r.events, r.event_participants) == (750 - 120, 1, 20)
    assert {code for code, _m, _p in r.by_audience} == {"children_teens", "local_business", "pensioners"}
    ((_course, steps),) = r.funnels
    assert dict((s.key, s.count) for s in steps)["hours"] == 0  # Анна has 540 approved minutes of 600 now

    again = save_practice_entry(programme.trainee, EntryData(
        cohort=programme.cohort, site=event.site, date=event.date, duration_minutes=120,
        activity_type="event_organisation", audiences={"children_teens": 30, "parents_on_leave": 10},
        description="Описание", reflection="Итоги, уточнено"), entry=event, submit=True)
    waiting = db.session.scalars(select(PracticeEntry).filter_by(status="submitted")).all()
    approve_practice_entries([again, *[e for e in waiting if e.id != again.id]], programme.mentor)
    db.session.commit()
    assert practice_totals_agree()
    r = programme_report(*period)
    assert (r.approved_minutes, r.events) == (750 + 60, 2)
    assert {code: (m, n) for code, m, n in r.by_activity}["outreach_survey"] == (60, 1)
    ((_course, steps),) = r.funnels
    assert dict((s.key, s.count) for s in steps)["hours"] == 1  # 660 of 600
