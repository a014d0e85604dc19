"""The one place the application asks for the time, so tests can freeze it."""
from datetime import UTC, datetime


def utcnow():
    """Naive UTC, the form every DateTime column stores on SQLite and PostgreSQL alike."""
    return datetime.now(UTC).replace(tzinfo=None)
