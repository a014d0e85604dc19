"""The public map and directory of partners, and their administration (create, edit, publish, import)."""
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload, undefer

from lms.extensions import db
from lms.inputs import search_term
from lms.labels import SITE_KIND_LABELS, upload_error_message
from lms.partners.imports import COLUMNS, import_partners, parse_partner_csv
from lms.partners.services import (
    PartnerInvalid,
    remove_partner_image,
    save_partner,
    set_partner_image,
    set_partner_published,
)
from lms.permissions import can_view_partner, public, require, role_required
from lms.practice.models import SITE_KINDS, PartnerImage, PracticeSite
from lms.spreadsheets import CsvImportError, decode_csv, import_upload
from lms.uploads import UploadError, attachment_response

bp = Blueprint("partners", __name__)
FORM_FIELDS = ("name", "slug", "kind", "address", "district", "latitude", "longitude", "offer", "for_trainees",
               "public_phone", "website", "contact_name", "contact_email", "capacity")


def map_settings():
    """What the map script needs: the markers' address, the tiles and their attribution."""
    return {"tiles": current_app.config["LMS_MAP_TILES"], "attribution": current_app.config["LMS_MAP_ATTRIBUTION"]}


# --- public -----------------------------------------------------------------------------------

@bp.route("/partners")
@public
def directory():
    """Every published partner as a list anyone can read (the map above it is drawn by a script), filtered by
    kind, district and a part of the name."""
    kind = request.args.get("kind") if request.args.get("kind") in SITE_KINDS else None
    district = search_term(request.args.get("district"), PracticeSite.district)
    search = search_term(request.args.get("q"), PracticeSite.name)
    query = select(PracticeSite).options(selectinload(PracticeSite.image)).where(
        PracticeSite.published.is_(True)).order_by(PracticeSite.name)
    if kind:
        query = query.where(PracticeSite.kind == kind)
    if district:
        query = query.where(PracticeSite.district == district)
    if search:
        query = query.where(func.lower(PracticeSite.name).like(f"%{search.lower()}%"))
    partners = db.session.scalars(query).all()
    districts = db.session.scalars(select(PracticeSite.district).distinct().where(
        PracticeSite.published.is_(True), PracticeSite.district != "").order_by(PracticeSite.district)).all()
    filtered = bool(kind or district or search)
    return render_template("partners/directory.html", partners=partners, kinds=SITE_KINDS, kind=kind,
                           district=district, districts=districts, search=search, filtered=filtered,
                           map=map_settings())


@bp.route("/partners/<slug>")
@public
def partner_page(slug):
    partner = db.session.scalar(select(PracticeSite).options(selectinload(PracticeSite.image))
                                .where(PracticeSite.slug == slug))
    require(partner is not None and can_view_partner(current_user, partner))
    return render_template("partners/partner.html", partner=partner, map=map_settings())


@bp.route("/partners/<slug>/photo")
@bp.route("/partners/<slug>/photo/small", endpoint="partner_thumbnail", defaults={"small": True})
@public
def partner_photo(slug, small=False):
    """The partner's photo or logo, or its small copy. Sent as an attachment like every upload (an img shows it;
    opened on its own it downloads); a published partner's may be kept by browsers, its address changing with it."""
    found = db.session.execute(
        select(PartnerImage, PracticeSite).join(PracticeSite, PracticeSite.id == PartnerImage.site_id)
        .options(undefer(PartnerImage.thumbnail if small else PartnerImage.data)).where(PracticeSite.slug == slug)
    ).first()
    require(found is not None and can_view_partner(current_user, found.PracticeSite))
    image, partner = found
    response = attachment_response(image, data=image.thumbnail if small else image.data)
    if partner.published:
        current = request.args.get("v") == image.version
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if current else \
            "public, max-age=3600"
    return response


@bp.route("/partners.geojson")
@public
def geojson():
    """The published partners with coordinates as an RFC 7946 FeatureCollection ([longitude, latitude]); public
    fields only."""
    partners = db.session.execute(select(
        PracticeSite.name, PracticeSite.slug, PracticeSite.kind, PracticeSite.address, PracticeSite.active,
        PracticeSite.latitude, PracticeSite.longitude).where(
        PracticeSite.published.is_(True), PracticeSite.latitude.is_not(None), PracticeSite.longitude.is_not(None))
        .order_by(PracticeSite.name)).all()
    features = [{
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [p.longitude, p.latitude]},
        "properties": {"name": p.name, "url": url_for("partners.partner_page", slug=p.slug), "kind": p.kind,
                       "kind_label": str(SITE_KIND_LABELS.get(p.kind, p.kind)), "address": p.address,
                       "hosts_practice": p.active},
    } for p in partners]
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.mimetype = "application/geo+json"
    return response


# --- administration ---------------------------------------------------------------------------

@bp.route("/admin/partners")
@role_required("admin")
def admin_partners():
    partners = db.session.scalars(select(PracticeSite).order_by(PracticeSite.published.desc(),
                                                                PracticeSite.name)).all()
    return render_template("partners/admin_list.html", partners=partners)


def _form_fields():
    fields = {key: request.form.get(key, "") for key in FORM_FIELDS}
    fields["active"] = request.form.get("active") == "1"
    return fields


@bp.route("/admin/partners/new", methods=["GET", "POST"])
@role_required("admin")
def new_partner():
    errors, values = {}, {"active": True}
    if request.method == "POST":
        values = _form_fields()
        try:
            fields = dict(values)
            partner = save_partner(current_user, fields.pop("name"), fields.pop("kind"), **fields)
            db.session.commit()
            flash(_("Partner added; publish it to show it on the map."), "info")
            return redirect(url_for("partners.edit_partner", partner_id=partner.id))
        except PartnerInvalid as invalid:
            db.session.rollback()
            errors = invalid.errors
    return render_template("partners/admin_form.html", partner=None, values=values, errors=errors,
                           kinds=SITE_KINDS, map=map_settings()), 400 if errors else 200


@bp.route("/admin/partners/<int:partner_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_partner(partner_id):
    partner = db.session.get(PracticeSite, partner_id, options=[selectinload(PracticeSite.image)])
    require(partner is not None)
    errors, values = {}, None
    if request.method == "POST":
        action = request.form.get("action")
        if action in ("image", "remove_image"):
            return _change_image(partner, action)
        if action in ("publish", "unpublish"):
            set_partner_published(partner, action == "publish", current_user)
            db.session.commit()
            flash(_("Published: the partner is on the public map.") if action == "publish" else
                  _("Unpublished: the partner is no longer on the public map."), "info")
            return redirect(request.path)
        if action != "save":
            abort(400)
        values = _form_fields()
        try:
            fields = dict(values)
            save_partner(current_user, fields.pop("name"), fields.pop("kind"), partner=partner, **fields)
            db.session.commit()
            flash(_("Partner saved."), "info")
            return redirect(request.path)
        except PartnerInvalid as invalid:
            db.session.rollback()
            errors = invalid.errors
    return _edit_page(partner, values, errors)


def _edit_page(partner, values=None, errors=None, image_error=None):
    if values is None:
        values = {key: getattr(partner, key) for key in FORM_FIELDS if hasattr(partner, key)}
        values.update(offer=partner.offer_markdown, for_trainees=partner.for_trainees_markdown,
                      active=partner.active)
    return render_template("partners/admin_form.html", partner=partner, values=values, errors=errors or {},
                           image_error=image_error, kinds=SITE_KINDS, map=map_settings()), \
        400 if errors or image_error else 200


def _change_image(partner, action):
    """Upload the partner's photo or logo, or remove it: a form of its own beside the partner's fields, so that a
    refused picture loses nothing typed there."""
    if action == "remove_image":
        remove_partner_image(current_user, partner)
        db.session.commit()
        flash(_("Picture removed."), "info")
        return redirect(url_for("partners.edit_partner", partner_id=partner.id, _anchor="picture"))
    upload = request.files.get("image")
    try:
        if upload is None or not upload.filename:
            return _edit_page(partner, image_error=_("Choose a JPG or PNG file to upload."))
        set_partner_image(current_user, partner, upload.filename, upload.read(),
                          request.form.get("image_description", ""))
    except UploadError as refused:
        db.session.rollback()
        return _edit_page(partner, image_error=upload_error_message(refused))
    except PartnerInvalid as invalid:
        db.session.rollback()
        return _edit_page(partner, image_error=invalid.errors["image_description"])
    db.session.commit()
    flash(_("Picture saved: it shows on the partner's page and in the directory."), "info")
    return redirect(url_for("partners.edit_partner", partner_id=partner.id, _anchor="picture"))


@bp.route("/admin/partners/import", methods=["GET", "POST"])
@role_required("admin")
def import_partners_page():
    """Upload a CSV of partners, see what would happen to each row, then import all rows at once."""
    rows, error, content = None, None, ""
    publish = request.form.get("publish") == "1"
    if request.method == "POST":
        try:
            data = import_upload(request.files, request.form)
            rows = parse_partner_csv(data)
            if request.form.get("action") == "import":
                partners = import_partners(rows, current_user, publish=publish)
                db.session.commit()
                flash(_("Imported: %(n)d partners.", n=len(partners)), "info")
                return redirect(url_for("partners.admin_partners"))
            content = decode_csv(data)
        except CsvImportError as import_error:
            db.session.rollback()
            error = str(import_error)
    return render_template("partners/import.html", rows=rows, error=error, content=content, publish=publish,
                           columns=COLUMNS), 400 if error else 200
