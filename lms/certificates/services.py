"""Issuing and revoking certificates. Services add and flush; the caller commits once."""
import hashlib
import secrets
import uuid

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from lms.audit import record_event
from lms.certificates.eligibility import compute_eligibility, practice_by_activity
from lms.certificates.models import Certificate
from lms.clock import local_today, utcnow
from lms.extensions import db
from lms.learning.models import Cohort, Enrolment
from lms.notifications.services import notify, path_for

STATUS_LIST_SIZE = 131_072  # the W3C minimum, so that one credential's bit says nothing about who it is
MAX_REASON = 2000  # shown on the public verify page and in the audit log

SHORT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read aloud and type


class CertificateError(ValueError):
    """An issue or revoke that cannot be done; str() is the message for the administrator."""


def new_codes():
    """A code with 256 bits of randomness for links, and a short form of 12 characters for people."""
    short = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(12))
    return secrets.token_urlsafe(32), f"{short[:4]}-{short[4:8]}-{short[8:]}"


def normalize_short_code(value):
    value = "".join(ch for ch in (value or "").upper() if ch.isalnum())
    return f"{value[:4]}-{value[4:8]}-{value[8:]}" if len(value) == 12 else None


def find_certificate(code):
    """By the long code or the short one; None for anything unknown or malformed."""
    if not code or len(code) > 64:
        return None
    short = normalize_short_code(code)
    condition = Certificate.code == code if short is None else Certificate.short_code == short
    return db.session.scalar(select(Certificate).where(condition))


def certificates_of(trainee):
    return db.session.scalars(select(Certificate).where(Certificate.trainee_id == trainee.id)
                              .order_by(Certificate.issued_at.desc())).all()


def valid_certificate(trainee, course):
    return db.session.scalar(select(Certificate).where(
        Certificate.trainee_id == trainee.id, Certificate.course_id == course.id, Certificate.revoked_at.is_(None)))


def issue_certificate(trainee, course, actor, override_reason=None, eligibility=None):
    """Issue (or return the already valid) certificate; returns (certificate, created)."""
    cohort = db.session.scalar(select(Cohort).join(Enrolment).where(
        Enrolment.trainee_id == trainee.id, Cohort.course_id == course.id))
    if cohort is None:
        raise CertificateError(_l("%(name)s is not a trainee of this course.", name=trainee.name))
    existing = valid_certificate(trainee, course)
    if existing is not None:
        return existing, False
    eligibility = eligibility or compute_eligibility(course, [trainee.id])[trainee.id]
    override_reason = (override_reason or "").strip() or None
    if len(override_reason or "") > MAX_REASON:
        raise CertificateError(_l("The reason is too long (at most %(n)d characters).", n=MAX_REASON))
    if not eligibility.eligible and not override_reason:
        raise CertificateError(_l("%(name)s is not eligible yet; to issue anyway, give a written reason.",
                                  name=trainee.name))
    code, short_code = new_codes()
    if trainee.credential_subject is None:
        trainee.credential_subject = f"urn:uuid:{uuid.uuid4()}"
    salt = secrets.token_hex(16)
    certificate = Certificate(code=code, short_code=short_code, trainee_id=trainee.id, course_id=course.id,
                              cohort_id=cohort.id, trainee_name=trainee.name, course_title=course.title,
                              practice_hours=eligibility.approved_hours, issued_on=local_today(),
                              issued_at=utcnow().replace(microsecond=0),
                              issuer_name=current_app.config["LMS_ISSUER_NAME"],
                              issued_by_id=actor.id if actor else None, override_reason=override_reason,
                              status_index=_unused_status_index(), subject_id=trainee.credential_subject,
                              identity_salt=salt, email_hash=identity_hash(trainee.email, salt),
                              modules=[module.title for module in course.modules],
                              practice_by_activity=practice_by_activity(course, trainee.id))
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:
        # Someone issued the same certificate a moment ago: the unique index kept it to one.
        existing = valid_certificate(trainee, course)
        if existing is None:
            raise
        return existing, False
    record_event(actor, "certificate.issue", certificate, trainee_id=trainee.id, course=course.slug,
                 override_reason=override_reason)
    notify(trainee, "certificate_issued", path_for("certificates.my_certificates"), actor=actor, title=course.title)
    return certificate, True


def identity_hash(value, salt):
    """An Open Badges hashed identifier: "sha256$" and the hex digest of the value followed by the salt."""
    return "sha256$" + hashlib.sha256(f"{value}{salt}".encode()).hexdigest()


def _unused_status_index():
    """A random place in the revocation list that no certificate has."""
    while True:
        index = secrets.randbelow(STATUS_LIST_SIZE)
        if db.session.scalar(select(Certificate.id).where(Certificate.status_index == index)) is None:
            return index


def set_name_shown(certificate, shown):
    """The holder's choice: the credential names them, or carries only hashed identifiers."""
    certificate.show_name = bool(shown)
    record_event(certificate.trainee, "certificate.name_shown" if shown else "certificate.name_hidden", certificate)
    db.session.flush()


def issue_certificates_for_cohort(cohort, actor, progress=None):
    """Issue to every eligible trainee of cohort who has none yet; returns the new certificates."""
    trainees = db.session.scalars(select(Enrolment).options(selectinload(Enrolment.trainee))
                                  .where(Enrolment.cohort_id == cohort.id)).all()
    eligibility = compute_eligibility(cohort.course, [e.trainee_id for e in trainees])
    issued = []
    candidates = [e.trainee for e in trainees if eligibility[e.trainee_id].eligible]
    for number, trainee in enumerate(candidates, 1):
        certificate, created = issue_certificate(trainee, cohort.course, actor,
                                                 eligibility=eligibility[trainee.id])
        if created:
            issued.append(certificate)
        if progress:
            progress(number, len(candidates))
    return issued


def revoke_certificate(certificate, actor, reason):
    """Revoke with a reason that the public verify page shows; the record itself stays."""
    reason = (reason or "").strip()
    if certificate.revoked_at is not None:
        raise CertificateError(_l("This certificate is already revoked."))
    if not reason:
        raise CertificateError(_l("Give the reason for revoking; it is shown on the public verify page."))
    if len(reason) > MAX_REASON:
        raise CertificateError(_l("The reason is too long (at most %(n)d characters).", n=MAX_REASON))
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = actor.id
    certificate.revocation_reason = reason
    record_event(actor, "certificate.revoke", certificate, reason=reason)
    db.session.flush()
    notify(certificate.trainee, "certificate_revoked", path_for("certificates.my_certificates"), actor=actor,
           title=certificate.course_title)
