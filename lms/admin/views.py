from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.extensions import db
from lms.permissions import require, role_required
from lms.practice.models import SITE_KINDS, PracticeSite
from lms.practice.services import PracticeError, save_practice_site

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/practice-sites", methods=["GET", "POST"])
@role_required("admin")
def practice_sites():
    """The pilot centre and partner organisations; a new one is added from the same page."""
    error = None
    if request.method == "POST":
        try:
            save_practice_site(current_user, **_site_fields(request.form))
            db.session.commit()
            flash(_("Site added."), "info")
            return redirect(url_for("admin.practice_sites"))
        except PracticeError as practice_error:
            db.session.rollback()
            error = str(practice_error)
    sites = db.session.scalars(select(PracticeSite).order_by(PracticeSite.active.desc(), PracticeSite.name)).all()
    return render_template("admin/practice_sites.html", sites=sites, site=None, kinds=SITE_KINDS, error=error,
                           form=request.form), 400 if error else 200


@bp.route("/practice-sites/<int:site_id>", methods=["GET", "POST"])
@role_required("admin")
def practice_site(site_id):
    site = db.session.get(PracticeSite, site_id)
    require(site is not None)
    error = None
    if request.method == "POST":
        try:
            save_practice_site(current_user, site=site, **_site_fields(request.form))
            db.session.commit()
            flash(_("Site saved."), "info")
            return redirect(url_for("admin.practice_sites"))
        except PracticeError as practice_error:
            db.session.rollback()
            error = str(practice_error)
    return render_template("admin/practice_site.html", site=site, kinds=SITE_KINDS, error=error,
                           form=request.form if error else None), 400 if error else 200


def _site_fields(form):
    return {"name": form.get("name", ""), "kind": form.get("kind", ""), "address": form.get("address", ""),
            "contact_name": form.get("contact_name", ""), "contact_email": form.get("contact_email", ""),
            "active": form.get("active") == "1"}
