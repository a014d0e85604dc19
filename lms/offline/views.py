"""The installable app: its manifest, its service worker (served from the root, so that its scope is the whole
site) and the page it shows offline in place of pages it did not keep."""
from flask import Blueprint, current_app, jsonify, render_template, send_from_directory, url_for

from lms.permissions import public

bp = Blueprint("offline", __name__)
THEME_COLOUR = "#1f5fbf"  # style.css's --accent
BACKGROUND_COLOUR = "#f4f6f9"  # style.css's --bg


def _icon(name, sizes, purpose="any"):
    return {"src": url_for("static", filename=f"icons/{name}"), "sizes": sizes, "type": "image/png",
            "purpose": purpose}


@bp.route("/manifest.webmanifest")
@public
def manifest():
    response = jsonify({
        "name": current_app.config["LMS_ISSUER_NAME"], "short_name": "Школа МСС", "lang": "ru", "dir": "ltr",
        "start_url": "/", "scope": "/", "display": "standalone", "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [_icon("icon-192.png", "192x192"), _icon("icon-512.png", "512x512"),
                  _icon("icon-maskable-512.png", "512x512", "maskable")],
        "shortcuts": [{"name": "Новая запись о практике", "url": url_for("practice.new_entry")}]})
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/sw.js")
@public
def service_worker():
    """The worker's file from lms/static; revalidated on each visit, so that a new version is found at once."""
    response = send_from_directory(current_app.static_folder, "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/offline")
@public
def offline_page():
    return render_template("offline/offline.html")
