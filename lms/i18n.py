"""Catalogues looked up once per request instead of on every call.

Flask-Babel finds the locale and the catalogue anew for each gettext call, and Flask-WTF reads the WTForms
catalogue from disk for every form. A page makes dozens of such calls: in issue 8's profiles translation was one
of the largest costs of every page.
"""
from functools import cache

from babel import support
from flask import g
from flask_babel import get_locale, get_translations
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


def wtforms_translations():
    """WTForms' own messages ("This field is required.") in the request's language."""
    return _wtforms_catalogue(str(get_locale()))


@cache
def _wtforms_catalogue(locale):
    return support.Translations.load(messages_path(), [locale], domain="wtforms")
