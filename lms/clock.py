"""The one place the application asks for the time, so tests can freeze it."""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# The programme runs in Moscow; "today" for a trainee's log is Moscow's date.
LOCAL_TIMEZONE = ZoneInfo("Europe/Moscow")


def utcnow():
    """Naive UTC, the form every DateTime column stores on SQLite and PostgreSQL alike."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_today():
    return datetime.now(LOCAL_TIMEZONE).date()
