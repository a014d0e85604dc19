"""The practice log as CSV, for trainees, mentors, administrators and the trainee's portfolio."""
import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.extensions import db
from lms.practice.models import PracticeEntry
from lms.spreadsheets import csv_safe


def entries_for_export(*conditions):
    return db.session.scalars(select(PracticeEntry).options(
        selectinload(PracticeEntry.trainee), selectinload(PracticeEntry.cohort), selectinload(PracticeEntry.site),
        selectinload(PracticeEntry.audiences), selectinload(PracticeEntry.modules))
        .where(*conditions).order_by(PracticeEntry.date, PracticeEntry.id)).all()


CSV_COLUMNS = ("trainee", "email", "cohort", "date", "start", "end", "hours", "site", "activity_type",
               "audiences", "participants", "modules", "status", "description", "reflection", "mentor_comment")


def practice_log_csv(entries):
    """The entries as CSV text (with a BOM so that spreadsheet programs read the Cyrillic right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        writer.writerow([csv_safe(v) for v in (
            e.trainee.name, e.trainee.email, e.cohort.name, e.date.isoformat(),
            e.start_time.strftime("%H:%M") if e.start_time else "", e.end_time.strftime("%H:%M") if e.end_time else "",
            f"{e.minutes / 60:.2f}", e.site.name, e.activity_type,
            "; ".join(f"{a.audience}:{a.participants}" for a in e.audiences), e.participants,
            "; ".join(m.title for m in e.modules), e.status, e.description_markdown, e.reflection_markdown,
            e.mentor_comment_markdown)])
    return "\ufeff" + buffer.getvalue()
