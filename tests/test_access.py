"""Every route is classified here, and each is checked for every kind of visitor.

A new route without a line in ROUTES fails test_every_route_is_classified: decide who may use it and
add it, with a sample URL, so the matrix below checks it automatically.
"""
from datetime import time, timedelta

import pytest

from lms.admin.services import set_user_active
from lms.certificates.services import issue_certificate
from lms.clock import local_today
from lms.curriculum.models import Assignment
from lms.discussions.models import DiscussionPost
from lms.discussions.services import add_comment, post_announcement, start_thread
from lms.extensions import db
from lms.grading.services import save_text_answer, submit_files
from lms.learning.models import Enrolment
from lms.notifications.models import Notification
from lms.partners.services import save_partner, set_partner_image, set_partner_published
from lms.placements.services import PlacementData, request_placement
from lms.practice.services import EntryData, save_practice_entry
from lms.schedule.services import SessionData, schedule_sessions
from lms.uploads import check_upload
from tests.conftest import count_queries, csrf_token, login
from tests.test_grading import PDF, PNG

ASSIGNMENT = "/courses/fixture-course/intro/assignments/intro-essay"

# endpoint: (class, method, sample URL, form data); {submission} and {file} come from the samples fixture.
ROUTES = {
    "static": ("public", "GET", "/static/style.css"),
    "health": ("public", "GET", "/health"),
    "offline.manifest": ("public", "GET", "/manifest.webmanifest"),
    "offline.service_worker": ("public", "GET", "/sw.js"),
    "offline.offline_page": ("public", "GET", "/offline"),
    "auth.login": ("public", "GET", "/login"),
    "auth.logout": ("public", "POST", "/logout"),
    "auth.set_password_page": ("public", "GET", "/set-password/not-a-token"),
    "auth.choose_language": ("public", "POST", "/language"),
    "auth.forgot_password": ("public", "GET", "/forgot-password"),
    "auth.settings": ("signed-in", "GET", "/settings"),
    "auth.confirm_email": ("public", "GET", "/settings/email/not-a-token"),
    "learning.dashboard": ("signed-in", "GET", "/"),
    "learning.course_page": ("trainee-own", "GET", "/courses/fixture-course"),
    "learning.module_page": ("trainee-own", "GET", "/courses/fixture-course/intro"),
    "learning.course_file": ("trainee-own", "GET", "/courses/fixture-course/files/pamyatka.pdf"),
    "learning.mentors_guide": ("staff", "GET", "/courses/fixture-course/mentors-guide"),
    "learning.module_progress": ("trainee-own-write", "POST", "/courses/fixture-course/intro/progress"),
    "grading.assignment_page": ("trainee-own", "GET", ASSIGNMENT),
    "grading.hand_in": ("trainee-own-write", "GET", ASSIGNMENT + "/hand-in"),  # nothing to hand in: back
    "grading.save_draft": ("trainee-own-json", "POST", ASSIGNMENT + "/draft"),
    "grading.withdraw": ("own-entry-write", "POST", "/submissions/{submission}/withdraw"),
    "grading.download_file": ("trainee-record", "GET", "/files/{file}"),
    "grading.queue": ("mentor", "GET", "/mentor/queue"),
    "grading.grade_page": ("mentor-own", "GET", "/mentor/submissions/{submission}"),
    "practice.log": ("practice-home", "GET", "/practice"),
    "practice.trainees": ("staff", "GET", "/practice/trainees"),
    "practice.trainee_log": ("trainee-record", "GET", "/practice/trainees/{trainee}"),
    "practice.new_entry": ("trainee-role", "GET", "/practice/new"),
    "practice.send_queued_entry": ("trainee-role-json", "POST", "/practice/queued"),  # no key: refused
    "practice.entry_page": ("trainee-record", "GET", "/practice/{entry}"),
    "practice.delete_entry": ("own-entry-write", "GET", "/practice/{entry}/delete"),  # not a draft: back
    "practice.download_attachment": ("trainee-record", "GET", "/practice/attachments/{attachment}"),
    "practice.export_trainee": ("trainee-record", "GET", "/practice/trainees/{trainee}/export.csv"),
    "practice.export_cohort": ("cohort-staff", "GET", "/practice/cohorts/{cohort}/export.csv"),
    "practice.approve_many": ("mentor", "GET", "/mentor/practice/approve?ids={entry}"),
    "practice.confirm": ("public", "GET", "/confirm/not-a-token"),
    "certificates.verify_form": ("public", "GET", "/verify"),
    "certificates.verify": ("public", "GET", "/verify/not-a-code"),
    "certificates.verify_pdf": ("public", "GET", "/verify/not-a-code.pdf"),
    "certificates.verify_jwt": ("public", "GET", "/verify/not-a-code.jwt"),
    "certificates.issuer": ("public", "GET", "/issuer"),
    "certificates.issuer_jwks": ("public", "GET", "/issuer/jwks"),
    "certificates.issuer_key": ("public", "GET", "/issuer/keys/key-1"),
    "certificates.achievement_page": ("public", "GET", "/achievements/fixture-course"),
    "certificates.achievement_by_decision": ("public", "GET", "/achievements/fixture-course/by-decision"),
    "certificates.certificate_name": ("own-certificate-write", "POST", "/certificates/{certificate}/name"),
    "certificates.revocation_list": ("public", "GET", "/status/revocation"),
    "certificates.my_certificates": ("trainee-only", "GET", "/certificates"),
    "certificates.portfolio": ("trainee-only", "GET", "/portfolio.zip"),
    "certificates.admin_certificates": ("admin", "GET", "/admin/certificates"),
    "certificates.admin_issue": ("admin-write", "POST", "/admin/certificates/issue",
                                 {"trainee": "{trainee}", "course": "{course}"}),
    "certificates.admin_issue_cohort": ("admin", "GET", "/admin/certificates/cohorts/{cohort}/issue"),
    "certificates.admin_revoke": ("admin-write", "POST", "/admin/certificates/{certificate}/revoke"),
    "admin.users": ("admin", "GET", "/admin/users"),
    "admin.invite_user": ("admin", "GET", "/admin/users/new"),
    "admin.user_page": ("admin", "GET", "/admin/users/{trainee}"),
    "admin.cohorts": ("admin", "GET", "/admin/cohorts"),
    "admin.cohort_page": ("cohort-staff", "GET", "/admin/cohorts/{cohort}"),
    "admin.cohort_matrix_download": ("cohort-staff", "GET", "/admin/cohorts/{cohort}/matrix.xlsx"),
    "admin.all_matrices_xlsx": ("staff", "GET", "/admin/cohorts/matrix.xlsx"),
    "admin.choose_matrix": ("cohort-staff-redirect", "GET", "/admin/matrix?cohort={cohort}"),
    "admin.invitation_links": ("admin", "GET", "/admin/cohorts/{cohort}/invitations.csv"),
    "admin.trainee_record": ("cohort-staff", "GET", "/admin/cohorts/{cohort}/trainees/{trainee}"),
    "admin.audit_log": ("admin", "GET", "/admin/audit"),
    "admin.audit_log_csv": ("admin", "GET", "/admin/audit.csv"),
    "admin.curriculum": ("admin", "GET", "/admin/curriculum"),
    "admin.import_cohort": ("admin", "GET", "/admin/cohorts/{cohort}/import"),
    "reports.report": ("admin", "GET", "/admin/reports"),
    "reports.report_csv": ("admin", "GET", "/admin/reports/summary.csv"),
    "reports.report_xlsx": ("admin", "GET", "/admin/reports/report.xlsx"),
    "partners.directory": ("public", "GET", "/partners"),
    "partners.partner_page": ("public", "GET", "/partners/{slug}"),
    "partners.geojson": ("public", "GET", "/partners.geojson"),
    "partners.partner_photo": ("public", "GET", "/partners/{slug}/photo"),
    "partners.partner_thumbnail": ("public", "GET", "/partners/{slug}/photo/small"),
    "partners.admin_partners": ("admin", "GET", "/admin/partners"),
    "partners.new_partner": ("admin", "GET", "/admin/partners/new"),
    "partners.edit_partner": ("admin", "GET", "/admin/partners/{site}"),
    "partners.import_partners_page": ("admin", "GET", "/admin/partners/import"),
    "placements.placements": ("signed-in", "GET", "/placements"),
    "placements.new_placement": ("signed-in", "GET", "/placements/new"),
    "placements.placement_page": ("trainee-record", "GET", "/placements/{placement}"),
    "placements.agree": ("public", "GET", "/agreements/not-a-token"),
    "placements.evaluate": ("public", "GET", "/evaluations/not-a-token"),
    "notifications.inbox": ("signed-in", "GET", "/notifications"),
    "notifications.open_notification": ("own-notification", "GET", "/notifications/{notification}"),
    "notifications.read_notification": ("own-notification", "POST", "/notifications/{notification}/read"),
    "notifications.read_all": ("signed-in-write", "POST", "/notifications/read-all"),
    "notifications.settings": ("signed-in", "GET", "/settings/notifications"),
    "notifications.unsubscribe": ("public", "GET", "/unsubscribe/not-a-token"),
    "notifications.outbox": ("admin", "GET", "/admin/emails"),
    "schedule.agenda": ("signed-in", "GET", "/calendar"),
    "schedule.renew_feed": ("signed-in-write", "POST", "/calendar/renew"),
    "schedule.feed": ("public", "GET", "/calendar/not-a-token.ics"),
    "schedule.cohort_schedule": ("cohort-schedule", "GET", "/cohorts/{cohort}/schedule"),
    "schedule.session_page": ("trainee-record", "GET", "/sessions/{session}"),
    "schedule.new_session": ("cohort-schedule", "GET", "/cohorts/{cohort}/sessions/new"),
    "schedule.course_plan": ("cohort-schedule", "GET", "/cohorts/{cohort}/schedule/plan"),
    "discussions.comment_on_submission": ("cohort-member-write", "POST", "/submissions/{submission}/comments",
                                          {"body": "Вопрос"}),
    "discussions.comment_on_entry": ("cohort-member-write", "POST", "/practice/{entry}/comments", {"body": "Вопрос"}),
    "discussions.change_comment": ("own-comment-write", "POST", "/comments/{comment}", {"body": "Исправлено"}),
    "discussions.announcements": ("trainee-record", "GET", "/cohorts/{cohort}/announcements"),
    "discussions.read_announcement": ("cohort-member-write", "POST", "/announcements/{announcement}/read"),
    "discussions.board": ("trainee-record", "GET", "/cohorts/{cohort}/discussions"),
    "discussions.thread_page": ("trainee-record", "GET", "/discussions/{thread}"),
    "discussions.change_post": ("cohort-member-write", "POST", "/posts/{post}", {"action": "delete"}),
}
# Further methods of routes above, checked the same way.
EXTRA_REQUESTS = [
    ("trainee-own-write", "POST", "/courses/fixture-course/intro/assignments/intro-quiz",
     {"q-q1": "Никто", "q-q2": "Деньги"}),
    ("own-entry-write", "POST", "/practice/{entry}", {"action": "confirm"}),
    ("mentor-own-entry-write", "POST", "/practice/{entry}", {"action": "return", "comment": "Исправьте",
                                                           "version": "1"}),
    ("cohort-admin-write", "POST", "/admin/cohorts/{cohort}", {"action": "settings", "name": "Группа 1"}),
    ("admin-write", "POST", "/admin/users/{trainee}", {"action": "roles", "roles": "trainee"}),
    ("admin-write", "POST", "/admin/users/{trainee}", {"action": "reset"}),
    ("signed-in-write", "POST", "/settings", {"action": "language", "locale": "ru"}),
    ("cohort-schedule-write", "POST", "/sessions/{session}", {"action": "attendance", "t-{trainee}": "present"}),
    ("mentor-own", "POST", "/mentor/submissions/{submission}", {"decision": "return", "feedback": "Доработайте",
                                                                 "version": "1", "score-0": "", "score-1": ""}),
    ("own-entry-write", "POST", "/practice/{entry}", {"action": "withdraw"}),
    ("admin-write", "POST", "/admin/partners/{site}", {"action": "unpublish"}),
    ("admin-write", "POST", "/admin/partners/{site}", {"action": "remove_image"}),
    ("cohort-staff-write", "POST", "/placements/{placement}", {"action": "approve"}),
]

# What each visitor gets, per class. "login" means a redirect to the sign-in page. "trainee" is in the
# cohort that "mentor" mentors; "other" is a trainee outside it and "other_mentor" a mentor of nobody here.
EXPECTED = {
    "signed-in": dict(anonymous="login", trainee=200, other=200, mentor=200, other_mentor=200, admin=200),
    "signed-in-write": dict(anonymous="login", trainee=302, other=302, mentor=302, other_mentor=302, admin=302),
    "cohort-schedule": dict(anonymous="login", trainee=404, other=404, mentor=200, other_mentor=404, admin=200),
    "cohort-schedule-write": dict(anonymous="login", trainee=403, other=404, mentor=302, other_mentor=404,
                                  admin=302),
    "own-certificate-write": dict(anonymous="login", trainee=302, other=404, mentor=403, other_mentor=403,
                                  admin=403),
    "cohort-member-write": dict(anonymous="login", trainee=302, other=404, mentor=302, other_mentor=404,
                                admin=302),
    "own-comment-write": dict(anonymous="login", trainee=302, other=404, mentor=404, other_mentor=404, admin=404),
    "own-notification": dict(anonymous="login", trainee=302, other=404, mentor=404, other_mentor=404, admin=404),
    "trainee-own": dict(anonymous="login", trainee=200, other=404, mentor=200, other_mentor=200, admin=200),
    "trainee-own-write": dict(anonymous="login", trainee=302, other=404, mentor=403, other_mentor=403, admin=403),
    "trainee-record": dict(anonymous="login", trainee=200, other=404, mentor=200, other_mentor=404, admin=200),
    "own-entry-write": dict(anonymous="login", trainee=302, other=404, mentor=403, other_mentor=404, admin=403),
    "trainee-own-json": dict(anonymous="login", trainee=200, other=404, mentor=403, other_mentor=403, admin=403),
    "mentor-own-entry-write": dict(anonymous="login", trainee=403, other=404, mentor=302, other_mentor=404,
                                   admin=403),
    "practice-home": dict(anonymous="login", trainee=200, other=200, mentor=302, other_mentor=302, admin=302),
    "trainee-role": dict(anonymous="login", trainee=200, other=302, mentor=403, other_mentor=403, admin=403),
    "trainee-role-json": dict(anonymous="login", trainee=400, other=400, mentor=403, other_mentor=403, admin=403),
    "staff": dict(anonymous="login", trainee=403, other=403, mentor=200, other_mentor=200, admin=200),
    "cohort-staff-redirect": dict(anonymous="login", trainee=403, other=403, mentor=302, other_mentor=404,
                                  admin=302),
    "cohort-staff": dict(anonymous="login", trainee=403, other=403, mentor=200, other_mentor=404, admin=200),
    "mentor": dict(anonymous="login", trainee=403, other=403, mentor=200, other_mentor=200, admin=403),
    "mentor-own": dict(anonymous="login", trainee=403, other=403, mentor=(200, 302), other_mentor=404, admin=403),
    "admin": dict(anonymous="login", trainee=403, other=403, mentor=403, other_mentor=403, admin=200),
    "admin-write": dict(anonymous="login", trainee=403, other=403, mentor=403, other_mentor=403, admin=302),
    "cohort-staff-write": dict(anonymous="login", trainee=403, other=404, mentor=302, other_mentor=404, admin=302),
    "cohort-admin-write": dict(anonymous="login", trainee=403, other=403, mentor=403, other_mentor=404, admin=302),
    "trainee-only": dict(anonymous="login", trainee=200, other=200, mentor=403, other_mentor=403, admin=403),
}
VISITORS = ("anonymous", "trainee", "other", "mentor", "other_mentor", "admin", "deactivated")
# "deactivated" is the trainee, signed in, then deactivated by an administrator: the open session ends at once,
# so every page that needs an account sends them to the sign-in page.
for expected in EXPECTED.values():
    expected["deactivated"] = "login"


def visit_as(client, people, visitor):
    if visitor == "anonymous":
        return
    if visitor != "deactivated":
        login(client, getattr(people, visitor))
        return
    set_user_active(people.trainee, True, people.admin)
    db.session.commit()
    login(client, people.trainee)
    set_user_active(people.trainee, False, people.admin)
    db.session.commit()


@pytest.fixture
def samples(people):
    """A submitted file and a submitted text answer of the trainee, for URLs that need ids."""
    def assignment(key):
        return db.session.scalar(db.select(Assignment).filter_by(key=key))

    upload = submit_files(people.trainee, assignment("events-plan"), [check_upload("plan.pdf", PDF)])
    text = save_text_answer(people.trainee, assignment("intro-essay"), "Ответ", submit=True)
    site = save_partner(None, "Центр", "centre", latitude="55.7424", longitude="37.4829")
    set_partner_published(site, True, people.admin)
    set_partner_image(people.admin, site, "logo.png", PNG)
    enrolment = db.session.scalar(db.select(Enrolment).filter_by(trainee_id=people.trainee.id))
    placement = request_placement(people.trainee, PlacementData(
        enrolment=enrolment, site=site, starts_on=local_today(), ends_on=local_today() + timedelta(days=30),
        planned_hours=40, supervisor_name="Ольга", supervisor_email="olga@example.org"))
    entry = save_practice_entry(people.trainee, EntryData(
        cohort=people.cohort, site=site, date=local_today() - timedelta(days=1), duration_minutes=60,
        activity_type="workshop_class", description="Занятие", reflection="Итоги"),
        submit=True, files=[check_upload("photo.png", PNG)])
    certificate, _created = issue_certificate(people.trainee, people.course, people.admin, override_reason="test")
    db.session.commit()
    session, = schedule_sessions(people.cohort, people.admin, SessionData(
        kind="seminar", title="Семинар", day=local_today() - timedelta(days=1), start=time(18), end=time(20)))
    db.session.commit()
    comment = add_comment(people.trainee, "Вопрос к отзыву", submission=text, trainee=people.trainee,
                          cohort_id=people.cohort.id, url="/")
    announcement, = post_announcement([people.cohort], people.mentor, "Семинар переносится", "На четверг.")
    thread = start_thread(people.cohort, people.trainee, "Кейс двора", "Как начать?")
    db.session.commit()
    post_id = db.session.scalar(db.select(DiscussionPost.id).where(DiscussionPost.thread_id == thread.id))
    notification = db.session.scalar(db.select(Notification.id).where(Notification.user_id == people.trainee.id))
    return {"comment": comment.id, "announcement": announcement.id, "thread": thread.id, "post": post_id,
            "session": session.id, "notification": notification, "certificate": certificate.id,
            "course": people.course.id, "file": upload.files[0].id, "submission": text.id, "entry": entry.id,
            "site": site.id, "slug": site.slug, "placement": placement.id, "attachment": entry.attachments[0].id,
            "trainee": people.trainee.id,
            "cohort": people.cohort.id}


def test_every_route_is_classified(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    unclassified = sorted(endpoints - set(ROUTES))
    assert unclassified == [], f"classify these routes in tests/test_access.py: {unclassified}"
    assert sorted(set(ROUTES) - endpoints) == [], "ROUTES lists endpoints that no longer exist"


def test_every_view_declares_its_access(app):
    """The views go through lms.permissions, which marks each of them."""
    undeclared = [name for name, view in app.view_functions.items()
                  if name != "static" and not hasattr(view, "access")]
    assert undeclared == []


def test_public_routes_answer_anonymous_visitors(client, people):
    for endpoint, (kind, method, url, *_data) in ROUTES.items():
        if kind != "public":
            continue
        data = {"csrf_token": csrf_token(client)} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        assert response.status_code < 500, endpoint
        assert response.status_code != 403, endpoint


@pytest.mark.parametrize("visitor", VISITORS)
def test_access_matrix(app, people, samples, visitor):
    requests = [(route + (None,))[:4] for route in ROUTES.values() if route[0] != "public"]
    failures = []
    for kind, method, url, data in requests + EXTRA_REQUESTS:
        client = app.test_client()  # a fresh visitor each time: no request sees another's effects
        visit_as(client, people, visitor)
        url = url.format(**samples)
        data = {key.format(**samples): str(value).format(**samples) for key, value in (data or {}).items()}
        expected = EXPECTED[kind][visitor]
        if method == "POST":
            form_page = "/login" if visitor in ("anonymous", "deactivated") else "/"
            data = {**data, "csrf_token": csrf_token(client, form_page)}
        response = client.open(url, method=method, data=data)
        if expected == "login":
            ok = response.status_code == 302 and response.headers["Location"].startswith("/login")
        else:
            ok = response.status_code in (expected if isinstance(expected, tuple) else (expected,))
        if not ok:
            failures.append(f"{method} {url}: expected {expected}, got {response.status_code}")
    assert failures == []


MAX_QUERIES = 8  # issue 8: no page runs more SQL statements than this


@pytest.mark.parametrize("visitor", VISITORS)
def test_every_page_runs_few_queries(app, people, samples, visitor):
    """Every page each visitor can open, within MAX_QUERIES statements. That the count does not grow with the
    data is tested page by page in test_queries, test_admin, test_reports and test_practice."""
    client = app.test_client()
    visit_as(client, people, visitor)
    heavy = []
    for _kind, method, url, *_data in ROUTES.values():
        if method != "GET" or url.endswith((".csv", ".zip", ".xlsx")):  # downloads, not pages: fixed counts, tested there
            continue
        url = url.format(**samples)
        with count_queries() as queries:
            response = client.get(url)
        if response.status_code == 200 and queries.count > MAX_QUERIES:
            heavy.append(f"{url}: {queries.count}")
    assert heavy == [], "\n".join(heavy)
