"""Administration: users and roles, cohorts, the progress matrix, the trainee record, the audit log."""
import ast
import csv
import io
import json
import re
import shutil
import zipfile
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, update

from lms.admin.matrix import cohort_matrix
from lms.admin.services import set_user_roles
from lms.audit import AuditEvent
from lms.auth.models import User
from lms.auth.services import create_user, update_user
from lms.certificates.eligibility import compute_eligibility
from lms.certificates.models import Certificate
from lms.certificates.services import issue_certificate, revoke_certificate
from lms.clock import local_today, utcnow
from lms.curriculum.models import Assignment
from lms.extensions import db
from lms.grading.models import Submission
from lms.grading.services import save_text_answer, submit_quiz
from lms.learning.models import Enrolment
from lms.learning.services import enrol_trainee
from lms.partners.services import save_partner
from lms.practice.models import PracticeAttachment, PracticeEntry
from lms.practice.services import EntryData, save_practice_entry
from lms.uploads import check_upload
from tests.conftest import (
    FIXTURE_COURSES,
    assert_error_tied,
    count_queries,
    csrf_token,
    login,
    page_text,
    post,
    practice_totals_agree,
    send_notifications,
)
from tests.test_certificates import approve_practice, make_eligible, pass_assignments
from tests.test_grading import PNG

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def admin_client(app, people):
    client = app.test_client()
    login(client, people.admin)
    return client


def test_user_list_search_and_role_filter(admin_client, people):
    text = page_text(admin_client.get("/admin/users?q=соседова"))
    assert "Анна Соседова" in text and "Олег Чужой" not in text
    mentors = page_text(admin_client.get("/admin/users?role=mentor"))
    assert "Марина Наставник" in mentors and "Анна Соседова" not in mentors


def test_invite_shows_a_working_set_password_link(app, admin_client):
    response = post(admin_client, "/admin/users/new", {"name": "Новый Слушатель", "email": "New@Example.org",
                                                       "roles": ["trainee"]})
    user = db.session.scalar(select(User).filter_by(email="new@example.org"))
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)  # the link stays on their page
    link = re.search(r'value="http://localhost(/set-password/[^"]+)"', html).group(1)
    visitor = app.test_client()
    assert post(visitor, link, {"password": "a fresh password", "confirm": "a fresh password"}).status_code == 302
    assert db.session.scalar(select(User).filter_by(email="new@example.org")).password_hash


def test_invite_bad_input_changes_nothing(admin_client, people):
    duplicate = post(admin_client, "/admin/users/new", {"name": "X", "email": people.trainee.email,
                                                        "roles": ["trainee"]})
    assert duplicate.status_code == 400 and "уже есть" in page_text(duplicate)
    assert_error_tied(duplicate, "email", "email-error", focused=True)
    no_role = post(admin_client, "/admin/users/new", {"name": "X", "email": "x@example.org"})
    assert "Выберите хотя бы одну роль." in page_text(no_role)
    html = no_role.get_data(as_text=True)  # the roles' fieldset is described by it, its first box has the focus
    assert '<fieldset aria-describedby="roles-error">' in html and 'id="roles-error"' in html
    assert html.count(" autofocus") == 1 and 'name="roles" value="trainee" autofocus>' in html
    assert db.session.scalar(select(User).filter_by(email="x@example.org")) is None


def test_role_change_is_audited_and_applies_on_next_request(app, admin_client, people):
    mentor = app.test_client()
    login(mentor, people.mentor)
    assert mentor.get("/mentor/queue").status_code == 200
    post(admin_client, f"/admin/users/{people.mentor.id}", {"action": "roles", "roles": ["trainee"]})
    assert mentor.get("/mentor/queue").status_code == 403
    event = db.session.scalar(select(AuditEvent).filter_by(action="user.roles"))
    assert event.details == {"old": ["mentor"], "new": ["trainee"]} and event.actor_id == people.admin.id


def test_admin_cannot_lock_themselves_out(admin_client, people):
    post(admin_client, f"/admin/users/{people.admin.id}", {"action": "roles", "roles": ["mentor"]})
    post(admin_client, f"/admin/users/{people.admin.id}", {"action": "deactivate"})
    db.session.refresh(people.admin)
    assert people.admin.roles == {"admin"} and people.admin.active


def test_deactivation_ends_sessions_and_keeps_work(app, admin_client, people):
    trainee = app.test_client()
    login(trainee, people.trainee)
    post(admin_client, f"/admin/users/{people.trainee.id}", {"action": "deactivate"})
    assert trainee.get("/").status_code == 302
    assert "отключена" in page_text(login(app.test_client(), people.trainee))
    assert db.session.scalar(select(Enrolment).filter_by(trainee_id=people.trainee.id)) is not None
    post(admin_client, f"/admin/users/{people.trainee.id}", {"action": "activate"})
    assert login(app.test_client(), people.trainee).status_code == 302
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"user.deactivate", "user.activate"} <= actions


def test_admin_makes_a_reset_link(admin_client, people):
    response = post(admin_client, f"/admin/users/{people.trainee.id}", {"action": "reset"})
    page = admin_client.get(response.headers["Location"])
    assert "/set-password/" in page.get_data(as_text=True) and "прежняя ссылка больше не работает" in page_text(page)


def test_cohorts_create_enrol_mentor_and_bad_input(admin_client, people, make_user):
    bad = post(admin_client, "/admin/cohorts", {"course": people.course.id, "name": "Весна",
                                                "starts_on": "2026-05-01", "ends_on": "2026-04-01"})
    assert bad.status_code == 400 and "не может закончиться раньше" in page_text(bad)
    response = post(admin_client, "/admin/cohorts", {"course": people.course.id, "name": "Весна"})
    cohort_url = response.headers["Location"]
    newcomer = make_user(["trainee"], email="newcomer@example.org")
    post(admin_client, cohort_url, {"action": "enrol", "email": "newcomer@example.org"}, token_from=cohort_url)
    post(admin_client, cohort_url, {"action": "mentor", "email": people.other_mentor.email}, token_from=cohort_url)
    text = page_text(admin_client.get(cohort_url))
    assert newcomer.name in text and "Пётр Другой" in text
    twice = post(admin_client, cohort_url, {"action": "enrol", "email": people.trainee.email}, token_from=cohort_url)
    assert "уже в группе «Группа 1»" in page_text(admin_client.get(twice.headers["Location"]))
    unknown = post(admin_client, cohort_url, {"action": "enrol", "email": "nobody@example.org"}, token_from=cohort_url)
    assert "Пользователя с таким адресом нет." in page_text(admin_client.get(unknown.headers["Location"]))


def test_moving_a_trainee_keeps_their_work(admin_client, people, make_cohort):
    site = save_partner(None, "Центр", "centre")
    save_practice_entry(people.trainee, EntryData(
        cohort=people.cohort, site=site, date=local_today() - timedelta(days=1), duration_minutes=60,
        activity_type="workshop_class", description="Описание", reflection="Итоги"), submit=True)
    approve_practice(people, people.trainee, [("partner_meeting", 2.5)])
    db.session.commit()
    target = make_cohort(people.course, name="Группа 2")
    url = f"/admin/cohorts/{people.cohort.id}"
    post(admin_client, url, {"action": "move", "user": people.trainee.id, "target": target.id}, token_from=url)
    assert db.session.scalar(select(Enrolment.cohort_id).filter_by(trainee_id=people.trainee.id)) == target.id
    assert set(db.session.scalars(select(PracticeEntry.cohort_id))) == {target.id}
    assert db.session.scalar(select(AuditEvent).filter_by(action="cohort.move_trainee")) is not None
    text = page_text(admin_client.get(f"/practice/trainees?cohort={target.id}"))
    assert "Анна Соседова 2,5" in text  # the approved hours moved with the entries
    assert practice_totals_agree()


def test_matrix_shows_progress_and_is_visible_to_the_cohorts_mentors(app, people):
    make_eligible(people)
    for user, status in ((people.mentor, 200), (people.admin, 200), (people.other_mentor, 404), (people.trainee, 403)):
        client = app.test_client()
        login(client, user)
        response = client.get(f"/admin/cohorts/{people.cohort.id}?sort=hours")
        assert response.status_code == status, user.email
    text = page_text(_as(app, people.mentor).get(f"/admin/cohorts/{people.cohort.id}"))
    assert "Анна Соседова" in text and "пройдено (10)" in text and "10,5" in text and "требования выполнены" in text
    record = page_text(_as(app, people.mentor).get(f"/admin/cohorts/{people.cohort.id}/trainees/{people.trainee.id}"))
    assert "Эссе о районе: пройдено" in record and "10,5 из 10 ч" in record


def test_the_matrix_downloads_as_csv_in_the_readers_language(app, people):
    make_eligible(people)
    response = _as(app, people.mentor).get(f"/admin/cohorts/{people.cohort.id}/matrix.csv")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"] == f"attachment; filename=matrix-cohort-{people.cohort.id}.csv"
    data = response.get_data()
    assert data.startswith("\ufeff".encode())  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))  # Russian Excel's separator
    assert rows[0][:3] == ["Слушатель", "Электронная почта", "М1"] and rows[0][-4:] == [
        "Практика, ч", "Посещаемость, %", "Сообщения", "Сертификат"]
    assert "1.1 Эссе о районе" in rows[0] and "1.1: баллы" in rows[0]
    (row,) = [r for r in rows[1:] if r[0] == "Анна Соседова"]
    assert row[rows[0].index("1.1 Эссе о районе")] == "пройдено" and row[rows[0].index("1.1: баллы")] == "10"
    assert row[-4] == "10,5" and row[-1] == "требования выполнены"  # a decimal comma, as Russian Excel reads
    assert _as(app, people.other_mentor).get(f"/admin/cohorts/{people.cohort.id}/matrix.csv").status_code == 404


def test_the_matrix_downloads_as_a_workbook_with_numbers_as_numbers(app, people, make_cohort, make_user):
    make_eligible(people)
    response = _as(app, people.mentor).get(f"/admin/cohorts/{people.cohort.id}/matrix.xlsx")
    assert response.status_code == 200 and response.headers["Content-Type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.title == people.cohort.name and sheet.freeze_panes == "B2"
    header = [cell.value for cell in sheet[1]]
    (row,) = [[cell.value for cell in r] for r in sheet.iter_rows(min_row=2) if r[0].value == "Анна Соседова"]
    assert row[header.index("1.1: баллы")] == 10 and row[header.index("Практика, ч")] == 10.5
    assert row[header.index("1.1 Эссе о районе")] == "пройдено"
    english = _as(app, people.mentor)
    post(english, "/language", {"locale": "en"})
    header = [c.value for c in openpyxl.load_workbook(io.BytesIO(english.get(
        f"/admin/cohorts/{people.cohort.id}/matrix.xlsx").get_data())).active[1]]
    assert header[:3] == ["Trainee", "E-mail", "M1"] and "Practice, h" in header

    second = make_cohort(people.course, trainees=[make_user(["trainee"], name="Вера Вторая")], name="Группа 2")
    workbook = openpyxl.load_workbook(io.BytesIO(_as(app, people.admin).get("/admin/cohorts/matrix.xlsx").get_data()))
    assert workbook.sheetnames == ["Группа 1", "Группа 2"]
    assert workbook["Группа 2"]["A2"].value == "Вера Вторая" and workbook["Группа 2"].freeze_panes == "B2"
    mentors = openpyxl.load_workbook(io.BytesIO(_as(app, people.mentor).get("/admin/cohorts/matrix.xlsx").get_data()))
    assert mentors.sheetnames == ["Группа 1"] and second.name not in mentors.sheetnames  # only their own cohorts


def test_matrix_has_short_headings_a_legend_links_and_filters(app, people, make_user):
    make_eligible(people)
    waiting = make_user(["trainee"], name="Борис Ждущий")
    enrol_trainee(people.cohort, waiting)
    essay = db.session.scalar(select(Assignment).filter_by(key="intro-essay"))
    answer = save_text_answer(waiting, essay, "Ответ", submit=True)
    db.session.commit()
    url = f"/admin/cohorts/{people.cohort.id}"
    html = _as(app, people.mentor).get(url).get_data(as_text=True)
    head = html[html.index("<thead>"):html.index("</thead>")]
    assert "intro-essay" not in head and 'title="Эссе о районе">1.1</abbr>' in head
    assert "<dt>1.1</dt><dd>Эссе о районе</dd>" in html  # the legend
    assert f'href="/mentor/submissions/{answer.id}"' in html  # the mentor's cell opens the grading page
    admin_html = _as(app, people.admin).get(url).get_data(as_text=True)
    assert f'href="/admin/cohorts/{people.cohort.id}/trainees/{waiting.id}#work-{essay.id}"' in admin_html
    mentor = _as(app, people.mentor)
    shown = page_text(mentor.get(url + "?show=waiting"))
    assert "Борис Ждущий" in shown and "Анна Соседова" not in shown and "Показан 1 слушатель." in shown
    eligible = page_text(mentor.get(url + "?show=eligible"))
    assert "Анна Соседова" in eligible and "Борис Ждущий" not in eligible
    assert "Никто не подходит под этот фильтр." in page_text(mentor.get(url + "?show=returned"))
    compact = mentor.get(url + "?view=compact").get_data(as_text=True)
    assert 'class="table-wrap matrix compact"' in compact and ">✓ (10)</a>" in compact
    everyone = page_text(mentor.get(url + "?show=nonsense"))
    assert "Анна Соседова" in everyone and "Борис Ждущий" in everyone  # an unknown filter shows everyone
    chosen = mentor.get(f"/admin/matrix?cohort={people.cohort.id}&show=waiting&view=compact")
    assert chosen.status_code == 302 and chosen.headers["Location"] == url + "?show=waiting&view=compact"
    assert _as(app, people.other_mentor).get(f"/admin/matrix?cohort={people.cohort.id}").status_code == 404
    assert mentor.get("/admin/matrix?cohort=abc").status_code == 404


def test_matrix_filter_falling_behind(app, people, make_user):
    idle = make_user(["trainee"], name="Глеб Пропавший")
    enrol_trainee(people.cohort, idle)
    db.session.execute(update(Enrolment).where(Enrolment.trainee_id == idle.id)
                       .values(enrolled_at=utcnow() - timedelta(days=30)))
    db.session.commit()
    text = page_text(_as(app, people.mentor).get(f"/admin/cohorts/{people.cohort.id}?show=behind"))
    assert "Глеб Пропавший" in text and "Анна Соседова" not in text


def test_trainee_record_links_each_attempt_and_practice_entry(app, people):
    make_eligible(people)
    essay = db.session.scalar(select(Assignment).filter_by(key="intro-essay"))
    answer = db.session.scalar(select(Submission).filter_by(assignment_id=essay.id, trainee_id=people.trainee.id))
    entries = db.session.scalars(select(PracticeEntry).filter_by(trainee_id=people.trainee.id)).all()
    url = f"/admin/cohorts/{people.cohort.id}/trainees/{people.trainee.id}"
    html = _as(app, people.mentor).get(url).get_data(as_text=True)
    assert f'id="work-{essay.id}"' in html and f'href="/mentor/submissions/{answer.id}"' in html
    assert all(f'href="/practice/{e.id}"' in html for e in entries) and len(entries) == 2
    admin = _as(app, people.admin).get(url).get_data(as_text=True)
    assert "попытка 1" in admin and "/mentor/submissions/" not in admin  # administrators do not grade


def _as(app, user):
    client = app.test_client()
    login(client, user)
    return client


def _page_queries(clients, urls):
    counts = {}
    for role, client in clients.items():
        for url in urls:
            client.get(url)  # warm up
            with count_queries() as queries:
                assert client.get(url).status_code == 200, url
            counts[(role, url)] = queries.count
    return counts


@pytest.mark.parametrize("size", [300])
def test_matrix_and_record_queries_do_not_grow_with_the_cohort(app, people, size):
    clients = {"admin": _as(app, people.admin), "mentor": _as(app, people.mentor)}
    urls = (f"/admin/cohorts/{people.cohort.id}", f"/admin/cohorts/{people.cohort.id}/trainees/{people.trainee.id}")
    small = _page_queries(clients, urls)
    make_eligible(people)
    for i in range(size):
        enrol_trainee(people.cohort, create_user(f"m{i}@example.org", f"Слушатель {i}", ["trainee"]))
    for trainee in db.session.scalars(select(User).where(User.email.in_(["m0@example.org", "m1@example.org"]))):
        make_eligible(people, trainee)
    issue_certificate(people.trainee, people.course, people.admin)
    db.session.commit()
    large = _page_queries(clients, urls)
    assert small == large and max(large.values()) <= 8, (small, large)


def test_matrix_eligibility_is_compute_eligibility(people, make_user):
    """The matrix applies the certificate rules itself, to what it has loaded; they must agree."""
    half, quiz_only, nothing = (make_user(["trainee"]) for _ in range(3))
    for trainee in (half, quiz_only, nothing):
        enrol_trainee(people.cohort, trainee)
    make_eligible(people)
    pass_assignments(people, half)
    approve_practice(people, half, [("workshop_class", 3)])
    quiz = db.session.scalar(select(Assignment).filter_by(key="intro-quiz"))
    submit_quiz(quiz_only, quiz, {"q1": ["Менеджер сообщества"], "q2": ["Связи и доверие"]})
    submit_quiz(quiz_only, quiz, {"q1": ["Никто"], "q2": ["Деньги"]})  # worse, and later: the best one counts
    db.session.commit()
    rows = cohort_matrix(people.cohort).rows
    expected = compute_eligibility(people.course, [row.trainee.id for row in rows])
    assert {row.trainee.id: row.eligibility for row in rows} == expected
    assert [expected[t.id].eligible for t in (people.trainee, half, quiz_only, nothing)] == [True, False, False, False]


def test_audit_log_filters(admin_client, people):
    post(admin_client, f"/admin/users/{people.mentor.id}", {"action": "roles", "roles": ["mentor", "admin"]})
    text = page_text(admin_client.get("/admin/audit?action=user.roles"))
    assert "изменены роли: Марина Наставник" in text and "создана учётная запись" not in text
    assert "изменены роли" in page_text(admin_client.get(f"/admin/audit?actor={people.admin.email}"))
    assert "изменены роли" in page_text(admin_client.get("/admin/audit?actor=ирина"))  # by name too
    assert "Ничего не найдено." in page_text(admin_client.get("/admin/audit?actor=nobody"))
    today = local_today().isoformat()
    assert "изменены роли" in page_text(admin_client.get(f"/admin/audit?since={today}&until={today}&object=users"))
    assert "Введите даты" in page_text(admin_client.get("/admin/audit?since=yesterday"))
    kind = page_text(admin_client.get("/admin/audit?kind=certificate"))
    assert "Ничего не найдено." in kind and "изменены роли" not in page_text(admin_client.get("/admin/audit?kind=cohort"))


def test_audit_log_reads_as_sentences_and_exports(admin_client, people):
    certificate, _created = issue_certificate(people.trainee, people.course, people.admin, override_reason="Тест")
    revoke_certificate(certificate, people.admin, "Выдан по ошибке")
    db.session.commit()
    html = admin_client.get("/admin/audit?kind=certificate").get_data(as_text=True)
    text = page_text(admin_client.get("/admin/audit?kind=certificate"))
    assert f"сертификат отозван: сертификат {certificate.short_code} слушателя Анна Соседова" in text
    assert "причина: Выдан по ошибке" in text and "\\u04" not in html and "certificate.revoke" not in text
    assert f'href="/verify/{certificate.short_code}"' in html
    assert 'role="region"' in html and 'tabindex="0"' in html
    response = admin_client.get("/admin/audit.csv?kind=certificate")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Когда", "Кто", "Действие", "Объект", "Подробности", "Код действия"]
    assert [r[2] for r in rows[1:]] == ["сертификат отозван", "выдан сертификат"]
    assert rows[1][1] == "Ирина Админ" and rows[1][3].startswith("сертификат ") and rows[1][5] == "certificate.revoke"
    english = admin_client
    post(english, "/language", {"locale": "en"})
    assert "revoked a certificate: certificate" in page_text(english.get("/admin/audit?kind=certificate"))


def test_audit_details_name_codes_in_words(admin_client, people):
    set_user_roles(people.mentor, ["mentor", "trainee"], people.admin)
    update_user(people.mentor, "Марина Наставник-Старшая", people.mentor.email, people.admin)
    db.session.commit()
    text = page_text(admin_client.get("/admin/audit?kind=user"))
    assert "было: наставник; стало: наставник, слушатель" in text
    assert "имя: Марина Наставник → Марина Наставник-Старшая" in text
    assert "mentor" not in text and "название" not in text


def test_every_recorded_action_and_detail_has_words():
    """Each action code and detail name passed to record_event anywhere in the app reads as words in the log."""
    from lms.admin.audit_log import ACTION_LABELS, DETAIL_LABELS

    unnamed = set()
    for path in (Path(__file__).parents[1] / "lms").rglob("*.py"):
        for call in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "record_event"):
                continue
            code = call.args[1]  # an f-string's codes are checked by the tests of its area
            codes = [] if isinstance(code, ast.JoinedStr) else [
                n.value for n in ast.walk(code) if isinstance(n, ast.Constant)]
            unnamed |= {f"{path.name}: {c}" for c in codes if c not in ACTION_LABELS}
            unnamed |= {f"{path.name}: {k.arg}" for k in call.keywords if k.arg and k.arg not in DETAIL_LABELS}
    assert not unnamed


# --- CSV import -------------------------------------------------------------------------------

def upload_csv(client, cohort, content, action="preview"):
    url = f"/admin/cohorts/{cohort.id}/import"
    data = {"csrf_token": csrf_token(client, url), "action": action}
    if action == "preview":
        data["file"] = (io.BytesIO(content if isinstance(content, bytes) else content.encode()), "trainees.csv")
        return client.post(url, data=data, content_type="multipart/form-data")
    data["content"] = content
    return client.post(url, data=data)


def test_csv_import_preview_then_one_transaction(admin_client, people):
    good = ("ФИО,E-mail\nИван Петров,ivan@example.org\nОльга Сидорова,olga@example.org\n"
            "Анна Соседова,trainee@example.org\n")
    preview = upload_csv(admin_client, people.cohort, good)
    text = page_text(preview)
    assert "новая учётная запись" in text and "уже в этой группе: пропускается" in text
    assert db.session.scalar(select(User).filter_by(email="ivan@example.org")) is None
    done = upload_csv(admin_client, people.cohort, good, action="import")
    assert "Импортировано строк: 2." in page_text(done) and "/set-password/" in done.get_data(as_text=True)
    enrolled = set(db.session.scalars(select(User.email).join(Enrolment)
                                      .where(Enrolment.cohort_id == people.cohort.id)))
    assert {"ivan@example.org", "olga@example.org", "trainee@example.org"} <= enrolled


@pytest.mark.parametrize("content, message", [
    ("Иван,not-an-email\n", "неверный адрес"),
    ("Иван,ivan@example.org\nИван 2,IVAN@example.org\n", "уже встречается выше"),
    (",ivan@example.org\n", "нет имени"),
    ("Админ,admin@example.org\n", "не учётная запись слушателя"),
    ("Олег,other@example.org\n", None),
])
def test_csv_import_row_errors_block_the_import(admin_client, people, make_cohort, content, message):
    if message is None:  # a trainee already in another cohort of the course
        make_cohort(people.course, trainees=[people.other], name="Группа 2")
        message = "уже в группе «Группа 2»"
    text = page_text(upload_csv(admin_client, people.cohort, content))
    assert message in text and "ничего не импортировано" in text
    refused = upload_csv(admin_client, people.cohort, content, action="import")
    assert refused.status_code == 400
    assert db.session.scalar(select(User).filter_by(email="ivan@example.org")) is None


def test_csv_import_bad_files(admin_client, people):
    assert "Это не CSV-файл" in page_text(upload_csv(admin_client, people.cohort, b"PK\x03\x04\x00\x00binary"))
    big = ("Имя,a@example.org\n" * 600_000).encode()  # about 10 MB
    assert "больше 2 МБ" in page_text(upload_csv(admin_client, people.cohort, big))
    assert "В файле нет строк" in page_text(upload_csv(admin_client, people.cohort, "ФИО,E-mail\n"))
    windows = "Пётр Иванов;petr@example.org\n".encode("cp1251")
    assert "Пётр Иванов" in page_text(upload_csv(admin_client, people.cohort, windows))


# --- curriculum -------------------------------------------------------------------------------

def test_curriculum_page_checks_and_syncs_like_the_cli(app, admin_client, people, tmp_path):
    courses = tmp_path / "courses"
    shutil.copytree(FIXTURE_COURSES, courses)
    app.config["LMS_COURSES_DIR"] = str(courses)
    text = page_text(admin_client.get("/admin/curriculum"))
    assert "Тестовый курс" in text and people.course.source_hash[:12] in text
    intro = courses / "fixture-course" / "01-intro.md"
    intro.write_text(intro.read_text(encoding="utf-8").replace("kind: text", "kind: essay"), encoding="utf-8")
    broken = page_text(post(admin_client, "/admin/curriculum", {"action": "sync"}))
    assert "1 проблема; ничего не изменено." in broken
    assert "courses/fixture-course/01-intro.md:10: 'kind' must be one of: text, file, quiz" in broken
    intro.write_text(intro.read_text(encoding="utf-8").replace("kind: essay", "kind: text")
                     .replace("Опишите свой район", "Опишите ваш район"), encoding="utf-8")
    checked = page_text(post(admin_client, "/admin/curriculum", {"action": "check"}))
    assert "Проверка пройдена." in checked
    assert "fixture-course/intro : будет обновлён" in checked and "unchanged" not in checked
    assert db.session.scalar(select(Assignment.prompt_html).filter_by(key="intro-essay")).count("ваш") == 0
    synced = page_text(post(admin_client, "/admin/curriculum", {"action": "sync"}))
    assert "Синхронизировано." in synced and "fixture-course/intro : обновлён" in synced
    assert "fixture-course/events : без изменений" in synced
    assert "без изменений (" in page_text(post(admin_client, "/admin/curriculum", {"action": "check"}))
    assert "ваш район" in db.session.scalar(select(Assignment.prompt_html).filter_by(key="intro-essay"))
    assert db.session.scalar(select(AuditEvent).filter_by(action="curriculum.sync")) is not None


def test_opening_the_curriculum_page_checks_nothing_and_shows_the_last_check(app, admin_client, people, tmp_path):
    app.config["LMS_COURSES_DIR"] = str(tmp_path / "nowhere")  # a check of this would report a problem
    first = page_text(admin_client.get("/admin/curriculum"))
    assert "Учебная программа ещё не проверялась с этой страницы." in first
    with count_queries() as queries:
        admin_client.get("/admin/curriculum")
    assert queries.count <= 4  # the courses and the last event: no course files read on open
    assert "1 проблема" in page_text(post(admin_client, "/admin/curriculum", {"action": "check"}))
    text = page_text(admin_client.get("/admin/curriculum"))
    assert "Последняя проверка" in text and "Ирина Админ" in text and "1 проблема." in text


def test_invitation_is_e_mailed_when_mail_is_configured(app, admin_client, mail_server):
    response = post(admin_client, "/admin/users/new", {"name": "Почтовый", "email": "mail@example.org",
                                                       "roles": ["trainee"]})
    page = admin_client.get(response.headers["Location"])
    assert "приглашение отправлено на mail@example.org" in page_text(page)
    sent_link = re.search(r'value="http://localhost(/set-password/[^"]+)"', page.get_data(as_text=True)).group(1)
    assert mail_server.messages == []  # not from the web request: from the outbox
    send_notifications(app)
    (message,) = mail_server.messages
    assert message["To"] == "mail@example.org"
    assert "/set-password/" in message.get_body(("plain",)).get_content()
    assert "/set-password/" in message.get_body(("html",)).get_content()
    # The page offers the same working link to copy, in case the letter does not arrive.
    mailed = re.search(r"http://localhost(/set-password/\S+)", message.get_body(("plain",)).get_content()).group(1)
    assert post(app.test_client(), sent_link, {"password": "a fresh password", "confirm": "a fresh password"}
                ).status_code == 302
    assert app.test_client().get(mailed).status_code == 400  # single use: that link is the same key


def test_admin_sends_a_new_link_from_the_users_page(app, admin_client, people, mail_server):
    post(admin_client, f"/admin/users/{people.trainee.id}", {"action": "reset"})
    send_notifications(app)
    (message,) = mail_server.messages
    assert message.recipients == [people.trainee.email]
    assert "/set-password/" in message.get_body(("plain",)).get_content()


# --- personal data ----------------------------------------------------------------------------

def test_personal_data_export_and_anonymisation(app, admin_client, people):
    make_eligible(people)
    certificate, _created = issue_certificate(people.trainee, people.course, people.admin)
    entry = db.session.scalar(select(PracticeEntry))
    entry.attachments.append(PracticeAttachment(filename="фото.png", content_type="image/png", size=len(PNG),
                                                sha256=check_upload("фото.png", PNG).sha256, data=PNG))
    db.session.commit()
    url = f"/admin/users/{people.trainee.id}"
    archive = zipfile.ZipFile(io.BytesIO(post(admin_client, url, {"action": "export"}).data))
    data = json.loads(archive.read("data.json"))
    assert data["user"]["email"] == "trainee@example.org" and "password_hash" not in data["user"]
    assert data["submissions"] and data["practice_entries"] and data["certificates"][0]["short_code"]
    assert any(name.endswith("фото.png") for name in archive.namelist())

    refused = post(admin_client, url, {"action": "anonymise"})
    assert "Отметьте галочку" in page_text(admin_client.get(refused.headers["Location"]))
    post(admin_client, url, {"action": "anonymise", "confirm": "yes"})
    user = db.session.get(User, people.trainee.id)
    assert user.email.startswith("deleted-") and "Соседова" not in user.name and not user.active
    assert db.session.scalar(select(Submission.answer_markdown).limit(1)) == "[удалено]"
    assert db.session.scalar(select(PracticeEntry.reflection_markdown)) == "[удалено]"
    assert db.session.scalar(select(PracticeAttachment)) is None
    assert db.session.scalar(select(Submission.score).where(Submission.status == "passed").limit(1)) is not None
    assert db.session.get(Certificate, certificate.id).trainee_name == "Анна Соседова"
    assert "Сертификат действителен" in page_text(app.test_client().get(f"/verify/{certificate.code}"))
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"user.export_personal_data", "user.anonymise"} <= actions
    assert login(app.test_client(), "trainee@example.org").status_code == 200


# --- getting people in and correcting them ----------------------------------------------------------------------

def test_import_links_stay_downloadable_and_copyable(app, admin_client, people):
    done = upload_csv(admin_client, people.cohort, "Иван Петров;ivan@example.org\n", action="import")
    html = done.get_data(as_text=True)
    assert 'data-copy-link="link-' in html and "Скачать ссылки (CSV)" in page_text(done)
    page_link = re.search(r'value="http://localhost(/set-password/[^"]+)"', html).group(1)
    response = admin_client.get(f"/admin/cohorts/{people.cohort.id}/invitations.csv")  # later, from any page
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["ФИО", "Электронная почта", "Ссылка для установки пароля", "Действует до"]
    (ivan,) = rows[1:]  # the trainee who has a password is not listed
    assert ivan[:2] == ["Иван Петров", "ivan@example.org"] and ivan[3]
    downloaded = ivan[2].removeprefix("http://localhost")
    assert post(app.test_client(), downloaded, {"password": "a fresh password", "confirm": "a fresh password"}
                ).status_code == 302
    assert app.test_client().get(page_link).status_code == 400  # the same link: used once
    again = admin_client.get(f"/admin/cohorts/{people.cohort.id}/invitations.csv").get_data().decode("utf-8-sig")
    assert "ivan@example.org" not in again


def test_import_with_mail_sends_each_invitation(app, admin_client, people, mail_server):
    upload_csv(admin_client, people.cohort, "Иван Петров,ivan@example.org\nОльга Сидорова,olga@example.org\n",
               action="import")
    send_notifications(app)
    assert sorted(m["To"] for m in mail_server.messages) == ["ivan@example.org", "olga@example.org"]
    assert all("/set-password/" in m.get_body(("plain",)).get_content() for m in mail_server.messages)


def test_a_new_link_ends_the_old_one(app, admin_client, people, make_user):
    newcomer = make_user(password=None, email="late@example.org", name="Лев Поздний")
    first = post(admin_client, f"/admin/users/{newcomer.id}", {"action": "reset"})
    old = re.search(r'value="http://localhost(/set-password/[^"]+)"',
                    admin_client.get(first.headers["Location"]).get_data(as_text=True)).group(1)
    post(admin_client, f"/admin/users/{newcomer.id}", {"action": "reset"})
    page = admin_client.get(f"/admin/users/{newcomer.id}")
    new = re.search(r'value="http://localhost(/set-password/[^"]+)"', page.get_data(as_text=True)).group(1)
    assert "Пароль ещё не задан." in page_text(page) and "Ещё ни разу не входил(а)." in page_text(page)
    stale = app.test_client()
    assert stale.get(old).status_code == 400  # the stale link
    assert post(stale, new, {"password": "a fresh password", "confirm": "a fresh password"}).status_code == 302
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "user.new_password_link"))


def test_users_can_be_filtered_by_not_signed_in_yet(admin_client, people, make_user):
    make_user(password=None, name="Лев Поздний")
    text = page_text(admin_client.get("/admin/users?status=never"))
    assert "Лев Поздний" in text and people.admin.email not in text  # the admin has signed in
    assert "ещё нет; пароль не задан" in text
    no_password = page_text(admin_client.get("/admin/users?status=no-password"))
    assert "Лев Поздний" in no_password and "Анна Соседова" not in no_password
    assert people.admin.email in page_text(admin_client.get("/admin/users?status=bogus"))  # unknown: everyone


def test_admin_corrects_a_name_and_an_e_mail(admin_client, people):
    url = f"/admin/users/{people.trainee.id}"
    response = post(admin_client, url, {"action": "profile", "name": "  Анна   Соседова-Ким ",
                                        "email": "Anna@Example.org"})
    assert response.status_code == 302
    trainee = db.session.get(User, people.trainee.id)
    assert (trainee.name, trainee.email) == ("Анна Соседова-Ким", "anna@example.org")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert event.actor_id == people.admin.id and event.details["email"] == ["trainee@example.org", "anna@example.org"]
    for bad, message, field in (({"name": "   ", "email": "anna@example.org"}, "Укажите имя.", "name"),
                                ({"name": "Анна", "email": people.mentor.email}, "уже есть", "email"),
                                ({"name": "Анна", "email": "not an address"}, "Введите правильный адрес", "email")):
        refused = post(admin_client, url, {"action": "profile", **bad}, token_from=url)
        assert refused.status_code == 400 and message in page_text(refused), bad
        assert bad["email"] in refused.get_data(as_text=True)  # what was typed stays in the form
        assert_error_tied(refused, field, "profile-error", focused=True)
    trainee = db.session.get(User, people.trainee.id)
    assert (trainee.name, trainee.email) == ("Анна Соседова-Ким", "anna@example.org")


def test_before_issuing_the_admin_sees_the_printed_names(admin_client, people):
    make_eligible(people)
    text = page_text(admin_client.get(f"/admin/certificates/cohorts/{people.cohort.id}/issue"))
    assert "Имена будут напечатаны точно так, как ниже" in text and "Анна Соседова" in text
    listing = page_text(admin_client.get(f"/admin/certificates?cohort={people.cohort.id}"))
    assert "Имя в сертификате: «Анна Соседова»" in listing
