"""Requesting, assigning and deciding placements; a partner's capacity is checked under a lock on the partner.

The caller commits.
"""
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lms.audit import record_event
from lms.clock import utcnow
from lms.extensions import db
from lms.inputs import InvalidFields, too_long
from lms.placements.models import HOLDING_PLACES, Placement
from lms.practice.models import PracticeEntry, PracticeSite

MAX_PLANNED_HOURS = 2000


class PlacementInvalid(InvalidFields):
    """A placement that cannot be made."""


@dataclass
class PlacementData:
    """A placement as typed; None where a value could not be read (the form's dates and hours)."""

    enrolment: object  # the trainee's Enrolment: who, in which cohort
    site: object
    starts_on: object
    ends_on: object
    planned_hours: object
    supervisor_name: str = ""
    supervisor_position: str = ""
    supervisor_email: str = ""


def places_taken(site, starts_on, ends_on):
    """How many placements at the site hold a place on some day of [starts_on, ends_on]."""
    return db.session.scalar(select(func.count()).select_from(Placement).where(
        Placement.site_id == site.id, Placement.status.in_(HOLDING_PLACES), Placement.starts_on <= ends_on,
        Placement.ends_on >= starts_on))


def _check(data):
    errors = {}
    if data.enrolment is None:
        errors["trainee"] = _l("Choose the trainee.")
    if data.site is None or not data.site.active:
        errors["site"] = _l("Choose a partner that hosts practice.")
    if data.starts_on is None:
        errors["starts_on"] = _l("Enter the first day of the placement.")
    if data.ends_on is None:
        errors["ends_on"] = _l("Enter the last day of the placement.")
    elif data.starts_on is not None and data.ends_on < data.starts_on:
        errors["ends_on"] = _l("The period ends before it starts.")
    if data.planned_hours is None or not 1 <= data.planned_hours <= MAX_PLANNED_HOURS:
        errors["planned_hours"] = _l("Planned hours are a whole number from 1 to %(n)d.", n=MAX_PLANNED_HOURS)
    fields = {key: (getattr(data, key) or "").strip() for key in
              ("supervisor_name", "supervisor_position", "supervisor_email")}
    for key, column in (("supervisor_name", Placement.supervisor_name),
                        ("supervisor_position", Placement.supervisor_position),
                        ("supervisor_email", Placement.supervisor_email)):
        if too_long(fields[key], column):
            errors[key] = _l("At most %(n)d characters.", n=column.type.length)
    if not fields["supervisor_name"]:
        errors.setdefault("supervisor_name", _l("Name the site supervisor."))
    try:
        validate_email(fields["supervisor_email"], check_deliverability=False)
    except EmailNotValidError:
        errors.setdefault("supervisor_email", _l("Enter the supervisor's e-mail address."))
    if errors:
        raise PlacementInvalid(errors)
    # The partner's row is locked, so two requests for its last place cannot both count it free.
    site = db.session.scalar(select(PracticeSite).where(PracticeSite.id == data.site.id).with_for_update())
    if site.capacity is not None and places_taken(site, data.starts_on, data.ends_on) >= site.capacity:
        raise PlacementInvalid({"site": _l("No place left at %(partner)s in this period (places at a time: %(n)d).",
                                           partner=site.name, n=site.capacity)})
    return fields


def _save(data, actor, status):
    fields = _check(data)
    placement = Placement(trainee_id=data.enrolment.trainee_id, cohort_id=data.enrolment.cohort_id,
                          site_id=data.site.id, starts_on=data.starts_on, ends_on=data.ends_on,
                          planned_hours=data.planned_hours, status=status, created_by_id=actor.id, **fields)
    if status == "approved":
        placement.decided_by_id, placement.decided_at = actor.id, utcnow()
    db.session.add(placement)
    db.session.flush()
    return placement


def request_placement(trainee, data):
    """The trainee asks for a placement; a mentor of the cohort or an administrator decides."""
    placement = _save(data, trainee, "requested")
    record_event(trainee, "placement.request", placement, site=data.site.name)
    return placement


def assign_placement(data, actor):
    """A mentor or an administrator places a trainee: approved at once."""
    placement = _save(data, actor, "approved")
    record_event(actor, "placement.assign", placement, site=data.site.name, trainee_id=placement.trainee_id)
    return placement


def decide_placement(placement, actor, approve):
    """Approve or decline a requested placement; a declined one gives its place back."""
    if placement.status != "requested":
        raise PlacementInvalid({"status": _l("This placement has already been decided.")})
    placement.status = "approved" if approve else "declined"
    placement.decided_by_id, placement.decided_at = actor.id, utcnow()
    record_event(actor, "placement.approve" if approve else "placement.decline", placement)
    db.session.flush()


def placement_hours(placement):
    """The practice logged at the placement: the trainee's entries at its partner in its period and cohort, as
    [(kind of activity, approved minutes, all minutes logged)], most logged first."""
    approved = func.sum(PracticeEntry.minutes).filter(PracticeEntry.status == "approved")
    rows = db.session.execute(select(PracticeEntry.activity_type, func.coalesce(approved, 0),
                                     func.sum(PracticeEntry.minutes))
                              .where(PracticeEntry.trainee_id == placement.trainee_id,
                                     PracticeEntry.cohort_id == placement.cohort_id,
                                     PracticeEntry.site_id == placement.site_id,
                                     PracticeEntry.date >= placement.starts_on, PracticeEntry.date <= placement.ends_on)
                              .group_by(PracticeEntry.activity_type)).all()
    return sorted(rows, key=lambda row: row[2], reverse=True)
