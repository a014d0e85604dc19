"""Importing partners from a CSV file: a preview with each row's problems first, then all rows in one transaction.

The first line names the columns, in English or Russian (see COLUMNS); a row whose name is already a partner's
updates that partner.
"""
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.audit import record_event
from lms.extensions import db
from lms.labels import SITE_KIND_LABELS
from lms.partners.services import PartnerInvalid, check_partner, save_partner, set_partner_published
from lms.practice.models import PracticeSite
from lms.spreadsheets import CsvImportError, check_row_count, read_csv_records

# field: the names a header may give it, compared in lower case: English, Russian, then other spellings.
COLUMNS = {
    "name": ("name", "название", "организация"),
    "kind": ("kind", "вид", "тип"),
    "address": ("address", "адрес"),
    "district": ("district", "район"),
    "latitude": ("latitude", "широта", "lat"),
    "longitude": ("longitude", "долгота", "lon", "lng"),
    "offer": ("offer", "что предлагает жителям", "what it offers residents"),
    "for_trainees": ("for trainees", "что могут делать слушатели", "what trainees can do"),
    "public_phone": ("phone", "телефон"),
    "website": ("website", "сайт"),
    "contact_name": ("contact person", "контактное лицо"),
    "contact_email": ("contact e-mail", "почта контакта", "e-mail контакта", "contact email"),
    "active": ("hosts practice", "принимает на практику", "практика"),
    "capacity": ("places", "мест", "вместимость"),
}
YES = {"yes", "да", "1", "true", "+"}


@dataclass
class PartnerRow:
    line: int
    fields: dict
    action: str = ""  # "create" or "update"
    errors: list = field(default_factory=list)


def _kind_code(value):
    """A kind as its code or as its label in either language."""
    text = (value or "").strip().lower()
    if text in SITE_KIND_LABELS:
        return text
    for locale in ("ru", "en"):
        with force_locale(locale):
            for code, label in SITE_KIND_LABELS.items():
                if text == str(label).lower():
                    return code
    return text


def parse_partner_csv(data):
    """Rows with what would happen to each, or CsvImportError for a file that cannot be read. Writes nothing."""
    records = read_csv_records(data)
    check_row_count(records)
    header = [cell.strip().lower() for cell in records[0]]
    columns = {key: next((i for i, cell in enumerate(header) if cell in names), None)
               for key, names in COLUMNS.items()}
    if columns["name"] is None or columns["kind"] is None:
        raise CsvImportError(_l("The first line must name the columns, at least “Название” and “Вид” "
                                "(or “name” and “kind”)."))
    records = records[1:]
    check_row_count(records)
    existing = {p.name: p for p in db.session.scalars(select(PracticeSite))}
    rows, seen = [], set()
    for line, record in enumerate(records, start=2):
        fields = {key: record[i] if i is not None and i < len(record) else "" for key, i in columns.items()}
        fields["kind"] = _kind_code(fields["kind"])
        fields["active"] = fields["active"].strip().lower() in YES
        row = PartnerRow(line=line, fields=fields)
        partner = existing.get(fields["name"].strip())
        row.action = "update" if partner else "create"
        try:
            check_partner(fields, partner)
        except PartnerInvalid as invalid:
            row.errors = [str(message) for message in invalid.errors.values()]
        if fields["name"].strip() in seen:
            row.errors.append(str(_l("the same name appears earlier in the file")))
        seen.add(fields["name"].strip())
        rows.append(row)
    return rows


def import_partners(rows, actor, publish=False):
    """Create or update every row, published if asked; the caller commits. Refuses a file that has errors."""
    if any(row.errors for row in rows):
        raise CsvImportError(_l("Fix the rows with errors first; nothing was imported."))
    existing = {p.name: p for p in db.session.scalars(select(PracticeSite))}
    partners = []
    for row in rows:
        fields = dict(row.fields)
        partner = existing.get(fields["name"].strip())
        partners.append(save_partner(actor, fields.pop("name"), fields.pop("kind"), partner=partner, **fields))
        if publish:
            set_partner_published(partners[-1], True, actor)
    record_event(actor, "partner.import", ("practice_sites", None), rows=len(rows), published=publish)
    db.session.flush()
    return partners
