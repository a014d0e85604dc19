"""Catalogues looked up once per request instead of on every call, and dates formatted once.

Flask-Babel finds the locale and the catalogue anew for each gettext call, and Flask-WTF reads the WTForms
catalogue from disk for every form. A page makes dozens of such calls: in issue 8's profiles translation was one
of the largest costs of every page. Formatting a date takes Babel about 70 µs, and a queue page shows 25.
"""
from functools import cache, lru_cache

from babel import support
from flask import g
from flask_babel import format_date, format_datetime, get_locale, get_timezone, get_translations
from wtforms.i18n import messages_path


def page_translations():
    """The request's catalogue, kept where Flask-Babel keeps its per-request state so that its refresh() clears it."""
    state = g.get("_flask_babel")
    translations = getattr(state, "babel_translations", None)
    if translations is None:
        translations = get_translations()
        g._flask_babel.babel_translations = translations
    return translations


def install_template_gettext(jinja_env):
    jinja_env.install_gettext_callables(
        gettext=lambda message: page_translations().ugettext(message),
        ngettext=lambda singular, plural, n: page_translations().ungettext(singular, plural, n),
        newstyle=True)


def install_date_filters(jinja_env):
    """`datetimeformat` and `dateformat` as Flask-Babel has them, remembering what they have formatted."""
    jinja_env.filters.update(datetimeformat=lambda value, format=None: _format(format_datetime, value, format),
                             dateformat=lambda value, format=None: _format(format_date, value, format))


def _format(formatter, value, format):
    if value is None:  # Babel formats "now": nothing to remember
        return formatter(value, format)
    return _formatted(formatter, value, format, str(get_locale()), str(get_timezone()))


@lru_cache(maxsize=8192)
def _formatted(formatter, value, format, _locale, _timezone):
    """Keyed on the locale and time zone the formatter reads from the request, so a hit is always right."""
    return formatter(value, format)


def wtforms_translations():
    """WTForms' own messages ("This field is required.") in the request's language."""
    return _wtforms_catalogue(str(get_locale()))


@cache
def _wtforms_catalogue(locale):
    return support.Translations.load(messages_path(), [locale], domain="wtforms")
