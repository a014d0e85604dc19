"""Importing a cohort's trainees from a CSV file (name, e-mail): preview first, then one transaction."""
import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.auth.models import User, normalize_email
from lms.auth.services import create_user
from lms.extensions import db
from lms.inputs import too_long
from lms.learning.models import Cohort, Enrolment
from lms.learning.services import enrol_trainee
from lms.spreadsheets import CsvImportError, check_row_count, read_csv_records


@dataclass
class ImportRow:
    line: int
    name: str
    email: str
    action: str = ""  # "create", "enrol", "skip"
    error: str = ""


EMAIL_HEADER = re.compile(r"^(e-?mail|почта|эл\.? ?почта|электронная почта|адрес почты)$", re.IGNORECASE)


def _is_header(record):
    """A first line naming its columns, such as “ФИО,E-mail”."""
    return any(EMAIL_HEADER.match(cell.strip()) for cell in record)


def parse_trainee_csv(data, cohort):
    """Rows with what would happen to each, or CsvImportError for an unreadable file. Writes nothing."""
    records = read_csv_records(data)
    if records and _is_header(records[0]):
        header, records = records[0], records[1:]
        first_line = 2
    else:
        header, first_line = None, 1
    check_row_count(records)
    email_column = next((i for i, cell in enumerate(header or []) if EMAIL_HEADER.match(cell.strip())), 1)
    name_column = 0 if email_column != 0 else 1
    emails = [normalize_email(r[email_column]) if len(r) > email_column else "" for r in records]
    existing = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    enrolled = {row[0]: row[1] for row in db.session.execute(
        select(Enrolment.trainee_id, Cohort.name).join(Cohort).where(Cohort.course_id == cohort.course_id))}
    seen, rows = set(), []
    for offset, (record, email) in enumerate(zip(records, emails, strict=True)):
        name = record[name_column].strip() if len(record) > name_column else ""
        row = ImportRow(line=first_line + offset, name=name, email=email)
        user = existing.get(email)
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            row.error = str(_l("not a valid e-mail address"))
        if not row.error and not name:
            row.error = str(_l("the name is missing"))
        elif not row.error and too_long(name, User.name):
            row.error = str(_l("the name is longer than %(n)d characters", n=User.name.type.length))
        elif not row.error and email in seen:
            row.error = str(_l("the same e-mail appears earlier in the file"))
        elif not row.error and user is not None and user.id in enrolled:
            row.action = "skip"
            row.error = "" if enrolled[user.id] == cohort.name else str(
                _l("already in cohort “%(cohort)s” of this course", cohort=enrolled[user.id]))
        elif not row.error and user is not None and not user.is_trainee:
            row.error = str(_l("this account is not a trainee's"))
        elif not row.error:
            row.action = "enrol" if user is not None else "create"
        seen.add(email)
        rows.append(row)
    return rows


def import_trainees(cohort, rows, actor):
    """Create and enrol every row; the caller commits once. Refuses a file that still has errors."""
    if any(row.error for row in rows):
        raise CsvImportError(_l("Fix the rows with errors first; nothing was imported."))
    created = []
    for row in rows:
        if row.action == "create":
            user = create_user(row.email, row.name, ["trainee"], actor=actor)
            created.append(user)
        elif row.action == "enrol":
            user = db.session.scalar(select(User).where(User.email == row.email))
        else:
            continue
        enrol_trainee(cohort, user, actor=actor)
    return created
