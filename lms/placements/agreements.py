"""Learning agreements: 3-5 goals, each tied to a course outcome, written by the trainee, approved by a mentor and
agreed by the site supervisor through a signed single-use link (valid AGREEMENT_LINK_DAYS). The caller commits."""
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from lms.audit import record_event
from lms.clock import utcnow
from lms.curriculum.models import Module
from lms.extensions import db
from lms.inputs import InvalidFields
from lms.placements.models import LearningAgreement, LearningGoal

MIN_GOALS, MAX_GOALS, MAX_GOAL = 3, 5, 2000
AGREEMENT_LINK_DAYS = 30


class AgreementInvalid(InvalidFields):
    """An agreement that cannot be saved or agreed."""


def course_outcomes(placement):
    """The outcomes of the placement's course, in module order, as goals may name them."""
    outcomes = db.session.scalars(select(Module.outcomes).where(Module.course_id == placement.cohort.course_id)
                                  .order_by(Module.position)).all()
    return [outcome for listed in outcomes for outcome in (listed or [])]


def current_agreement(placement):
    return placement.agreements[-1] if placement.agreements else None


def save_agreement(placement, trainee, goals):
    """The trainee's goals [(text, outcome)], as a version waiting for the mentor. An agreement not yet approved is
    rewritten; an approved or agreed one stays as it was and a new version replaces it."""
    goals = [((text or "").strip(), outcome or "") for text, outcome in goals if (text or "").strip()]
    outcomes = set(course_outcomes(placement))
    errors = {}
    if not MIN_GOALS <= len(goals) <= MAX_GOALS:
        errors["goals"] = _l("Write from %(min)d to %(max)d goals.", min=MIN_GOALS, max=MAX_GOALS)
    for n, (text, outcome) in enumerate(goals, start=1):
        if len(text) > MAX_GOAL:
            errors[f"goal-{n}"] = _l("At most %(n)d characters.", n=MAX_GOAL)
        elif outcome not in outcomes:
            errors[f"goal-{n}"] = _l("Choose the course outcome this goal serves.")
    if errors:
        raise AgreementInvalid(errors)
    agreement = current_agreement(placement)
    if agreement is None or agreement.status != "submitted":
        agreement = LearningAgreement(placement=placement, version=agreement.version + 1 if agreement else 1)
        db.session.add(agreement)
    agreement.status = "submitted"
    agreement.goals = [LearningGoal(position=n, text=text, outcome=outcome)
                       for n, (text, outcome) in enumerate(goals, start=1)]
    db.session.flush()
    record_event(trainee, "agreement.submit", agreement, version=agreement.version)
    return agreement


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="learning-agreement")


def approve_agreement(agreement, mentor):
    """The mentor approves the goals; returns the token of the supervisor's link."""
    if agreement.status != "submitted":
        raise AgreementInvalid({"agreement": _l("This version is not waiting for a mentor.")})
    agreement.status, agreement.approved_by_id, agreement.approved_at = "approved", mentor.id, utcnow()
    agreement.nonce = secrets.token_urlsafe(16)
    db.session.flush()
    record_event(mentor, "agreement.approve", agreement, version=agreement.version)
    return agreement_token(agreement)


def agreement_token(agreement):
    return _serializer().dumps({"a": agreement.id, "n": agreement.nonce})


def agreement_for_token(token):
    """The approved agreement a link stands for, or None: forged, used already, expired or replaced."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        return None
    agreement = db.session.get(LearningAgreement, data["a"])
    if agreement is None or agreement.status != "approved" or not agreement.nonce or agreement.nonce != data.get("n"):
        return None
    if agreement.approved_at < utcnow() - timedelta(days=AGREEMENT_LINK_DAYS) or \
            agreement is not current_agreement(agreement.placement):
        return None
    return agreement


def agree_agreement(agreement, supervisor_name):
    """The site supervisor agrees, by name; the link works no more."""
    name = (supervisor_name or "").strip()
    if not name or len(name) > 200:
        raise AgreementInvalid({"name": _l("Please give your name.")})
    agreement.status, agreement.agreed_at, agreement.agreed_by_name = "agreed", utcnow(), name
    agreement.nonce = None
    db.session.flush()
    record_event(None, "agreement.agree", agreement, version=agreement.version, name=name)
