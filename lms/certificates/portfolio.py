"""A trainee's whole record as one ZIP to take to an employer: practice log, submissions with
feedback, certificates (PDF and Open Badges credential)."""
import io
import re
import zipfile

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer

from lms.certificates.credentials import credential_jwt, verify_url
from lms.certificates.pdf import certificate_pdf
from lms.certificates.services import certificates_of
from lms.extensions import db
from lms.grading.models import Submission, SubmissionFile
from lms.practice.export import entries_for_export, practice_log_csv
from lms.practice.models import PracticeAttachment, PracticeEntry


def _safe(name):
    return re.sub(r"[^\w.-]+", "_", name, flags=re.UNICODE).strip("_") or "file"


def build_portfolio(trainee):
    entries = entries_for_export(PracticeEntry.trainee_id == trainee.id)
    # Files come with their contents: one query for all of them, not one per file.
    submissions = db.session.scalars(select(Submission).options(
        selectinload(Submission.files).options(undefer(SubmissionFile.data)), selectinload(Submission.assignment),
        selectinload(Submission.graded_by))
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
        entry_by_id = {entry.id: entry for entry in entries}
        attachments = db.session.scalars(select(PracticeAttachment).options(undefer(PracticeAttachment.data))
                                         .where(PracticeAttachment.entry_id.in_(entry_by_id))
                                         .order_by(PracticeAttachment.id)) if entries else []
        for attachment in attachments:
            entry = entry_by_id[attachment.entry_id]
            archive.writestr(f"files/practice/{entry.date.isoformat()}-{entry.id}/{_safe(attachment.filename)}",
                             attachment.data)
        for certificate in certificates:
            name = f"certificates/{certificate.short_code}"
            archive.writestr(f"{name}.pdf", certificate_pdf(certificate, verify_url(certificate)))
            archive.writestr(f"{name}.jwt", credential_jwt(certificate))
    return buffer.getvalue()
