"""Keeping and reviewing the field-practice log. Services add and flush; the caller commits."""
from __future__ import annotations

import calendar
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import and_, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from lms.audit import record_event
from lms.auth.models import User
from lms.clock import local_today, utcnow
from lms.extensions import db
from lms.notifications.services import notify, path_for
from lms.practice.activities import ACTIVITY_TYPES, AUDIENCES
from lms.practice.models import (
    PracticeAttachment,
    PracticeEntry,
    PracticeEntryAudience,
    SiteConfirmation,
)
from lms.practice.totals import add_approved_practice, remove_approved_practice
from lms.rendering import render_markdown
from lms.uploads import MAX_FILES

MAX_MINUTES = 12 * 60
MAX_PARTICIPANTS = 10_000
MAX_TEXT = 20_000
CONFIRMATION_MAX_AGE = 14 * 24 * 3600
CONFIRMABLE = ("submitted", "returned")  # what a site can still confirm: not a draft, not yet approved


class PracticeError(ValueError):
    """Something about an entry that cannot be done; str() is the message for the user."""


class EntryInvalid(PracticeError):
    """Field-by-field problems of an entry: {field name: message}."""

    def __init__(self, errors):
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors


class ReviewConflict(PracticeError):
    """Someone reviewed the entry since the page was opened."""


@dataclass
class EntryData:
    """What the trainee typed, already parsed into Python values (None where missing or unreadable)."""

    cohort: object = None
    site: object = None
    date: date | None = None
    start_time: time | None = None
    end_time: time | None = None
    duration_minutes: int | None = None
    activity_type: str = ""
    audiences: dict = field(default_factory=dict)  # code -> participants
    modules: list = field(default_factory=list)
    description: str = ""
    reflection: str = ""
    unreadable: set = field(default_factory=set)  # fields that were filled in but could not be read


def _minutes_between(start, end):
    return (datetime.combine(date.min, end) - datetime.combine(date.min, start)).seconds // 60


def _validate(trainee, data, entry, submit, new_files):
    errors = {}
    cohort = data.cohort
    if cohort is None:
        errors["cohort"] = _l("Choose your cohort.")
    if data.site is None:
        errors["site"] = _l("Choose where the practice took place.")
    elif not data.site.active and (entry is None or entry.site_id != data.site.id):
        errors["site"] = _l("This site no longer takes trainees; choose another.")
    if data.date is None:
        errors["date"] = _l("Enter the date as YYYY-MM-DD.")
    elif data.date > local_today():
        errors["date"] = _l("The date cannot be in the future.")
    elif cohort is not None and ((cohort.starts_on and data.date < cohort.starts_on)
                                 or (cohort.ends_on and data.date > cohort.ends_on)):
        errors["date"] = _l("The date must fall within your cohort's dates.")

    minutes = None
    unreadable_times = {"start_time", "end_time"} & data.unreadable
    if unreadable_times or "duration" in data.unreadable:
        for name in unreadable_times:
            errors[name] = _l("Enter the time as HH:MM, for example 10:30.")
        if "duration" in data.unreadable:
            errors["duration"] = _l("Enter the duration in whole minutes, at most 12 hours (720).")
    elif data.start_time and data.end_time:
        if data.end_time <= data.start_time:
            errors["end_time"] = _l("The end must be after the start.")
        else:
            minutes = _minutes_between(data.start_time, data.end_time)
    elif data.start_time or data.end_time:
        errors["end_time"] = _l("Give both the start and the end, or only the duration.")
    elif data.duration_minutes is not None and data.duration_minutes > 0:
        minutes = data.duration_minutes
    else:
        errors["duration"] = _l("Give the start and end time, or the duration in minutes.")
    if minutes is not None and minutes > MAX_MINUTES:
        errors["end_time" if data.start_time else "duration"] = _l("One entry can cover at most 12 hours.")

    if data.activity_type not in ACTIVITY_TYPES:
        errors["activity_type"] = _l("Choose the kind of activity.")
    for code, count in data.audiences.items():
        if code not in AUDIENCES:
            errors["audiences"] = _l("Unknown audience.")
        elif count is None or count < 0 or count > MAX_PARTICIPANTS:
            errors["audiences"] = _l("Participants must be a whole number from 0 to 10,000.")
    if cohort is not None and any(m.course_id != cohort.course_id for m in data.modules):
        errors["modules"] = _l("Choose modules of your course.")
    if len(data.description) > MAX_TEXT or len(data.reflection) > MAX_TEXT:
        errors["reflection"] = _l("The text is too long (at most 20,000 characters).")
    if submit and not data.description.strip():
        errors["description"] = _l("Describe what happened before submitting.")
    if submit and not data.reflection.strip():
        errors["reflection"] = _l("Write a reflection before submitting: what worked, what you would change.")
    existing = len(entry.attachments) if entry is not None else 0
    if existing + len(new_files) > MAX_FILES:
        errors["files"] = _l("At most %(n)d photos or documents per entry.", n=MAX_FILES)

    if not errors and data.start_time and data.end_time and _overlaps(trainee, data, entry):
        errors["start_time"] = _l("This time overlaps another entry of yours on the same day.")
    if errors:
        raise EntryInvalid(errors)
    return minutes


def _overlaps(trainee, data, entry):
    _lock_trainee(trainee)
    query = select(PracticeEntry.id).where(
        PracticeEntry.trainee_id == trainee.id, PracticeEntry.date == data.date,
        PracticeEntry.start_time.is_not(None),
        and_(PracticeEntry.start_time < data.end_time, PracticeEntry.end_time > data.start_time))
    if entry is not None and entry.id is not None:
        query = query.where(PracticeEntry.id != entry.id)
    return db.session.scalar(query.limit(1)) is not None


def _lock_trainee(trainee):
    """Hold the trainee's row until the transaction ends, so that two entries saved at the same moment are checked
    one after the other: the second sees the first and is refused. A write that changes nothing: on PostgreSQL a
    row lock (FOR NO KEY UPDATE, so it blocks no foreign-key check); on SQLite the database's write lock, taken
    before the overlap check reads."""
    db.session.execute(update(User).where(User.id == trainee.id)
                       .values(session_version=User.session_version))


def practice_entry_for_key(trainee, key):
    """The entry a phone already sent with this idempotency key, or None. Another trainee's key is refused, so a key
    never shows anyone else's entry."""
    entry = db.session.scalar(select(PracticeEntry).where(PracticeEntry.idempotency_key == key))
    if entry is not None and entry.trainee_id != trainee.id:
        raise PracticeError(_l("This entry cannot be sent as it is: save it again as a new entry."))
    return entry


def save_practice_entry(trainee, data, entry=None, submit=False, files=(), idempotency_key=None):
    """Create or edit an entry (a draft, or one returned by the mentor); submit it when asked.

    A new entry sent from a phone's queue carries the key the phone made for it: sent again (the answer was lost),
    it returns the entry already made, unchanged, before validating (the first would overlap it)."""
    if entry is not None and not entry.editable:
        raise PracticeError(_l("This entry is approved or waiting for review; it cannot be changed now."))
    if idempotency_key:
        _lock_trainee(trainee)  # a repeat sent at the same moment waits here, then finds the entry
        existing = practice_entry_for_key(trainee, idempotency_key)
        if existing is not None:
            return existing
    minutes = _validate(trainee, data, entry, submit, files)
    if entry is None:
        entry = PracticeEntry(trainee_id=trainee.id, status="draft", idempotency_key=idempotency_key)
        db.session.add(entry)
    entry.cohort = data.cohort
    entry.site = data.site
    entry.date = data.date
    entry.start_time, entry.end_time = data.start_time, data.end_time
    entry.minutes = minutes
    entry.activity_type = data.activity_type
    entry.audiences = [PracticeEntryAudience(audience=code, participants=count)
                       for code, count in sorted(data.audiences.items())]
    entry.participants = sum(data.audiences.values())
    entry.modules = list(data.modules)
    entry.description_markdown = data.description.strip()
    entry.description_html = render_markdown(entry.description_markdown)
    entry.reflection_markdown = data.reflection.strip()
    entry.reflection_html = render_markdown(entry.reflection_markdown)
    for checked in files:
        entry.attachments.append(PracticeAttachment.from_checked(checked))
    if submit:
        entry.status = "submitted"
        entry.submitted_at = utcnow()
    db.session.flush()
    if submit:
        for mentor in entry.cohort.mentors:
            notify(mentor, "practice_submitted", _entry_path(entry), actor=trainee, trainee=trainee.name,
                   date=entry.date.isoformat())
    return entry


def _entry_path(entry):
    return path_for("practice.entry_page", entry_id=entry.id)


def _tell_trainee(entry, kind, actor):
    notify(entry.trainee, kind, _entry_path(entry), actor=actor, date=entry.date.isoformat())


def withdraw_practice_entry(entry, trainee):
    """Take a submitted entry back as a draft before any mentor has opened it (audited). Open confirmation links
    stop working: the site would confirm what is about to change."""
    if entry.trainee_id != trainee.id:
        raise PracticeError(_l("Only the author can withdraw this entry."))
    if entry.status != "submitted":
        raise PracticeError(_l("Only entries waiting for a mentor can be withdrawn."))
    if entry.review_opened_at is not None:
        raise PracticeError(_l("A mentor has already opened this entry for review; it can no longer be withdrawn."))
    if any(c.answered_at for c in entry.confirmations):
        raise PracticeError(_l("The site has already answered about this entry; it can no longer be withdrawn."))
    handed_in = entry.submitted_at
    # One conditional UPDATE, so that a mentor opening the entry at this moment wins cleanly.
    withdrawn = db.session.execute(
        update(PracticeEntry).where(PracticeEntry.id == entry.id, PracticeEntry.status == "submitted",
                                    PracticeEntry.review_opened_at.is_(None))
        .values(status="draft", submitted_at=None, version=PracticeEntry.version + 1)
        .execution_options(synchronize_session=False)).rowcount
    if withdrawn != 1:
        raise PracticeError(_l("A mentor has already opened this entry for review; it can no longer be withdrawn."))
    db.session.expire(entry, ["status", "submitted_at", "version"])
    for confirmation in list(entry.confirmations):
        entry.confirmations.remove(confirmation)
    record_event(trainee, "practice.withdraw", entry, trainee_id=trainee.id, minutes=entry.minutes,
                 submitted_at=handed_in.isoformat() if handed_in else None)
    db.session.flush()
    return entry


def mark_entry_review_opened(entries, mentor):
    """The first time a mentor opens submitted entries: from now on the trainee cannot withdraw them. Not a
    versioned change (the review form's version stays what the mentor sees)."""
    fresh = [e for e in entries if e.status == "submitted" and e.review_opened_at is None
             and e.trainee_id != mentor.id]
    if not fresh:
        return False
    now = utcnow()
    db.session.execute(update(PracticeEntry).where(PracticeEntry.id.in_([e.id for e in fresh]),
                                                   PracticeEntry.review_opened_at.is_(None))
                       .values(review_opened_at=now).execution_options(synchronize_session=False))
    for entry in fresh:
        set_committed_value(entry, "review_opened_at", now)
    return True


def delete_practice_draft(entry):
    if entry.status != "draft":
        raise PracticeError(_l("Only drafts can be deleted."))
    db.session.delete(entry)
    db.session.flush()


def review_practice_entry(entry, mentor, decision, comment, expected_version):
    """Approve a submitted entry, or return it with a comment saying what to fix."""
    _review(entry, mentor, decision, comment, expected_version)
    if entry.status == "approved":
        add_approved_practice([entry])
    return entry


def _review(entry, mentor, decision, comment, expected_version):
    if entry.version != expected_version:
        raise ReviewConflict(_l("Someone else reviewed this entry while you were looking at it."))
    if entry.status != "submitted":
        raise PracticeError(_l("Only submitted entries can be reviewed."))
    comment = (comment or "").strip()
    if decision == "return" and not comment:
        raise PracticeError(_l("Say what to fix: write a comment when returning an entry."))
    if len(comment) > MAX_TEXT:
        raise PracticeError(_l("The text is too long (at most 20,000 characters)."))
    if decision not in ("approve", "return"):
        raise PracticeError(_l("Choose approve or return."))
    entry.status = "approved" if decision == "approve" else "returned"
    entry.mentor_comment_markdown = comment
    entry.mentor_comment_html = render_markdown(comment)
    entry.reviewed_at = utcnow()
    entry.reviewed_by_id = mentor.id
    record_event(mentor, f"practice.{decision}", entry, trainee_id=entry.trainee_id, minutes=entry.minutes)
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise ReviewConflict(_l("Someone else reviewed this entry while you were looking at it.")) from None
    _tell_trainee(entry, f"practice_{entry.status}", mentor)


def approve_practice_entries(entries, mentor):
    """Approve several submitted entries at once (the page showed each of them in full)."""
    for entry in entries:
        if entry.status != "submitted":
            raise PracticeError(_l("Only submitted entries can be reviewed."))
    for entry in entries:
        _review(entry, mentor, "approve", "", entry.version)
    add_approved_practice(entries)
    return entries


def reopen_practice_entry(entry, mentor, reason):
    """Send an approved entry back to the trainee; its hours stop counting until approved again."""
    reason = (reason or "").strip()
    if entry.status != "approved":
        raise PracticeError(_l("Only approved entries can be reopened."))
    if not reason:
        raise PracticeError(_l("Give a reason for reopening an approved entry."))
    if len(reason) > MAX_TEXT:
        raise PracticeError(_l("The text is too long (at most 20,000 characters)."))
    entry.status = "returned"
    entry.mentor_comment_markdown = reason
    entry.mentor_comment_html = render_markdown(reason)
    entry.reviewed_at = utcnow()
    entry.reviewed_by_id = mentor.id
    record_event(mentor, "practice.reopen", entry, trainee_id=entry.trainee_id, reason=reason)
    db.session.flush()
    _tell_trainee(entry, "practice_reopened", mentor)
    remove_approved_practice([entry])


class _SignedAtCreation(TimestampSigner):
    """Signs with the time the request was made, so that its link is the same string every time it is shown."""

    def __init__(self, *args, timestamp, **kwargs):
        super().__init__(*args, **kwargs)
        self.timestamp = timestamp

    def get_timestamp(self):
        return self.timestamp


def _confirmation_serializer(timestamp=None):
    if timestamp is None:
        return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="site-confirmation")
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="site-confirmation",
                                  signer=_SignedAtCreation, signer_kwargs={"timestamp": timestamp})


def confirmation_token(confirmation):
    """The token of a confirmation request's link: the same every time, valid for 14 days from its creation."""
    created = calendar.timegm(confirmation.created_at.timetuple())
    return _confirmation_serializer(created).dumps({"c": confirmation.id, "n": confirmation.nonce})


def open_confirmations(entry, now=None):
    """The entry's confirmation requests whose links still work (unanswered, younger than 14 days)."""
    now = now or utcnow()
    return [c for c in entry.confirmations
            if c.answered_at is None and c.created_at > now - timedelta(seconds=CONFIRMATION_MAX_AGE)]


def request_site_confirmation(entry):
    """A one-time link for the site's contact person; returns (confirmation, token). While a link is still open
    it is the one returned: there is no reason for two."""
    if entry.status == "draft":
        raise PracticeError(_l("Submit the entry before asking the site to confirm it."))
    if entry.status not in CONFIRMABLE:
        raise PracticeError(_l("The mentor has already decided on this entry; the site's confirmation is no longer "
                               "needed."))
    if any(c.answered_at for c in entry.confirmations):
        raise PracticeError(_l("The site has already answered about this entry."))
    still_open = open_confirmations(entry)
    if still_open:
        return still_open[-1], confirmation_token(still_open[-1])
    confirmation = SiteConfirmation(entry=entry, nonce=secrets.token_urlsafe(16), created_at=utcnow())
    db.session.add(confirmation)
    db.session.flush()
    return confirmation, confirmation_token(confirmation)


def confirmation_for_token(token):
    """The open confirmation request a link stands for, or None if forged, expired or already answered."""
    try:
        # The age is checked against the request's creation below, on the application's clock.
        data = _confirmation_serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        return None
    confirmation = db.session.get(SiteConfirmation, data.get("c"))
    if confirmation is None or confirmation.nonce != data.get("n") or confirmation not in open_confirmations(
            confirmation.entry):
        return None
    if confirmation.entry.status not in CONFIRMABLE:  # approved or withdrawn since: nothing left to confirm
        return None
    return confirmation


def answer_site_confirmation(confirmation, decision, contact_name, comment):
    contact_name = (contact_name or "").strip()
    if decision not in ("confirmed", "declined"):
        raise PracticeError(_l("Choose confirm or decline."))
    if not contact_name:
        raise PracticeError(_l("Please give your name."))
    if len(contact_name) > 200 or len(comment or "") > 2000:
        raise PracticeError(_l("The text is too long."))
    confirmation.decision = decision
    confirmation.contact_name = contact_name
    confirmation.comment = (comment or "").strip()
    confirmation.answered_at = utcnow()
    record_event(None, f"practice.site_{decision}", confirmation.entry, contact_name=contact_name)
    db.session.flush()
    entry = confirmation.entry
    notify(entry.trainee, f"site_{decision}", _entry_path(entry), site=entry.site.name, date=entry.date.isoformat())
