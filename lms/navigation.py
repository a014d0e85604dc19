"""The main navigation, rendered once per language and set of roles.

It is the same on every page for everyone with the same roles, and its dozen translated links were a visible
part of every page's time (issue 8).
"""
from flask import current_app, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup


def main_nav():
    key = (str(get_locale()), frozenset(current_user.roles), request.script_root)
    rendered = current_app.extensions.setdefault("lms_main_nav", {})
    if key not in rendered:
        rendered[key] = Markup(render_template("_main_nav.html"))
    here = f'href="{request.script_root}{request.path}"'
    return Markup(str(rendered[key]).replace(here, here + ' aria-current="page"', 1))
