"""The one place the application asks for the time, so tests can freeze it.

Dates people see and type (a practice day, a report period, the digest hour) are the programme's, in
LMS_TIMEZONE (Moscow by default); the database stores naive UTC.
"""
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Europe/Moscow"


def programme_timezone():
    name = current_app.config.get("LMS_TIMEZONE", DEFAULT_TIMEZONE) if has_app_context() else DEFAULT_TIMEZONE
    return ZoneInfo(name)


def utcnow():
    """Naive UTC, the form every DateTime column stores on SQLite and PostgreSQL alike."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_today():
    return datetime.now(programme_timezone()).date()


def utc_from_local(day, at=time.min):
    """The naive UTC moment of a programme-local day and time."""
    return datetime.combine(day, at, programme_timezone()).astimezone(UTC).replace(tzinfo=None)


def utc_bounds(start, end):
    """[since, until) in naive UTC for the programme-local days start to end, both included."""
    return utc_from_local(start), utc_from_local(end + timedelta(days=1))
