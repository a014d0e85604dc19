"""Writing partners: one check of every field for the admin form, the CSV import and the demo; audited.

A partner is a row of practice_sites (lms/practice/models.py): the practice log, the map and the report read the
same list. The caller commits.
"""
import math
import re

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.audit import record_event
from lms.extensions import db
from lms.inputs import InvalidFields, too_long
from lms.practice.models import SITE_KINDS, PracticeSite
from lms.rendering import render_markdown

TEXT_FIELDS = {  # field: (column, label)
    "name": (PracticeSite.name, _l("Name")),
    "address": (PracticeSite.address, _l("Address")),
    "district": (PracticeSite.district, _l("District")),
    "public_phone": (PracticeSite.public_phone, _l("Public phone")),
    "website": (PracticeSite.website, _l("Website")),
    "contact_name": (PracticeSite.contact_name, _l("Contact person")),
    "contact_email": (PracticeSite.contact_email, _l("Contact e-mail")),
}
MAX_MARKDOWN = 20_000
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PHONE = re.compile(r"^[0-9+()\-. ]*$")
# Russian letters as Latin ones for a partner's address on the map (/partners/<slug>), the passport way.
TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", (
    "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch  y  e iu ia").split(" "), strict=True))


class PartnerInvalid(InvalidFields):
    """A partner's fields that cannot be saved."""


def slug_from(name):
    latin = "".join(TRANSLIT.get(ch, ch) for ch in name.lower())
    return "-".join(re.findall(r"[a-z0-9]+", latin))[:PracticeSite.slug.type.length].strip("-") or "partner"


def parse_coordinate(value, limit):
    """A latitude (limit 90) or longitude (limit 180) as typed, with a point or a comma; None when empty;
    ValueError when it is not a number within ±limit."""
    if value is None or isinstance(value, float):
        number = value
    else:
        text = str(value).strip().replace(",", ".")
        if not text:
            return None
        number = float(text) if len(text) <= 20 else math.nan
    if number is not None and not -limit <= number <= limit:  # NaN fails too
        raise ValueError(value)
    return number


def check_partner(fields, partner=None):
    """The fields cleaned and checked, or PartnerInvalid. `fields` holds text as typed (missing ones are
    empty); `partner` is the one being edited, whose own name and slug do not clash with it."""
    clean = {key: (str(fields.get(key) or "")).strip() for key in TEXT_FIELDS}
    errors = {}
    for key, (column, label) in TEXT_FIELDS.items():
        if too_long(clean[key], column):
            errors[key] = _l("%(field)s: too long (at most %(n)d characters).", field=label, n=column.type.length)
    if not clean["name"]:
        errors["name"] = _l("A partner needs a name.")
    clean["kind"] = fields.get("kind") or ""
    if clean["kind"] not in SITE_KINDS:
        errors["kind"] = _l("Choose the kind of organisation.")
    for key in ("offer", "for_trainees"):
        clean[key] = str(fields.get(key) or "").strip()
        if len(clean[key]) > MAX_MARKDOWN:
            errors[key] = _l("At most %(n)d characters.", n=MAX_MARKDOWN)
    if clean["website"] and not re.match(r"^https?://[^\s/]+\.[^\s]+$", clean["website"]):
        errors.setdefault("website", _l("Enter the site's full address, starting with https://."))
    if not PHONE.match(clean["public_phone"]):
        errors.setdefault("public_phone", _l("A phone number has digits, spaces, +, - and brackets only."))
    if clean["contact_email"] and "contact_email" not in errors:
        try:
            validate_email(clean["contact_email"], check_deliverability=False)
        except EmailNotValidError:
            errors["contact_email"] = _l("This is not a valid e-mail address.")
    for key, limit in (("latitude", 90), ("longitude", 180)):
        try:
            clean[key] = parse_coordinate(fields.get(key), limit)
        except (TypeError, ValueError):
            errors[key] = _l("Latitude is a number from -90 to 90, such as 55.7424.") if key == "latitude" else \
                _l("Longitude is a number from -180 to 180, such as 37.4829.")
    if "latitude" not in errors and "longitude" not in errors and \
            (clean["latitude"] is None) != (clean["longitude"] is None):
        errors["longitude" if clean["longitude"] is None else "latitude"] = _l(
            "Give both coordinates, or neither (the partner is then listed but not on the map).")
    clean["active"] = bool(fields.get("active"))
    capacity = str(fields.get("capacity") if fields.get("capacity") is not None else "").strip()
    clean["capacity"] = int(capacity) if capacity.isascii() and capacity.isdigit() and len(capacity) <= 3 else None
    if capacity and not (clean["capacity"] and clean["capacity"] >= 1):
        errors["capacity"] = _l("Places are a whole number from 1 to 999, or empty for no limit.")
    typed_slug = str(fields.get("slug") or "").strip().lower()
    if typed_slug and not (SLUG.match(typed_slug) and not too_long(typed_slug, PracticeSite.slug)):
        errors["slug"] = _l("Latin letters, digits and single hyphens, at most %(n)d characters.",
                            n=PracticeSite.slug.type.length)
    if errors:
        raise PartnerInvalid(errors)
    same_name = db.session.scalar(select(PracticeSite.id).where(PracticeSite.name == clean["name"]))
    if same_name is not None and (partner is None or same_name != partner.id):
        raise PartnerInvalid({"name": _l("A partner with this name already exists.")})
    clean["slug"] = _free_slug(typed_slug, clean["name"], partner)
    return clean


def _free_slug(typed, name, partner):
    """The typed slug if no other partner has it (PartnerInvalid if one does); else the partner's own, or one made
    from the name, numbered when taken."""
    own_id = partner.id if partner is not None else None
    taken = lambda slug: db.session.scalar(select(PracticeSite.id).where(  # noqa: E731
        PracticeSite.slug == slug, PracticeSite.id != own_id if own_id else True)) is not None
    if typed:
        if taken(typed):
            raise PartnerInvalid({"slug": _l("Another partner already has this address.")})
        return typed
    if partner is not None:
        return partner.slug
    base = slug_from(name)[:PracticeSite.slug.type.length - 4]
    slug, n = base, 2
    while taken(slug):
        slug, n = f"{base}-{n}", n + 1
    return slug


def save_partner(actor, name, kind, partner=None, **fields):
    """Create a partner, or update `partner`, from text as typed; PartnerInvalid with every problem otherwise.
    Fields not given keep their value on an update (the practice log's callers give only a few)."""
    if partner is not None:
        current = {key: getattr(partner, key) for key in (*TEXT_FIELDS, "slug", "latitude", "longitude", "active",
                                                          "capacity")}
        current.update(offer=partner.offer_markdown, for_trainees=partner.for_trainees_markdown)
        fields = {**current, **fields}
    fields.setdefault("active", True)
    clean = check_partner({**fields, "name": name, "kind": kind}, partner)
    created = partner is None
    if created:
        partner = PracticeSite()
        db.session.add(partner)
    for key in (*TEXT_FIELDS, "kind", "slug", "latitude", "longitude", "active", "capacity"):
        setattr(partner, key, clean[key])
    partner.offer_markdown, partner.offer_html = clean["offer"], render_markdown(clean["offer"])
    partner.for_trainees_markdown = clean["for_trainees"]
    partner.for_trainees_html = render_markdown(clean["for_trainees"])
    db.session.flush()
    record_event(actor, "partner.create" if created else "partner.update", partner, name=partner.name,
                 active=partner.active)
    return partner


def set_partner_published(partner, published, actor):
    """Show the partner on the public map and directory, or take it off them."""
    if partner.published == published:
        return
    partner.published = published
    record_event(actor, "partner.publish" if published else "partner.unpublish", partner, name=partner.name)
    db.session.flush()
