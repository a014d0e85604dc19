"""Approved practice totalled per day, site and kind of activity, per day and audience, and per trainee, changed
in the same transaction as whatever changes approved entries: the review that approves or reopens them, moving a
trainee to another cohort (lms/admin/services.py). The models are in lms/practice/models.py.

The programme report, the certificate rules and the trainees' practice page read these totals; everything else
reads the entries themselves.
"""
from sqlalchemy import delete, func, insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from lms.extensions import db
from lms.practice.models import (
    PracticeAudienceDayTotal,
    PracticeDayTotal,
    PracticeEntry,
    PracticeEntryAudience,
    PracticeTraineeTotal,
)

TOTALS = (PracticeDayTotal, PracticeAudienceDayTotal, PracticeTraineeTotal)


def add_approved_practice(entries):
    """Count entries that have just been approved."""
    _change_totals(entries, 1)


def remove_approved_practice(entries):
    """Stop counting entries that were approved and are no longer."""
    _change_totals(entries, -1)


def rebuild_practice_totals():
    """Total every approved entry afresh, for entries written in bulk past the services (lms/bench_data.py)."""
    approved = PracticeEntry.status == "approved"
    for model in TOTALS:
        db.session.execute(delete(model))
    db.session.execute(insert(PracticeDayTotal).from_select(
        ["date", "site_id", "activity_type", "entries", "minutes", "participants"],
        select(PracticeEntry.date, PracticeEntry.site_id, PracticeEntry.activity_type, func.count(),
               func.sum(PracticeEntry.minutes), func.sum(PracticeEntry.participants))
        .where(approved)
        .group_by(PracticeEntry.date, PracticeEntry.site_id, PracticeEntry.activity_type)))
    db.session.execute(insert(PracticeAudienceDayTotal).from_select(
        ["date", "audience", "entries", "minutes", "participants"],
        select(PracticeEntry.date, PracticeEntryAudience.audience, func.count(), func.sum(PracticeEntry.minutes),
               func.sum(PracticeEntryAudience.participants))
        .join(PracticeEntryAudience, PracticeEntryAudience.entry_id == PracticeEntry.id)
        .where(approved)
        .group_by(PracticeEntry.date, PracticeEntryAudience.audience)))
    _total_trainees(approved)


def recount_trainee_practice(trainee):
    """Total a trainee's approved practice afresh: after their entries moved to another cohort."""
    db.session.execute(delete(PracticeTraineeTotal).where(PracticeTraineeTotal.trainee_id == trainee.id))
    _total_trainees(PracticeEntry.status == "approved", PracticeEntry.trainee_id == trainee.id)


def _total_trainees(*where):
    db.session.execute(insert(PracticeTraineeTotal).from_select(
        ["trainee_id", "cohort_id", "activity_type", "entries", "minutes"],
        select(PracticeEntry.trainee_id, PracticeEntry.cohort_id, PracticeEntry.activity_type, func.count(),
               func.sum(PracticeEntry.minutes))
        .where(*where)
        .group_by(PracticeEntry.trainee_id, PracticeEntry.cohort_id, PracticeEntry.activity_type)))


def _change_totals(entries, sign):
    days, audiences, trainees = {}, {}, {}
    for entry in entries:
        _add(days, (entry.date, entry.site_id, entry.activity_type),
             (sign, sign * entry.minutes, sign * entry.participants))
        for audience in entry.audiences:
            _add(audiences, (entry.date, audience.audience),
                 (sign, sign * entry.minutes, sign * audience.participants))
        _add(trainees, (entry.trainee_id, entry.cohort_id, entry.activity_type), (sign, sign * entry.minutes))
    _upsert(PracticeDayTotal, days, ("entries", "minutes", "participants"))
    _upsert(PracticeAudienceDayTotal, audiences, ("entries", "minutes", "participants"))
    _upsert(PracticeTraineeTotal, trainees, ("entries", "minutes"))


def _add(sums, key, values):
    sums[key] = tuple(a + b for a, b in zip(sums.get(key, (0,) * len(values)), values, strict=True))


def _upsert(model, sums, columns):
    """Add the sums to the rows of their keys, creating the missing rows; drop rows no entry counts in any more.
    Keys are written in order, so that two reviews running at once on PostgreSQL lock rows in the same order."""
    if not sums:
        return
    keys = [column.name for column in model.__table__.primary_key.columns]
    rows = [dict(zip(keys, key, strict=True)) | dict(zip(columns, values, strict=True))
            for key, values in sorted(sums.items())]
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(rows)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=keys, set_={c: getattr(model, c) + statement.excluded[c] for c in columns}))
    if any(values[0] < 0 for values in sums.values()):
        db.session.execute(delete(model).where(
            tuple_(*(getattr(model, k) for k in keys)).in_(list(sums)), model.entries <= 0))
