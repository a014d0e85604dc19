"""Reading numbers, dates and times that visitors type or put in URLs, within what the database holds.

An id above 2^63 in a path, or a date in the year 1, used to reach the database or date arithmetic and end as
an error page. Everything read here is either a value the application can use or a refusal: a 404 for a path,
None (the caller's message) for a form field or query parameter.
"""
from datetime import date, time

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, iter_multi_items
from werkzeug.routing import IntegerConverter, UnicodeConverter

MAX_ID = 2**31 - 1  # ids are INTEGER columns: 32 bits on PostgreSQL
# Dates a programme can mean: a typo like 0202 or 20255 is refused with a message, not stored.
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2099, 12, 31)


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a number no id column can hold does not match, so it is a 404."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class TextConverter(UnicodeConverter):
    """A path segment without a NUL character: no slug, code or token has one, and PostgreSQL refuses to compare
    text holding one (an error page). Such a path does not match: a 404."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\x00]")


class _WithoutNul(ImmutableMultiDict):
    def __init__(self, mapping=None):
        super().__init__([(_without_nul(key), _without_nul(value)) for key, value in iter_multi_items(mapping or ())])


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class LmsRequest(Request):
    """Query parameters and form fields arrive without NUL characters, for the same reason as TextConverter: no
    text a person types has one (a paste from a PDF may), and every query and write would otherwise need to
    check."""

    parameter_storage_class = _WithoutNul


def whole_number(value):
    """A whole number an INTEGER column holds; ValueError otherwise (`request.args.get(name, type=whole_number)`
    then gives the default, and `getlist` skips it)."""
    text = str(value).strip()
    if not text.isascii() or len(text) > 11:  # int() reads other scripts' digits, and takes time over long ones
        raise ValueError(value)
    number = int(text)
    if not -MAX_ID <= number <= MAX_ID:
        raise ValueError(value)
    return number


def parse_date(value):
    """A YYYY-MM-DD date from FIRST_DATE to LAST_DATE, or None."""
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return day if FIRST_DATE <= day <= LAST_DATE else None


def parse_time(value):
    """A time of day as a form's time field sends it (HH:MM, or HH:MM:SS), or None. Offsets and fractions are
    refused: a time with an offset cannot be compared with the naive times an entry keeps."""
    text = (value or "").strip()
    if len(text) not in (5, 8):
        return None
    try:
        moment = time.fromisoformat(text)
    except ValueError:
        return None
    return moment


def parse_whole_number(value):
    """whole_number(value), or None."""
    try:
        return whole_number(value)
    except ValueError:
        return None


def too_long(value, column):
    """Whether a text is longer than its String column holds: PostgreSQL refuses it with an error, SQLite stores
    it whole, so every service checks first and says so."""
    return len(value or "") > column.type.length


def search_term(value, column):
    """A search term, trimmed and cut to what the column holds: nothing longer can match, and SQLite refuses a LIKE
    pattern over 50,000 characters."""
    return (value or "").strip()[:column.type.length]


class InvalidFields(ValueError):
    """Field-by-field problems of a form a service refused: {field name: message}; nothing was saved."""

    def __init__(self, errors):
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors
