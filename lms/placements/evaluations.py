"""The site supervisor's midterm and final evaluations: requested by staff once the goals are agreed, given through
a signed single-use link (valid EVALUATION_LINK_DAYS), seen by the trainee and the mentor (the cohort's mentors are
notified when one arrives), answered by the trainee. The caller commits."""
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from lms.audit import record_event
from lms.clock import utcnow
from lms.extensions import db
from lms.inputs import InvalidFields
from lms.notifications.services import notify, path_for, queue_link_email
from lms.placements.agreements import current_agreement
from lms.placements.models import EVALUATION_KINDS, EVALUATION_LEVELS, PlacementEvaluation
from lms.schedule.models import ReminderSent

EVALUATION_LINK_DAYS = 30
MAX_TEXT = 5000
LEVEL_LABELS = {
    1: (_l("beginning"), _l("needs the supervisor's help at each step")),
    2: (_l("developing"), _l("does it with some help and reminders")),
    3: (_l("competent"), _l("does it on their own, as agreed")),
    4: (_l("exemplary"), _l("does it on their own and helps others do it")),
}


class EvaluationInvalid(InvalidFields):
    """An evaluation that cannot be requested, given or answered."""


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="placement-evaluation")


def evaluation_token(evaluation):
    return _serializer().dumps({"e": evaluation.id, "n": evaluation.nonce})


def request_evaluation(placement, kind, actor):
    """A link for the supervisor to evaluate the agreed goals (a new link ends an unused earlier one)."""
    agreement = current_agreement(placement)
    if kind not in EVALUATION_KINDS:
        raise EvaluationInvalid({"kind": _l("Choose the midterm or the final evaluation.")})
    if agreement is None or agreement.status != "agreed":
        raise EvaluationInvalid({"kind": _l("The site supervisor evaluates agreed goals: agree the goals first.")})
    evaluation = next((e for e in placement.evaluations if e.kind == kind), None)
    if evaluation is not None and evaluation.submitted_at is not None:
        raise EvaluationInvalid({"kind": _l("This evaluation has been given already.")})
    if evaluation is None:
        evaluation = PlacementEvaluation(placement=placement, kind=kind)
        db.session.add(evaluation)
    evaluation.agreement, evaluation.nonce, evaluation.requested_at = agreement, secrets.token_urlsafe(16), utcnow()
    db.session.flush()
    record_event(actor, "evaluation.request", evaluation, kind=kind)
    return evaluation_token(evaluation)


def evaluation_for_token(token):
    """The evaluation a link stands for, or None: forged, used, expired or replaced by a newer link."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), int):
        return None
    evaluation = db.session.get(PlacementEvaluation, data["e"])
    if evaluation is None or not evaluation.nonce or evaluation.nonce != data.get("n") or \
            evaluation.submitted_at is not None:
        return None
    if evaluation.requested_at < utcnow() - timedelta(days=EVALUATION_LINK_DAYS):
        return None
    return evaluation


def submit_evaluation(evaluation, ratings, strengths, areas, recommendation):
    """Every goal rated on the four levels, and a recommendation; the link works no more."""
    errors = {}
    clean = {}
    for goal in evaluation.agreement.goals:
        value = ratings.get(goal.position)
        if value not in EVALUATION_LEVELS:
            errors[f"goal-{goal.position}"] = _l("Choose a level for this goal.")
        clean[str(goal.position)] = value
    texts = {"strengths": (strengths or "").strip(), "areas": (areas or "").strip(),
             "recommendation": (recommendation or "").strip()}
    for key, text in texts.items():
        if len(text) > MAX_TEXT:
            errors[key] = _l("At most %(n)d characters.", n=MAX_TEXT)
    if not texts["recommendation"]:
        errors.setdefault("recommendation", _l("Write a recommendation."))
    if errors:
        raise EvaluationInvalid(errors)
    evaluation.ratings, evaluation.level, evaluation.strengths = clean, min(clean.values()), texts["strengths"]
    evaluation.areas_to_develop, evaluation.recommendation = texts["areas"], texts["recommendation"]
    evaluation.submitted_at, evaluation.nonce = utcnow(), None
    db.session.flush()
    record_event(None, "evaluation.submit", evaluation, kind=evaluation.kind, level=evaluation.level)
    placement = evaluation.placement
    for mentor in placement.cohort.mentors:
        notify(mentor, f"evaluation_{evaluation.kind}", f"/placements/{placement.id}#evaluations",
               site=placement.site.name, trainee=placement.trainee.name)


def respond_to_evaluation(evaluation, trainee, text):
    text = (text or "").strip()
    if evaluation.submitted_at is None:
        raise EvaluationInvalid({"response": _l("The evaluation has not been given yet.")})
    if not text or len(text) > MAX_TEXT:
        raise EvaluationInvalid({"response": _l("Write a response of at most %(n)d characters.", n=MAX_TEXT)})
    evaluation.trainee_response, evaluation.responded_at = text, utcnow()
    db.session.flush()
    record_event(trainee, "evaluation.respond", evaluation, kind=evaluation.kind)


def due_on(evaluation):
    """The day an evaluation is due: the midterm at the middle of the placement, the final on its last day."""
    placement = evaluation.placement
    if evaluation.kind == "final":
        return placement.ends_on
    return placement.starts_on + (placement.ends_on - placement.starts_on) / 2


def remind_supervisors(today):
    """E-mail each site supervisor whose requested evaluation is due by `today` its link again, once per link
    (kept in reminders_sent, so two senders at once make one); returns how many. Run by send-notifications."""
    waiting = db.session.scalars(select(PlacementEvaluation).options(joinedload(PlacementEvaluation.placement))
                                 .where(PlacementEvaluation.nonce.is_not(None),
                                        PlacementEvaluation.submitted_at.is_(None))).all()
    due = {f"evaluation-{e.id}-{e.nonce}": e for e in waiting if due_on(e) <= today}
    if not due:
        return 0
    done = set(db.session.scalars(select(ReminderSent.key).where(ReminderSent.key.in_(due))))
    wanted = {key: e for key, e in due.items() if key not in done}
    try:
        with db.session.begin_nested():
            db.session.add_all(ReminderSent(key=key) for key in wanted)
    except IntegrityError:
        return 0
    base = current_app.config["LMS_BASE_URL"]
    for evaluation in wanted.values():
        link = base + path_for("placements.evaluate", token=evaluation_token(evaluation))
        queue_link_email(evaluation.placement.supervisor_email, _l("Reminder: a trainee's evaluation is due"),
                         _l("The evaluation of the trainee's goals is due now; open this link to give it:"), link)
    return len(wanted)
