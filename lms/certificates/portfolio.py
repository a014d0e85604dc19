"""A trainee's whole record as one ZIP to take to an employer: practice log, submissions with
feedback, certificates (PDF and Open Badges credential)."""
import io
import re
import zipfile

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.certificates.credentials import credential_jwt, verify_url
from lms.certificates.pdf import certificate_pdf
from lms.certificates.services import certificates_of
from lms.extensions import db
from lms.grading.models import Submission
from lms.practice.export import entries_for_export, practice_log_csv
from lms.practice.models import PracticeEntry


def _safe(name):
    return re.sub(r"[^\w.-]+", "_", name, flags=re.UNICODE).strip("_") or "file"


def build_portfolio(trainee):
    entries = entries_for_export(PracticeEntry.trainee_id == trainee.id)
    submissions = db.session.scalars(select(Submission).options(
        selectinload(Submission.files), selectinload(Submission.assignment), selectinload(Submission.graded_by))
        .where(Submission.trainee_id == trainee.id, Submission.status != "draft")
        .order_by(Submission.assignment_id, Submission.attempt)).all()
    certificates = certificates_of(trainee)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("practice-log.csv", practice_log_csv(entries))
        archive.writestr("practice-log.html", render_template("certificates/portfolio_log.html", trainee=trainee,
                                                              entries=entries))
        archive.writestr("submissions.html", render_template("certificates/portfolio_submissions.html",
                                                             trainee=trainee, submissions=submissions))
        for submission in submissions:
            for upload in submission.files:
                archive.writestr(f"files/{submission.assignment.key}/attempt-{submission.attempt}/"
                                 f"{_safe(upload.filename)}", upload.data)
        for entry in entries:
            for attachment in entry.attachments:
                archive.writestr(f"files/practice/{entry.date.isoformat()}-{entry.id}/{_safe(attachment.filename)}",
                                 attachment.data)
        for certificate in certificates:
            name = f"certificates/{certificate.short_code}"
            archive.writestr(f"{name}.pdf", certificate_pdf(certificate, verify_url(certificate)))
            archive.writestr(f"{name}.jwt", credential_jwt(certificate))
    return buffer.getvalue()
