"""Writing partners: one check of every field for the admin form, the CSV import and the demo; audited.

A partner is a row of practice_sites (lms/practice/models.py): the practice log, the map and the report read the
same list. The caller commits.
"""
import hashlib
import io
import math
import re
import warnings

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from lms.audit import record_event
from lms.clock import utcnow
from lms.extensions import db
from lms.inputs import InvalidFields, too_long
from lms.practice.models import SITE_KINDS, PartnerImage, PracticeSite
from lms.rendering import render_markdown
from lms.uploads import UploadError, check_upload

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
# A partner's picture as kept: at most this many pixels a side, and a copy for the directory's list (shown at
# half that size, sharp on a phone's screen). A picture claiming more pixels than a camera makes is refused unread.
MAX_SIDE, THUMBNAIL_SIDE, MAX_PIXELS = 1200, 320, 50_000_000
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


def set_partner_image(actor, partner, filename, data, description=""):
    """Keep an uploaded JPG or PNG as the partner's photo or logo, replacing any earlier one; UploadError when it
    is not a picture that can be read. The picture is drawn again rather than kept as sent: what a public page
    shows then holds no camera metadata and is an image whatever the file held besides."""
    checked = check_upload(filename, data)
    if checked.content_type not in ("image/jpeg", "image/png"):
        raise UploadError("not_image", checked.filename)
    description = (description or "").strip()
    if too_long(description, PartnerImage.description):
        raise PartnerInvalid({"image_description": _l("%(field)s: too long (at most %(n)d characters).",
                                                      field=_l("What the picture shows"), n=300)})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(checked.data)) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise UploadError("not_image", checked.filename)
                picture = ImageOps.exif_transpose(opened)  # a phone's photo stands the way it was taken
                picture.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise UploadError("not_image", checked.filename) from None
    keeps_transparency = checked.content_type == "image/png"
    image_format = "PNG" if keeps_transparency else "JPEG"
    picture = picture.convert("RGBA" if keeps_transparency else "RGB")
    image = partner.image or PartnerImage(site_id=partner.id)
    image.data, (image.width, image.height) = _redrawn(picture, MAX_SIDE, image_format)
    image.thumbnail, _size = _redrawn(picture, THUMBNAIL_SIDE, image_format)
    image.filename = f"{partner.slug}.{'png' if keeps_transparency else 'jpg'}"
    image.content_type, image.size = checked.content_type, len(image.data)
    image.sha256 = hashlib.sha256(image.data).hexdigest()
    image.description = description
    image.uploaded_at = utcnow()
    partner.image = image
    db.session.flush()
    record_event(actor, "partner.image", partner, name=partner.name)
    return image


def _redrawn(picture, side, image_format):
    """The picture at most `side` pixels a side, encoded afresh, and its size."""
    copy = picture.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, image_format, optimize=True, **({"quality": 85} if image_format == "JPEG" else {}))
    return out.getvalue(), copy.size


def remove_partner_image(actor, partner):
    if partner.image is None:
        return
    partner.image = None
    db.session.flush()
    record_event(actor, "partner.image_remove", partner, name=partner.name)
