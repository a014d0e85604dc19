"""Certificates: eligibility, issue and revoke, verification pages, PDF with QR, Open Badges 3.0."""
import base64
import gzip
import io
import json
import os
import shutil
import subprocess
import zipfile
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.audit import AuditEvent
from lms.certificates.eligibility import eligibility_of
from lms.certificates.models import Certificate
from lms.certificates.services import CertificateError, issue_certificate, revoke_certificate
from lms.clock import local_today
from lms.curriculum.models import Assignment
from lms.extensions import db
from lms.grading.services import grade_submission, save_text_answer, submit_quiz
from lms.partners.services import save_partner
from lms.practice.models import PracticeEntry, PracticeSite
from lms.practice.services import (
    EntryData,
    reopen_practice_entry,
    review_practice_entry,
    save_practice_entry,
)
from tests.conftest import login, page_text, post


def pass_assignments(people, trainee):
    essay = db.session.scalar(select(Assignment).filter_by(key="intro-essay"))
    quiz = db.session.scalar(select(Assignment).filter_by(key="intro-quiz"))
    answer = save_text_answer(trainee, essay, "Ответ", submit=True)
    grade_submission(answer, people.mentor, [5, 5], "Хорошо", "pass", answer.version)
    submit_quiz(trainee, quiz, {"q1": ["Менеджер сообщества"], "q2": ["Связи и доверие"]})


def approve_practice(people, trainee, hours_by_activity, cohort=None):
    name = f"Центр {trainee.id}"
    site = db.session.scalar(select(PracticeSite).filter_by(name=name)) or save_partner(None, name, "centre")
    for i, (activity, hours) in enumerate(hours_by_activity):
        entry = save_practice_entry(trainee, EntryData(
            cohort=cohort or people.cohort, site=site, date=local_today() - timedelta(days=i + 1),
            duration_minutes=int(hours * 60), activity_type=activity, description="Описание", reflection="Итоги"),
            submit=True)
        review_practice_entry(entry, people.mentor, "approve", "", entry.version)


def make_eligible(people, trainee=None):
    trainee = trainee or people.trainee
    pass_assignments(people, trainee)
    approve_practice(people, trainee, [("workshop_class", 6), ("partner_meeting", 4.5)])
    db.session.commit()
    return trainee


# --- eligibility ------------------------------------------------------------------------------

def test_eligibility_follows_the_course_rules(people):
    e = eligibility_of(people.trainee, people.course)
    assert not e.eligible and [r.kind for r in e.missing] == ["assignment", "assignment", "hours", "activity_types"]
    pass_assignments(people, people.trainee)
    approve_practice(people, people.trainee, [("workshop_class", 10)])
    db.session.commit()
    e = eligibility_of(people.trainee, people.course)
    assert [r.kind for r in e.missing] == ["activity_types"] and e.approved_hours == 10
    approve_practice(people, people.trainee, [("outreach_survey", 1)])
    db.session.commit()
    assert eligibility_of(people.trainee, people.course).eligible


def test_reopened_practice_stops_counting_for_the_certificate(people):
    pass_assignments(people, people.trainee)
    approve_practice(people, people.trainee, [("workshop_class", 9), ("outreach_survey", 1), ("workshop_class", 1)])
    db.session.commit()
    assert eligibility_of(people.trainee, people.course).eligible
    survey = db.session.scalar(select(PracticeEntry).filter_by(activity_type="outreach_survey"))
    reopen_practice_entry(survey, people.mentor, "Нет списка опрошенных")
    db.session.commit()
    e = eligibility_of(people.trainee, people.course)
    assert [r.kind for r in e.missing] == ["activity_types"] and e.approved_hours == 10
    workshop = db.session.scalar(select(PracticeEntry).filter_by(activity_type="workshop_class", minutes=60))
    reopen_practice_entry(workshop, people.mentor, "Не та дата")
    db.session.commit()
    e = eligibility_of(people.trainee, people.course)
    assert [r.kind for r in e.missing] == ["hours", "activity_types"] and e.approved_hours == 9


def test_trainee_sees_what_is_done_and_missing(client, people):
    pass_assignments(people, people.trainee)
    db.session.commit()
    login(client, people.trainee)
    text = page_text(client.get("/certificates"))
    assert "✓ Задание засчитано: Эссе о районе" in text
    assert "○ Одобренная практика: 0 из 10 ч" in text and "○ Видов деятельности на практике: 0 из 2" in text


# --- issuing and revoking ---------------------------------------------------------------------

def test_issue_freezes_what_was_certified_and_is_idempotent(people):
    make_eligible(people)
    certificate, created = issue_certificate(people.trainee, people.course, people.admin)
    db.session.commit()
    assert created and certificate.trainee_name == "Анна Соседова" and certificate.course_title == "Тестовый курс"
    assert float(certificate.practice_hours) == 10.5 and certificate.issued_on == local_today()
    assert len(certificate.code) >= 43 and len(certificate.short_code) == 14
    people.trainee.name = "Анна Новая"
    again, created_again = issue_certificate(people.trainee, people.course, people.admin)
    assert not created_again and again.id == certificate.id and again.trainee_name == "Анна Соседова"
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1


def test_not_eligible_is_refused_unless_overridden_with_a_reason(client, people):
    login(client, people.admin)
    form = {"trainee": people.trainee.id, "course": people.course.id, "cohort": people.cohort.id}
    refused = post(client, "/admin/certificates/issue", form, token_from="/admin/certificates")
    assert "пока не выполнил(а) требования" in page_text(client.get(refused.headers["Location"]))
    assert db.session.scalar(select(Certificate)) is None
    post(client, "/admin/certificates/issue", {**form, "override_reason": "Перезачёт опыта работы"},
         token_from="/admin/certificates")
    certificate = db.session.scalar(select(Certificate))
    assert certificate.override_reason == "Перезачёт опыта работы"
    event = db.session.scalar(select(AuditEvent).filter_by(action="certificate.issue"))
    assert event.details["override_reason"] == "Перезачёт опыта работы" and event.actor_id == people.admin.id


def test_issue_to_a_trainee_of_another_course_is_refused(people):
    with pytest.raises(CertificateError):
        issue_certificate(people.other, people.course, people.admin, override_reason="x")


def test_admin_page_and_bulk_issue_with_confirmation(client, people, make_user):
    make_eligible(people)
    second = make_user(["trainee"], name="Борис Второй")
    from lms.learning.services import enrol_trainee

    enrol_trainee(people.cohort, second)
    db.session.commit()
    make_eligible(people, second)
    third = make_user(["trainee"], name="Вера Третья")
    enrol_trainee(people.cohort, third)
    db.session.commit()
    login(client, people.admin)
    text = page_text(client.get(f"/admin/certificates?cohort={people.cohort.id}"))
    assert "2 слушателя выполнили требования" in text and "Эссе о районе" in text
    confirm = page_text(client.get(f"/admin/certificates/cohorts/{people.cohort.id}/issue"))
    assert "Будет выдано 2 сертификата" in confirm
    response = post(client, f"/admin/certificates/cohorts/{people.cohort.id}/issue",
                    token_from=f"/admin/certificates/cohorts/{people.cohort.id}/issue")
    assert "Выдано 2 сертификата." in page_text(client.get(response.headers["Location"]))
    post(client, f"/admin/certificates/cohorts/{people.cohort.id}/issue", token_from="/admin/certificates")
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 2


def test_cli_bulk_issue_shows_progress(runner, people):
    make_eligible(people)
    result = runner.invoke(args=["lms", "issue-certificates", "--cohort", str(people.cohort.id),
                                 "--actor", people.admin.email])
    assert result.exit_code == 0, result.output
    assert "1/1 checked" in result.output and "Issued 1 certificate(s)" in result.output
    refused = runner.invoke(args=["lms", "issue-certificates", "--cohort", str(people.cohort.id),
                                  "--actor", people.mentor.email])
    assert refused.exit_code == 1 and "not an administrator" in refused.output


def test_database_allows_one_valid_certificate_per_trainee_and_course(app, people):
    make_eligible(people)
    first, _created = issue_certificate(people.trainee, people.course, people.admin)
    db.session.commit()
    with Session(db.engine) as other:
        other.add(Certificate(code="x" * 43, short_code="AAAA-BBBB-CCCC", trainee_id=people.trainee.id,
                              course_id=people.course.id, trainee_name="x", course_title="x", practice_hours=0,
                              issued_on=local_today(), issuer_name="x", status_index=first.status_index + 1,
                              subject_id="urn:uuid:x", identity_salt="x", email_hash="x"))
        with pytest.raises(IntegrityError, match="(?i)unique"):
            other.commit()
    revoke_certificate(first, people.admin, "Ошибка")
    db.session.commit()
    second, created = issue_certificate(people.trainee, people.course, people.admin)
    db.session.commit()
    assert created and second.id != first.id


def test_concurrent_issue_keeps_one_certificate(app, people):
    """Two administrators' transactions issue at the same moment; the database keeps one (PostgreSQL)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs two truly concurrent connections: PostgreSQL")
    import threading

    make_eligible(people)
    ids = people.trainee.id, people.course.id
    barrier = threading.Barrier(2)
    outcomes = []

    def admin_issues():
        with app.app_context():
            from lms.auth.models import User
            from lms.curriculum.models import Course

            trainee, course = db.session.get(User, ids[0]), db.session.get(Course, ids[1])
            admin = db.session.get(User, people.admin.id)
            barrier.wait()
            certificate, created = issue_certificate(trainee, course, admin)
            try:
                db.session.commit()
                outcomes.append(created)
            except IntegrityError:
                db.session.rollback()
                outcomes.append("conflict")

    threads = [threading.Thread(target=admin_issues) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1
    assert sorted(map(str, outcomes)) in (["False", "True"], ["True", "conflict"])


def test_revoke_needs_a_reason_and_happens_once(client, people):
    make_eligible(people)
    certificate, _created = issue_certificate(people.trainee, people.course, people.admin)
    db.session.commit()
    login(client, people.admin)
    url = f"/admin/certificates/{certificate.id}/revoke"
    refused = post(client, url, {"reason": ""}, token_from="/admin/certificates")
    assert "Укажите причину отзыва" in page_text(client.get(refused.headers["Location"]))
    post(client, url, {"reason": "Выдан по ошибке"}, token_from="/admin/certificates")
    twice = post(client, url, {"reason": "Ещё раз"}, token_from="/admin/certificates")
    assert "Этот сертификат уже отозван." in page_text(client.get(twice.headers["Location"]))
    db.session.refresh(certificate)
    assert certificate.revocation_reason == "Выдан по ошибке"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).filter_by(action="certificate.revoke")) == 1


def test_only_admins_issue_and_revoke(app, people):
    make_eligible(people)
    certificate, _created = issue_certificate(people.trainee, people.course, people.admin)
    db.session.commit()
    for user in (people.trainee, people.mentor):
        client = app.test_client()
        login(client, user)
        assert post(client, f"/admin/certificates/{certificate.id}/revoke", {"reason": "x"},
                    token_from="/").status_code == 403
        assert post(client, "/admin/certificates/issue", {"trainee": people.trainee.id, "course": people.course.id},
                    token_from="/").status_code == 403
    db.session.refresh(certificate)
    assert certificate.is_valid


# --- public verification ----------------------------------------------------------------------

@pytest.fixture
def certificate(people):
    make_eligible(people)
    certificate, _created = issue_certificate(people.trainee, people.course, people.admin)
    db.session.commit()
    return certificate


def test_verify_page_valid_revoked_unknown(client, people, certificate):
    response = client.get(f"/verify/{certificate.code}")
    text = page_text(response)
    assert response.status_code == 200 and "Сертификат действителен" in text
    assert "Анна Соседова" in text and "Тестовый курс" in text and "10,5 ч" in text
    assert people.trainee.email not in text
    assert 'content="noindex, nofollow"' in response.get_data(as_text=True)
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    short = certificate.short_code.lower().replace("-", "")
    assert "Сертификат действителен" in page_text(client.get(f"/verify/{short}"))
    revoke_certificate(certificate, people.admin, "Выдан по ошибке")
    db.session.commit()
    text = page_text(client.get(f"/verify/{certificate.code}"))
    assert "Сертификат отозван" in text and "Выдан по ошибке" in text
    for code in ("nope", "A" * 200, "<script>", "AAAA-BBBB-CCC?", certificate.code[:-1]):
        unknown = client.get(f"/verify/{code}")
        assert unknown.status_code == 404 and "Неизвестный код" in page_text(unknown)


def test_verify_form_redirects_to_the_code(client, certificate):
    response = client.get(f"/verify?code={certificate.short_code}")
    assert response.headers["Location"] == f"/verify/{certificate.short_code}"
    assert "Код, напечатанный на сертификате" in page_text(client.get("/verify"))


def test_guessing_codes_is_rate_limited(client, certificate):
    for i in range(60):
        assert client.get(f"/verify/guess{i}").status_code == 404
    assert client.get(f"/verify/{certificate.code}").status_code == 429


def test_pdf_has_name_course_code_and_a_qr_code_to_the_verify_page(app, client, people, certificate, tmp_path):
    app.config.update(LMS_SIGNATORY_NAME="Мария Руководитель", LMS_SIGNATORY_TITLE="Руководитель программы")
    response = client.get(f"/verify/{certificate.code}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    page = reader.pages[0]
    assert page.mediabox.width > page.mediabox.height  # landscape
    text = page.extract_text()
    for expected in ("Анна Соседова", "Тестовый курс", certificate.short_code, "10,5 ч", "Мария Руководитель",
                     "Руководитель программы", "ШКОЛА МЕНЕДЖЕРОВ СОСЕДСКИХ СООБЩЕСТВ"):
        assert expected in text, expected
    appendix = reader.pages[1].extract_text()
    for expected in ("Изученные модули", "1. Введение", "2. Мероприятия", "3. Партнёрства", "Всего"):
        assert expected in appendix, expected
    fonts = [font.get_object()["/BaseFont"] for font in page["/Resources"]["/Font"].values()]
    assert all("DejaVu" in name for name in fonts)
    for tool in ("zbarimg", "pdftoppm"):
        if shutil.which(tool) is None:
            if os.environ.get("CI") == "true":
                pytest.fail(f"{tool} is missing: .ci/run must install Debian's zbar-tools and poppler-utils")
            pytest.skip(f"{tool} is not installed (apt-get install zbar-tools poppler-utils)")
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(response.data)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True)
    (rendered,) = tmp_path.glob("page*.png")
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(rendered)], capture_output=True, text=True).stdout.strip()
    assert decoded == f"http://localhost/verify/{certificate.code}"


def test_revoked_pdf_is_marked(client, people, certificate):
    revoke_certificate(certificate, people.admin, "Ошибка")
    db.session.commit()
    text = PdfReader(io.BytesIO(client.get(f"/verify/{certificate.code}.pdf").data)).pages[0].extract_text()
    assert "ОТОЗВАН" in text


def test_unknown_pdf_and_jwt_are_404(client, certificate):
    assert client.get("/verify/nope.pdf").status_code == 404
    assert client.get("/verify/nope.jwt").status_code == 404


# --- Open Badges 3.0 --------------------------------------------------------------------------

def public_key(client):
    jwks = client.get("/issuer/jwks").get_json()
    return jwt.PyJWKSet.from_dict(jwks).keys[0].key


def verify_token(token, key):
    return jwt.decode(token, key, algorithms=["RS256"], options={"require": ["iss", "sub", "nbf", "jti"]})


def test_credential_verifies_with_the_published_key(client, certificate):
    token = client.get(f"/verify/{certificate.code}.jwt").get_data(as_text=True)
    claims = verify_token(token, public_key(client))
    vc = claims["vc"]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json" in vc["@context"]
    assert claims["iss"] == vc["issuer"]["id"] == "http://localhost/issuer"
    assert "Profile" in vc["issuer"]["type"]
    assert claims["sub"] == vc["credentialSubject"]["id"]
    assert claims["jti"] == vc["id"] == f"http://localhost/verify/{certificate.code}"
    assert claims["nbf"] == int(certificate.issued_at.timestamp()) or vc["validFrom"].startswith(
        certificate.issued_at.date().isoformat())
    subject = vc["credentialSubject"]
    assert "AchievementSubject" in subject["type"]
    achievement = subject["achievement"]
    for required in ("id", "type", "name", "description", "criteria"):
        assert achievement[required], required
    assert "Achievement" in achievement["type"] and achievement["criteria"]["narrative"]
    assert {a["targetName"] for a in achievement["alignment"]} >= {"Объяснить, зачем нужен соседский центр"}
    assert vc["name"] == "Тестовый курс" and vc["validFrom"].endswith("Z")
    profile = client.get("/issuer").get_json()
    assert profile["id"] == claims["iss"] and "Profile" in profile["type"]


def test_tampered_token_and_wrong_key_fail(client, certificate):
    token = client.get(f"/verify/{certificate.code}.jwt").get_data(as_text=True)
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["vc"]["name"] = "Подделка"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(jwt.InvalidSignatureError):
        verify_token(f"{header}.{forged_payload}.{signature}", public_key(client))
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    with pytest.raises(jwt.InvalidSignatureError):
        verify_token(token, stranger)


def status_bit(client, index):
    claims = verify_token(client.get("/status/revocation").get_data(as_text=True), public_key(client))
    subject = claims["vc"]["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    encoded = subject["encodedList"][1:]  # multibase "u": base64url without padding
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    assert len(bits) * 8 >= 131072
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def test_revocation_is_visible_to_a_verifier(client, people, certificate):
    token = client.get(f"/verify/{certificate.code}.jwt").get_data(as_text=True)
    status = verify_token(token, public_key(client))["vc"]["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusListCredential"].endswith("/status/revocation")
    index = int(status["statusListIndex"])
    assert status_bit(client, index) is False
    revoke_certificate(certificate, people.admin, "Ошибка")
    db.session.commit()
    assert status_bit(client, index) is True


def test_trainee_sees_certificates_on_the_dashboard(client, people, certificate):
    login(client, people.trainee)
    text = page_text(client.get("/"))
    assert "Мои сертификаты" in text and certificate.short_code in text and "Действителен" in text


def test_portfolio_zip_has_the_whole_record(client, people, certificate):
    login(client, people.trainee)
    response = client.get("/portfolio.zip")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert {"practice-log.csv", "practice-log.html", "submissions.html"} <= set(names)
    stem = f"certificates/{certificate.short_code}"
    assert f"{stem}.pdf" in names and f"{stem}.jwt" in names
    log = archive.read("practice-log.html").decode()
    assert "Итоги" in log and "Мастерская или занятие" in log
    assert "Хорошо" in archive.read("submissions.html").decode()
    claims = verify_token(archive.read(f"certificates/{certificate.short_code}.jwt").decode(), public_key(client))
    assert claims["vc"]["name"] == "Тестовый курс"
