"""Catalogues looked up once per request instead of on every call, and dates formatted once.

Flask-Babel finds the locale and the catalogue anew for each gettext call, and Flask-WTF reads the WTForms
catalogue from disk for every form. A page makes dozens of such calls: in issue 8's profiles translation was one
of the largest costs of every page. Formatting a date takes Babel about 70 µs, and a queue page shows 25.
"""
import re
from functools import cache, lru_cache

from babel import support
from flask import g
from flask_babel import format_date, format_datetime, get_locale, get_timezone, get_translations
from jinja2 import pass_context
from markupsafe import Markup, escape
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


_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_LATIN = re.compile(r"[A-Za-z]")


def content_language(text):
    """The language of a piece of course content or user data, told by its letters: "ru", "en" or None (neither)."""
    if not text:
        return None
    text = str(text)
    if _CYRILLIC.search(text):
        return "ru"
    if _LATIN.search(text):
        return "en"
    return None


def content_text(value, page_language=None):
    """`{{ user.name|content }}`: the text, in a span with its own `lang` when it differs from the page's."""
    if value is None:
        return ""
    lang = content_language(value)
    if lang is None or lang == (page_language or str(get_locale())):
        return escape(value)
    return Markup('<span lang="%s">%s</span>') % (lang, value)


def content_sentence(translated, **values):
    """A translated sentence with content or user data in it, as Markup: the sentence escaped, and each value escaped
    unless it is Markup already (`content_text`'s span), so a title or a name in it keeps its own `lang`."""
    return escape(translated) % values


_SPAN = re.compile(r"</?span[^>]*>")


def plain_text(markup):
    """The text of Markup made of escaped text and `content_text`'s spans, for a CSV file: exact, unlike striptags()."""
    return Markup(_SPAN.sub("", markup)).unescape()


def lang_attr(text, lang=None, page_language=None):
    """` lang="ru"` for an element holding content (stored HTML) in another language than the page's, else ""."""
    if lang is None and text and not _CYRILLIC.search(text) and ("<" in text or "&" in text):
        text = Markup(text).striptags()  # no Cyrillic letter in the markup: are the Latin ones text or tags?
    lang = lang or content_language(text)
    if lang is None or lang == (page_language or str(get_locale())):
        return ""
    return Markup(' lang="%s"') % lang


def page_language():
    """For templates: the page's language, found once per template rather than for each piece of content in it
    (a queue page has some 150). Rendered under force_locale, a template gets that locale's."""
    return {"page_language": str(get_locale())}


def install_content_language(jinja_env):
    # Context-bound so that Jinja never folds `"literal"|content` at compile time, in whichever language the page
    # that compiled the template happened to be; a macro imported without the context finds the language itself.
    jinja_env.filters["content"] = pass_context(
        lambda context, value: content_text(value, context.get("page_language")))
    jinja_env.globals["lang_attr"] = pass_context(
        lambda context, text, lang=None: lang_attr(text, lang, context.get("page_language")))
    jinja_env.filters["filesize"] = file_size


def file_size(size):
    """`{{ f.size|filesize }}`: "12 КБ", "1,5 МБ" in the page's language."""
    from flask_babel import format_decimal, gettext

    if size < 1024 * 1024:
        return gettext("%(size)s KB", size=format_decimal(max(1, round(size / 1024))))
    return gettext("%(size)s MB", size=format_decimal(round(size / 1024 / 1024, 1)))
