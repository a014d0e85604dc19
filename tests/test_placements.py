"""Placements (issue 20, item 6): asked for by a trainee or assigned by staff, a partner's capacity enforced, who sees
them."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.audit import AuditEvent
from lms.clock import local_today
from lms.extensions import db
from lms.learning.models import Enrolment
from lms.partners.services import save_partner, set_partner_published
from lms.placements.models import Placement
from lms.placements.services import PlacementData, PlacementInvalid, assign_placement, request_placement
from tests.conftest import count_queries, login, page_text, post
from tests.test_access import MAX_QUERIES

START = local_today() + timedelta(days=7)
FORM = {"starts_on": START.isoformat(), "ends_on": (START + timedelta(days=60)).isoformat(),
        "planned_hours": "40", "supervisor_name": "Ольга Руководитель", "supervisor_position": "директор",
        "supervisor_email": "olga@example.org"}


@pytest.fixture
def workshop(people):
    site = save_partner(None, "Мастерская «Делай Вещь»", "business", capacity="1", latitude="55.7447",
                        longitude="37.5006")
    set_partner_published(site, True, None)
    db.session.commit()
    return site


def placements():
    return db.session.scalar(select(func.count()).select_from(Placement))


def data(people, site, start=START, days=60, trainee=None):
    enrolment = db.session.scalar(select(Enrolment).filter_by(trainee_id=(trainee or people.trainee).id))
    return PlacementData(enrolment=enrolment, site=site, starts_on=start, ends_on=start + timedelta(days=days),
                         planned_hours=40, supervisor_name="Ольга", supervisor_email="olga@example.org")


def test_trainee_asks_from_the_partner_page_and_the_mentor_approves(app, people, workshop):
    client = app.test_client()
    login(client, people.trainee)
    page = client.get(f"/partners/{workshop.slug}")
    assert "1 одновременно" in page_text(page) and "Попросить о практике здесь" in page_text(page)
    form = client.get(f"/placements/new?partner={workshop.slug}").get_data(as_text=True)
    assert f'<option value="{workshop.id}" selected' in form
    response = post(client, "/placements/new", {"site": str(workshop.id), **FORM})
    assert response.status_code == 302
    placement = db.session.scalar(select(Placement))
    assert (placement.status, placement.planned_hours, placement.supervisor_position) == ("requested", 40, "директор")
    mentor = app.test_client()
    login(mentor, people.mentor)
    url = f"/placements/{placement.id}"
    assert "Ольга Руководитель" in page_text(mentor.get(url))
    assert post(mentor, url, {"action": "approve"}).status_code == 302
    db.session.refresh(placement)
    assert placement.status == "approved" and placement.decided_by_id == people.mentor.id
    assert post(mentor, url, {"action": "decline"}).status_code == 403  # decided already
    assert {"placement.request", "placement.approve"} <= set(db.session.scalars(select(AuditEvent.action)))
    assert "Мастерская" in page_text(client.get("/placements"))


def test_staff_assign_a_placement_approved_at_once(app, people, workshop):
    client = app.test_client()
    login(client, people.mentor)
    enrolment = db.session.scalar(select(Enrolment).filter_by(trainee_id=people.trainee.id))
    response = post(client, "/placements/new", {"site": str(workshop.id), "enrolment": str(enrolment.id), **FORM})
    assert response.status_code == 302
    assert db.session.scalar(select(Placement.status)) == "approved"


def test_capacity_is_shown_and_enforced_with_a_message(app, people, workshop, make_user, make_cohort):
    request_placement(people.trainee, data(people, workshop))
    db.session.commit()
    second = make_user(["trainee"], name="Вера Вторая")
    make_cohort(people.course, trainees=[second], mentors=[people.mentor], name="Группа 2")
    with pytest.raises(PlacementInvalid) as refused:
        assign_placement(data(people, workshop, start=START + timedelta(days=30), trainee=second), people.mentor)
    assert set(refused.value.errors) == {"site"}
    db.session.rollback()
    after = assign_placement(data(people, workshop, start=START + timedelta(days=61), trainee=second), people.mentor)
    db.session.commit()
    assert after.status == "approved" and placements() == 2
    client = app.test_client()
    login(client, second)
    response = post(client, "/placements/new", {"site": str(workshop.id), **FORM})
    assert response.status_code == 400
    assert "в этом периоде не осталось мест (одновременно мест: 1)" in page_text(response)
    assert placements() == 2
    client = app.test_client()
    login(client, people.mentor)
    assert "1 из 1 занято в этом периоде" in page_text(client.get(f"/placements/{after.id}"))


@pytest.mark.parametrize("change, field, message", [
    ({"ends_on": (START - timedelta(days=1)).isoformat()}, "ends_on", "Период заканчивается раньше, чем начинается."),
    ({"starts_on": "вчера"}, "starts_on", "Укажите первый день практики."),
    ({"planned_hours": "0"}, "planned_hours", "Запланированные часы — целое число от 1 до 2000."),
    ({"planned_hours": "9" * 30}, "planned_hours", "Запланированные часы — целое число от 1 до 2000."),
    ({"supervisor_name": " "}, "supervisor_name", "Назовите руководителя практики от партнёра."),
    ({"supervisor_email": "not-mail"}, "supervisor_email", "Введите адрес электронной почты руководителя."),
    ({"site": "999999"}, "site", "Выберите партнёра, который принимает на практику."),
])
def test_bad_placements_are_refused_with_a_message_and_nothing_saved(app, people, workshop, change, field, message):
    client = app.test_client()
    login(client, people.trainee)
    response = post(client, "/placements/new", {"site": str(workshop.id), **FORM, **change})
    assert response.status_code == 400 and message in page_text(response)
    assert f'aria-describedby="{field}-error"' in response.get_data(as_text=True)
    assert placements() == 0


def test_partner_not_hosting_practice_takes_no_placement(people):
    shop = save_partner(None, "Магазин", "business", active=False)
    with pytest.raises(PlacementInvalid) as refused:
        request_placement(people.trainee, data(people, shop))
    assert set(refused.value.errors) == {"site"}


def test_placement_is_seen_by_its_trainee_the_cohorts_mentors_and_admins_only(app, people, workshop):
    placement = request_placement(people.trainee, data(people, workshop))
    db.session.commit()
    for person, status in ((people.trainee, 200), (people.mentor, 200), (people.admin, 200), (people.other, 404),
                           (people.other_mentor, 404)):
        client = app.test_client()
        login(client, person)
        assert client.get(f"/placements/{placement.id}").status_code == status, person.email
        assert ("Мастерская" in page_text(client.get("/placements"))) == (status == 200), person.email
    assert "olga@example.org" not in app.test_client().get(f"/partners/{workshop.slug}").get_data(as_text=True)


def test_placement_pages_run_few_queries_however_much_was_logged(app, people, workshop):
    from lms.practice.services import EntryData, save_practice_entry

    placement = assign_placement(data(people, workshop, start=local_today() - timedelta(days=20)), people.mentor)
    db.session.commit()
    client = app.test_client()
    login(client, people.mentor)
    urls = (f"/placements/{placement.id}", "/placements", "/placements/new")

    def queries():
        counts = []
        for url in urls:
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            counts.append(counter.count)
        return counts

    before = queries()
    for day in range(1, 16):
        save_practice_entry(people.trainee, EntryData(
            cohort=people.cohort, site=workshop, date=local_today() - timedelta(days=day), duration_minutes=60,
            activity_type=("workshop_class", "partner_meeting", "outreach_survey")[day % 3], description="Занятие",
            reflection="Итоги"), submit=True)
    db.session.commit()
    after = queries()
    assert before == after and max(after) <= MAX_QUERIES, dict(zip(urls, after, strict=True))


def test_placement_page_shows_hours_logged_against_planned_by_activity(app, people, workshop):
    from lms.practice.services import EntryData, review_practice_entry, save_practice_entry

    placement = assign_placement(data(people, workshop, start=local_today() - timedelta(days=10)), people.mentor)
    entries = []
    for days, minutes, kind in ((1, 120, "workshop_class"), (2, 60, "workshop_class"), (3, 90, "partner_meeting")):
        entries.append(save_practice_entry(people.trainee, EntryData(
            cohort=people.cohort, site=workshop, date=local_today() - timedelta(days=days), duration_minutes=minutes,
            activity_type=kind, description="Занятие", reflection="Итоги"), submit=True))
    review_practice_entry(entries[0], people.mentor, "approve", "", entries[0].version)
    db.session.commit()
    client = app.test_client()
    login(client, people.trainee)
    text = page_text(client.get(f"/placements/{placement.id}"))
    assert "одобрено 2 ч из 40 ч по плану; записано 4,5 ч" in text
    assert "Мастерская или занятие 2 3" in text and "Встреча с партнёром 0 1,5" in text


# --- the learning agreement (item 7) ----------------------------------------------------------------

OUTCOMES = ("Объяснить, зачем нужен соседский центр", "Спланировать мероприятие", "Найти партнёра")


def goals_form(n=3, outcome=None):
    form = {"action": "goals"}
    for i in range(1, n + 1):
        form[f"goal-{i}"] = f"Цель {i}: провести встречу жителей"
        form[f"outcome-{i}"] = outcome or OUTCOMES[(i - 1) % 3]
    return form


def agreement_link(client, url):
    import re

    html = client.get(url).get_data(as_text=True)
    return re.search(r'value="http://localhost(/agreements/[^"]+)"', html).group(1)


def test_goals_written_approved_and_agreed_once_through_the_link(app, people, workshop):
    from lms.placements.models import LearningAgreement

    placement = assign_placement(data(people, workshop), people.mentor)
    db.session.commit()
    url = f"/placements/{placement.id}"
    trainee = app.test_client()
    login(trainee, people.trainee)
    html = trainee.get(url).get_data(as_text=True)
    assert html.count('value="goals"') == 1 and "<title>Практика · " in html
    assert post(trainee, url, goals_form()).status_code == 302
    mentor = app.test_client()
    login(mentor, people.mentor)
    assert post(mentor, url, {"action": "approve_agreement"}).status_code == 302
    link = agreement_link(mentor, url)
    supervisor = app.test_client()
    page = supervisor.get(link)
    assert page.status_code == 200 and "Цель 1: провести встречу жителей" in page_text(page)
    assert "olga@example.org" not in page.get_data(as_text=True)
    assert post(supervisor, link, {"name": "Ольга Руководитель"}).status_code == 200
    agreement = db.session.scalar(select(LearningAgreement))
    assert (agreement.status, agreement.agreed_by_name) == ("agreed", "Ольга Руководитель")
    used = supervisor.get(link)
    assert used.status_code == 400 and "Ссылка не работает" in page_text(used)
    assert supervisor.get(link[:-3] + "xyz").status_code == 400  # tampered
    # A change after agreement is a new version; the agreed one is kept.
    assert post(trainee, url, goals_form(4)).status_code == 302
    versions = db.session.scalars(select(LearningAgreement).order_by(LearningAgreement.version)).all()
    assert [(a.version, a.status, len(a.goals)) for a in versions] == [(1, "agreed", 3), (2, "submitted", 4)]
    assert "Предыдущие версии сохранены: 1." in page_text(trainee.get(url))


@pytest.mark.parametrize("form, message", [
    (goals_form(2), "Напишите от 3 до 5 целей."),
    (goals_form(3, outcome="Чужой результат"), "Выберите результат курса, которому служит цель."),
])
def test_bad_goals_are_refused_and_nothing_saved(app, people, workshop, form, message):
    from lms.placements.models import LearningAgreement

    placement = assign_placement(data(people, workshop), people.mentor)
    db.session.commit()
    client = app.test_client()
    login(client, people.trainee)
    response = post(client, f"/placements/{placement.id}", form)
    assert response.status_code == 400 and message in page_text(response)
    assert db.session.scalar(select(func.count()).select_from(LearningAgreement)) == 0


def test_an_expired_or_replaced_link_does_not_work(app, people, workshop):
    from lms.placements.agreements import AGREEMENT_LINK_DAYS, agreement_token, approve_agreement, save_agreement

    placement = assign_placement(data(people, workshop), people.mentor)
    goals = [(f"Цель {i}", OUTCOMES[0]) for i in range(3)]
    first = save_agreement(placement, people.trainee, goals)
    token = approve_agreement(first, people.mentor)
    db.session.commit()
    client = app.test_client()
    assert client.get(f"/agreements/{token}").status_code == 200
    first.approved_at -= timedelta(days=AGREEMENT_LINK_DAYS + 1)
    db.session.commit()
    assert client.get(f"/agreements/{token}").status_code == 400
    first.approved_at += timedelta(days=AGREEMENT_LINK_DAYS + 1)
    save_agreement(placement, people.trainee, goals)  # a new version replaces the approved one
    db.session.commit()
    assert client.get(f"/agreements/{agreement_token(first)}").status_code == 400
    assert client.get("/agreements/not-a-token").status_code == 400


def test_only_the_trainee_writes_goals_and_only_staff_approve(app, people, workshop):
    placement = assign_placement(data(people, workshop), people.mentor)
    db.session.commit()
    url = f"/placements/{placement.id}"
    mentor = app.test_client()
    login(mentor, people.mentor)
    assert post(mentor, url, goals_form()).status_code == 403
    trainee = app.test_client()
    login(trainee, people.trainee)
    post(trainee, url, goals_form())
    assert post(trainee, url, {"action": "approve_agreement"}).status_code == 403


# --- evaluations (item 9) ---------------------------------------------------------------------------

def agreed_placement(people, workshop):
    from lms.placements.agreements import agree_agreement, approve_agreement, save_agreement

    placement = assign_placement(data(people, workshop), people.mentor)
    agreement = save_agreement(placement, people.trainee, [(f"Цель {i}", OUTCOMES[0]) for i in range(1, 4)])
    approve_agreement(agreement, people.mentor)
    agree_agreement(agreement, "Ольга")
    db.session.commit()
    return placement


def evaluation_link(client, url, kind):
    import re

    html = client.get(url).get_data(as_text=True)
    return re.search(rf'id="evaluation-link-{kind}"[^>]*value="http://localhost(/evaluations/[^"]+)"', html).group(1)


def test_supervisor_evaluates_once_and_the_trainee_responds(app, people, workshop):
    from lms.placements.models import PlacementEvaluation

    placement = agreed_placement(people, workshop)
    url = f"/placements/{placement.id}"
    mentor = app.test_client()
    login(mentor, people.mentor)
    assert post(mentor, url, {"action": "request_evaluation", "kind": "final"}).status_code == 302
    link = evaluation_link(mentor, url, "final")
    supervisor = app.test_client()
    form = supervisor.get(link)
    assert form.status_code == 200 and "3 — уверенный уровень" in page_text(form)
    missing = post(supervisor, link, {"goal-1": "4", "goal-2": "3", "recommendation": ""})
    assert missing.status_code == 400 and "Выберите уровень для этой цели." in page_text(missing)
    assert "Напишите рекомендацию." in page_text(missing)
    assert db.session.scalar(select(PlacementEvaluation.submitted_at)) is None
    done = post(supervisor, link, {"goal-1": "4", "goal-2": "3", "goal-3": "3", "strengths": "Ведёт встречи",
                                   "areas": "Планирование", "recommendation": "Рекомендую"})
    assert done.status_code == 200
    evaluation = db.session.scalar(select(PlacementEvaluation))
    assert (evaluation.level, evaluation.ratings["1"], evaluation.nonce) == (3, 4, None)
    from lms.notifications.models import Notification

    told = db.session.scalar(select(Notification).filter_by(user_id=people.mentor.id, kind="evaluation_final"))
    assert told is not None and told.url == f"/placements/{placement.id}#evaluations"
    assert "Пришла итоговая оценка практики" in page_text(mentor.get("/notifications"))
    assert supervisor.get(link).status_code == 400  # used
    trainee = app.test_client()
    login(trainee, people.trainee)
    assert "Рекомендую" in page_text(trainee.get(url))
    assert post(trainee, url, {"action": "respond", "kind": "final", "response": "Спасибо"}).status_code == 302
    assert "Спасибо" in page_text(mentor.get(url))
    assert post(mentor, url, {"action": "respond", "kind": "final", "response": "Чужой ответ"}).status_code == 403
    admin = app.test_client()
    login(admin, people.admin)
    log = page_text(admin.get("/admin/audit?kind=evaluation"))
    assert "вид: итоговая оценка; уровень: 3" in log and "final" not in log


def test_evaluation_needs_agreed_goals_and_refuses_old_and_forged_links(app, people, workshop):
    from lms.placements.agreements import agree_agreement, approve_agreement, save_agreement
    from lms.placements.evaluations import EVALUATION_LINK_DAYS, EvaluationInvalid, request_evaluation

    placement = assign_placement(data(people, workshop), people.mentor)
    db.session.commit()
    with pytest.raises(EvaluationInvalid):
        request_evaluation(placement, "midterm", people.mentor)
    agreement = save_agreement(placement, people.trainee, [(f"Цель {i}", OUTCOMES[0]) for i in range(1, 4)])
    approve_agreement(agreement, people.mentor)
    agree_agreement(agreement, "Ольга")
    token = request_evaluation(placement, "midterm", people.mentor)
    db.session.commit()
    client = app.test_client()
    assert client.get(f"/evaluations/{token}").status_code == 200
    assert client.get(f"/evaluations/{token[:-2]}xx").status_code == 400
    newer = request_evaluation(placement, "midterm", people.mentor)
    db.session.commit()
    assert client.get(f"/evaluations/{token}").status_code == 400
    assert client.get(f"/evaluations/{newer}").status_code == 200
    evaluation = placement.evaluations[0]
    evaluation.requested_at -= timedelta(days=EVALUATION_LINK_DAYS + 1)
    db.session.commit()
    assert client.get(f"/evaluations/{newer}").status_code == 400


def test_a_course_can_require_a_final_evaluation_of_at_least_a_level(app, people, workshop):
    from lms.certificates.eligibility import eligibility_of
    from lms.placements.evaluations import request_evaluation, submit_evaluation

    people.course.certificate = {**(people.course.certificate or {}), "placement_evaluation": 3}
    db.session.commit()

    def requirement():
        return next(r for r in eligibility_of(people.trainee, people.course).requirements
                    if r.kind == "placement_evaluation")

    assert not requirement().done and requirement().need == 3
    client = app.test_client()
    login(client, people.trainee)
    assert "Итоговая оценка практики: ещё не дана (нужен уровень 3)" in page_text(client.get("/certificates"))
    placement = agreed_placement(people, workshop)
    request_evaluation(placement, "final", people.mentor)
    evaluation = placement.evaluations[0]
    submit_evaluation(evaluation, {1: 4, 2: 2, 3: 4}, "", "", "Рекомендую")
    db.session.commit()
    assert evaluation.level == 2 and not requirement().done
    evaluation.level = 3  # the supervisor's ratings as if every goal reached level 3
    db.session.commit()
    assert requirement().done
    assert "Итоговая оценка практики: уровень 3 из необходимых 3" in page_text(client.get("/certificates"))


def test_the_loader_checks_the_evaluation_level(tmp_path):
    from lms.curriculum.loader import load_curriculum

    folder = tmp_path / "courses" / "c"
    folder.mkdir(parents=True)
    (folder / "course.md").write_text('---\ntitle: "Курс"\nslug: c\nlanguage: ru\ncertificate:\n'
                                      '  placement_evaluation: 5\n---\nОбзор.\n', encoding="utf-8")
    _courses, problems = load_curriculum(tmp_path / "courses", render=False)
    assert any("placement_evaluation" in str(problem) for problem in problems)


def test_the_site_supervisor_is_reminded_once_when_an_evaluation_is_due(app, people, workshop, mail_server):
    from lms.placements.evaluations import request_evaluation
    from tests.conftest import send_notifications

    placement = agreed_placement(people, workshop)
    token = request_evaluation(placement, "final", people.mentor)
    db.session.commit()
    send_notifications(app)
    assert not [m for m in mail_server.messages if "olga@example.org" in m.recipients]  # not due yet
    placement.starts_on, placement.ends_on = local_today() - timedelta(days=30), local_today()
    db.session.commit()
    send_notifications(app)
    send_notifications(app)
    reminders = [m for m in mail_server.messages if "olga@example.org" in m.recipients]
    assert len(reminders) == 1 and f"/evaluations/{token}" in reminders[0].get_body(("plain",)).get_content()
