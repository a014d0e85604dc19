"""Scheduling the cohort's sessions, taking attendance, setting deadlines and extensions. Services add and flush;
the caller commits."""
import secrets
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import load_only

from lms.audit import record_event
from lms.auth.models import User
from lms.clock import programme_timezone, utc_from_local, utcnow
from lms.curriculum.models import Module
from lms.extensions import db
from lms.learning.models import Enrolment
from lms.notifications.services import notify, path_for
from lms.schedule.deadlines import end_of_local_day
from lms.schedule.kinds import SESSION_KINDS
from lms.schedule.models import (
    ATTENDANCE,
    AssignmentDeadline,
    Attendance,
    CohortSession,
    DeadlineExtension,
)

REPEATS = {"none": None, "weekly": 7, "fortnightly": 14}
MAX_REPEATS = 26
MAX_NOTE = 5000


class ScheduleInvalid(ValueError):
    """Field-by-field problems: {field name: message}."""

    def __init__(self, errors):
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors


@dataclass
class SessionData:
    """What the form gave, parsed (None where missing or unreadable)."""

    kind: str = ""
    title: str = ""
    day: date | None = None
    start: time | None = None
    end: time | None = None
    site: object = None
    place: str = ""
    online_url: str = ""
    module: object = None
    note: str = ""


def _validate(cohort, data):
    errors = {}
    if data.kind not in SESSION_KINDS:
        errors["kind"] = _l("Choose the kind of session.")
    title = (data.title or "").strip()
    if not title:
        errors["title"] = _l("Give the session a title.")
    elif len(title) > CohortSession.title.type.length:
        errors["title"] = _l("The title is too long (at most %(n)d characters).", n=CohortSession.title.type.length)
    if data.day is None:
        errors["day"] = _l("Enter the date as YYYY-MM-DD.")
    elif (cohort.starts_on and data.day < cohort.starts_on) or (cohort.ends_on and data.day > cohort.ends_on):
        errors["day"] = _l("The session must fall within the cohort's dates.")
    if data.start is None:
        errors["start"] = _l("Enter the time as HH:MM, for example 10:30.")
    if data.end is None:
        errors["end"] = _l("Enter the time as HH:MM, for example 10:30.")
    elif data.start is not None and data.end <= data.start:
        errors["end"] = _l("The end must be after the start.")
    if len(data.place or "") > CohortSession.place.type.length:
        errors["place"] = _l("The place is too long (at most %(n)d characters).", n=CohortSession.place.type.length)
    url = (data.online_url or "").strip()
    if url and (not url.startswith(("https://", "http://")) or len(url) > CohortSession.online_url.type.length):
        errors["online_url"] = _l("Give the online link as a full https:// address.")
    if data.module is not None and data.module.course_id != cohort.course_id:
        errors["module"] = _l("Choose a module of the cohort's course.")
    if len(data.note or "") > MAX_NOTE:
        errors["note"] = _l("The note is too long (at most %(n)d characters).", n=MAX_NOTE)
    if errors:
        raise ScheduleInvalid(errors)
    return title


def _apply(session, data, title, day):
    session.kind, session.title = data.kind, title
    session.starts_at, session.ends_at = utc_from_local(day, data.start), utc_from_local(day, data.end)
    session.site = data.site
    session.place = (data.place or "").strip()
    session.online_url = (data.online_url or "").strip()
    session.module = data.module
    session.note = (data.note or "").strip()


def schedule_sessions(cohort, actor, data, repeat="none", count=1):
    """One session, or a weekly or fortnightly series of `count` sessions from data.day (each then editable)."""
    if repeat not in REPEATS:
        raise ScheduleInvalid({"repeat": _l("Choose how the session repeats.")})
    title = _validate(cohort, data)
    step = REPEATS[repeat]
    if step is None:
        count = 1
    elif count is None or not 2 <= count <= MAX_REPEATS:
        raise ScheduleInvalid({"count": _l("A series has 2 to %(n)d sessions.", n=MAX_REPEATS)})
    days = [data.day + timedelta(days=step * n) for n in range(count)] if step else [data.day]
    if cohort.ends_on and days[-1] > cohort.ends_on:
        raise ScheduleInvalid({"count": _l("The last session of the series falls after the cohort ends.")})
    series = uuid.uuid4().hex if step else None
    sessions = []
    for day in days:
        session = CohortSession(cohort=cohort, series=series)
        _apply(session, data, title, day)
        db.session.add(session)
        sessions.append(session)
    db.session.flush()
    record_event(actor, "session.schedule", cohort, sessions=[s.id for s in sessions], repeat=repeat)
    return sessions


@dataclass
class PlannedSession:
    """One session of the course's plan, placed in a cohort's calendar; `fits` is False when it falls after the
    cohort's end and will not be made."""

    data: SessionData
    series: int  # the plan entry it comes from: the sessions of one repeated entry form one series
    fits: bool


def plan_sessions(cohort):
    """The sessions of the course's plan (course.md `sessions`) on the cohort's dates: week 1 is the seven days
    from the cohort's start, and each session falls on its day of the week within its week."""
    if not cohort.course.session_plan:
        return []
    if cohort.starts_on is None:
        raise ScheduleInvalid({"plan": _l("Set the cohort's start date first: the plan counts weeks from it.")})
    modules = {m.slug: m for m in module_choices(cohort)}
    planned = []
    for index, entry in enumerate(cohort.course.session_plan):
        weeks = range(entry["week"], (entry["until_week"] or entry["week"]) + 1, entry["every_weeks"] or 1)
        for week in weeks:
            first = cohort.starts_on + timedelta(weeks=week - 1)
            day = first + timedelta(days=(entry["day"] - 1 - first.weekday()) % 7)
            data = SessionData(kind=entry["kind"], title=entry["title"], day=day,
                               start=time.fromisoformat(entry["start"]), end=time.fromisoformat(entry["end"]),
                               module=modules.get(entry["module"]), note=entry["note"])
            planned.append(PlannedSession(data=data, series=index,
                                          fits=cohort.ends_on is None or day <= cohort.ends_on))
    return sorted(planned, key=lambda p: (p.data.day, p.data.start))


def schedule_course_plan(cohort, actor):
    """Make the cohort's sessions from the course's plan in one go (each then editable on its own page)."""
    planned = [p for p in plan_sessions(cohort) if p.fits]
    if not planned:
        raise ScheduleInvalid({"plan": _l("No session of the course's plan falls within the cohort's dates.")})
    sizes = Counter(p.series for p in planned)
    series = {index: uuid.uuid4().hex if size > 1 else None for index, size in sizes.items()}
    sessions = []
    for item in planned:
        session = CohortSession(cohort=cohort, series=series[item.series])
        _apply(session, item.data, item.data.title, item.data.day)
        db.session.add(session)
        sessions.append(session)
    db.session.flush()
    record_event(actor, "session.schedule", cohort, sessions=[s.id for s in sessions], repeat="course plan")
    return sessions


def _tell_cohort(session, kind, actor):
    trainees = db.session.scalars(select(User).join(Enrolment, Enrolment.trainee_id == User.id)
                                  .where(Enrolment.cohort_id == session.cohort_id)).all()
    url = path_for("schedule.session_page", session_id=session.id)
    for trainee in trainees:
        notify(trainee, kind, url, actor=actor, title=session.title,
               date=session.starts_at.date().isoformat())


def update_session(session, actor, data):
    if session.cancelled_at is not None:
        raise ScheduleInvalid({"title": _l("This session is cancelled; schedule a new one instead.")})
    title = _validate(session.cohort, data)
    _apply(session, data, title, data.day)
    db.session.flush()
    record_event(actor, "session.update", session, title=title)
    _tell_cohort(session, "session_changed", actor)


def cancel_session(session, actor):
    if session.cancelled_at is not None:
        return
    session.cancelled_at = utcnow()
    db.session.flush()
    record_event(actor, "session.cancel", session, title=session.title)
    _tell_cohort(session, "session_cancelled", actor)


def record_attendance(session, actor, marks):
    """marks: {trainee id: status}. Only for a session that has begun, and only for the cohort's trainees."""
    if session.cancelled_at is not None:
        raise ScheduleInvalid({"attendance": _l("This session was cancelled.")})
    if session.starts_at > utcnow():
        raise ScheduleInvalid({"attendance": _l("Attendance can be taken once the session has begun.")})
    members = set(db.session.scalars(select(Enrolment.trainee_id).where(Enrolment.cohort_id == session.cohort_id)))
    if any(trainee_id not in members for trainee_id in marks) or any(s not in ATTENDANCE for s in marks.values()):
        raise ScheduleInvalid({"attendance": _l("Mark each trainee of the cohort present, late, absent or excused.")})
    existing = {a.trainee_id: a for a in db.session.scalars(select(Attendance).where(
        Attendance.session_id == session.id))}
    actor_id, now = actor.id, utcnow()  # read before anything is added: reading it could flush a half-made row
    for trainee_id, status in marks.items():
        row = existing.get(trainee_id) or Attendance(session_id=session.id, trainee_id=trainee_id)
        row.status, row.marked_by_id, row.marked_at = status, actor_id, now
        db.session.add(row)
    db.session.flush()
    record_event(actor, "session.attendance", session, marked=len(marks))


def set_cohort_deadline(cohort, assignment, actor, due_on, cutoff_on):
    """An administrator's due date (end of that day) and optional cut-off for the cohort; None clears them."""
    if due_on and cohort.starts_on and due_on < cohort.starts_on:
        raise ScheduleInvalid({"due": _l("The due date cannot be before the cohort starts.")})
    if cutoff_on and due_on and cutoff_on < due_on:
        raise ScheduleInvalid({"cutoff": _l("The cut-off cannot be before the due date.")})
    due_at = end_of_local_day(due_on) if due_on else None
    cutoff_at = end_of_local_day(cutoff_on) if cutoff_on else None
    row = db.session.get(AssignmentDeadline, (cohort.id, assignment.id))
    if row is None:
        db.session.add(AssignmentDeadline(cohort_id=cohort.id, assignment_id=assignment.id, due_at=due_at,
                                          cutoff_at=cutoff_at))
    else:
        row.due_at, row.cutoff_at = due_at, cutoff_at
    db.session.flush()
    record_event(actor, "deadline.set", cohort, assignment=assignment.key, due=str(due_on), cutoff=str(cutoff_on))


def grant_extension(trainee, assignment, actor, due_on, reason):
    reason = (reason or "").strip()
    errors = {}
    if due_on is None:
        errors["due"] = _l("Enter the date as YYYY-MM-DD.")
    if not reason:
        errors["reason"] = _l("Give the reason for the extension.")
    elif len(reason) > MAX_NOTE:
        errors["reason"] = _l("The reason is too long (at most %(n)d characters).", n=MAX_NOTE)
    if errors:
        raise ScheduleInvalid(errors)
    values = {"due_at": end_of_local_day(due_on), "reason": reason, "granted_by_id": actor.id}
    row = db.session.get(DeadlineExtension, (trainee.id, assignment.id))
    if row is None:
        db.session.add(DeadlineExtension(trainee_id=trainee.id, assignment_id=assignment.id, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
    db.session.flush()
    record_event(actor, "deadline.extend", assignment, trainee_id=trainee.id, due=str(due_on), reason=reason)


def renew_calendar_token(user):
    """A new secret address for the person's calendar feed; the old one stops working."""
    user.calendar_token = secrets.token_urlsafe(24)
    db.session.flush()
    return user.calendar_token


def module_choices(cohort):
    return db.session.scalars(select(Module).options(load_only(Module.id, Module.slug, Module.title, Module.position))
                              .where(Module.course_id == cohort.course_id).order_by(Module.position)).all()


def local_parts(moment):
    """(date, time) of a stored UTC moment in the programme's time zone, for filling forms again."""
    local = moment.replace(tzinfo=UTC).astimezone(programme_timezone())
    return local.date(), local.time().replace(second=0, microsecond=0)
