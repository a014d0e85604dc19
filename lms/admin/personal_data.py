"""Personal data (152-FZ and GDPR alike): everything stored about one person, and anonymising a leaver.

Anonymising replaces name, e-mail and free text but keeps grades, hours and the frozen records of
issued certificates, so certificates stay verifiable and programme figures stay true.
"""
import io
import json
import zipfile

from sqlalchemy import or_, select, update

from lms.audit import AuditEvent, record_event
from lms.auth.services import end_sessions
from lms.certificates.models import Certificate
from lms.discussions.models import DiscussionPost, WorkComment
from lms.extensions import db
from lms.grading.models import Submission, SubmissionFile
from lms.learning.models import Enrolment, ModuleProgress
from lms.notifications.models import Notification, OutgoingEmail
from lms.notifications.services import drop_pending_email
from lms.practice.models import PracticeAttachment, PracticeEntry

REMOVED = "[удалено]"


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _row(obj, columns):
    return {name: _plain(getattr(obj, name)) for name in columns}


def export_personal_data(user, actor):
    """A ZIP with data.json and every file the person uploaded."""
    submissions = db.session.scalars(select(Submission).where(Submission.trainee_id == user.id)).all()
    entries = db.session.scalars(select(PracticeEntry).where(PracticeEntry.trainee_id == user.id)).all()
    data = {
        "user": _row(user, ("id", "email", "name", "active", "locale", "created_at", "last_login_at")),
        "roles": sorted(user.roles),
        "enrolments": [_row(e, ("cohort_id", "enrolled_at")) for e in db.session.scalars(
            select(Enrolment).where(Enrolment.trainee_id == user.id))],
        "modules_read": [_row(p, ("module_id", "completed_at")) for p in db.session.scalars(
            select(ModuleProgress).where(ModuleProgress.trainee_id == user.id))],
        "submissions": [_row(s, ("id", "assignment_id", "attempt", "status", "answer_markdown", "quiz_answers",
                                 "score", "rubric_scores", "feedback_markdown", "submitted_at", "graded_at"))
                        | {"files": [f.filename for f in s.files]} for s in submissions],
        "practice_entries": [_row(e, ("id", "cohort_id", "site_id", "date", "start_time", "end_time", "minutes",
                                      "activity_type", "participants", "description_markdown",
                                      "reflection_markdown", "status", "mentor_comment_markdown"))
                             | {"audiences": {a.audience: a.participants for a in e.audiences},
                                "files": [a.filename for a in e.attachments]} for e in entries],
        "certificates": [_row(c, ("short_code", "course_title", "trainee_name", "practice_hours", "issued_on",
                                  "revoked_at", "revocation_reason")) for c in db.session.scalars(
            select(Certificate).where(Certificate.trainee_id == user.id))],
        "comments": [_row(c, ("submission_id", "entry_id", "body_markdown", "created_at", "edited_at"))
                     for c in db.session.scalars(select(WorkComment).where(WorkComment.author_id == user.id))],
        "discussion_posts": [_row(p, ("thread_id", "body_markdown", "created_at", "edited_at", "deleted_at",
                                      "hidden_reason"))
                             for p in db.session.scalars(select(DiscussionPost).where(
                                 DiscussionPost.author_id == user.id))],
        "audit_events": [_row(a, ("at", "action", "object_type", "object_id", "details")) for a in db.session.scalars(
            select(AuditEvent).where(or_(AuditEvent.actor_id == user.id, (AuditEvent.object_type == "users")
                                         & (AuditEvent.object_id == str(user.id))))
            .order_by(AuditEvent.id))],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2, default=str))
        for submission in submissions:
            for upload in submission.files:
                archive.writestr(f"files/submission-{submission.id}/{upload.id}-{upload.filename}", upload.data)
        for entry in entries:
            for attachment in entry.attachments:
                archive.writestr(f"files/practice-{entry.id}/{attachment.id}-{attachment.filename}", attachment.data)
    record_event(actor, "user.export_personal_data", user)
    return buffer.getvalue()


def anonymise_user(user, actor):
    """Replace who the person is and what they wrote; keep scores, hours and issued certificates."""
    if user.id == actor.id:
        raise ValueError("administrators cannot anonymise themselves")
    user.name = f"Удалённый пользователь {user.id}"
    user.email = f"deleted-{user.id}@anonymised.invalid"
    user.password_hash = None
    user.active = False
    user.locale = None
    end_sessions(user)
    drop_pending_email(user)
    db.session.execute(update(OutgoingEmail).where(OutgoingEmail.user_id == user.id).values(
        to_address=user.email, subject=REMOVED, text_body=REMOVED, html_body=None))
    db.session.execute(Notification.__table__.delete().where(Notification.user_id == user.id))
    user.unread_notifications = 0
    db.session.execute(update(Submission).where(Submission.trainee_id == user.id).values(
        answer_markdown=REMOVED, answer_html=f"<p>{REMOVED}</p>").execution_options(synchronize_session=False))
    db.session.execute(update(PracticeEntry).where(PracticeEntry.trainee_id == user.id).values(
        description_markdown=REMOVED, description_html=f"<p>{REMOVED}</p>", reflection_markdown=REMOVED,
        reflection_html=f"<p>{REMOVED}</p>").execution_options(synchronize_session=False))
    db.session.execute(SubmissionFile.__table__.delete().where(SubmissionFile.submission_id.in_(
        select(Submission.id).where(Submission.trainee_id == user.id))))
    db.session.execute(PracticeAttachment.__table__.delete().where(PracticeAttachment.entry_id.in_(
        select(PracticeEntry.id).where(PracticeEntry.trainee_id == user.id))))
    record_event(actor, "user.anonymise", user)
    db.session.flush()
