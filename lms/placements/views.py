"""Placements: the list, a request (a trainee) or an assignment (a mentor or an administrator), the decision."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.auth.models import User
from lms.extensions import db
from lms.inputs import parse_date, parse_whole_number
from lms.learning.models import Cohort, CohortMentor, Enrolment
from lms.mail import mail_configured
from lms.notifications.services import queue_link_email
from lms.permissions import (
    can_approve_agreement,
    can_decide_placement,
    can_respond_to_evaluation,
    can_view_placement,
    can_write_agreement,
    public,
    require,
    signed_in,
)
from lms.placements.agreements import (
    MAX_GOALS,
    AgreementInvalid,
    agree_agreement,
    agreement_for_token,
    agreement_token,
    approve_agreement,
    course_outcomes,
    current_agreement,
    save_agreement,
)
from lms.placements.evaluations import (
    LEVEL_LABELS,
    EvaluationInvalid,
    evaluation_for_token,
    evaluation_token,
    request_evaluation,
    respond_to_evaluation,
    submit_evaluation,
)
from lms.placements.models import EVALUATION_KINDS, Placement
from lms.placements.services import (
    PlacementData,
    PlacementInvalid,
    assign_placement,
    decide_placement,
    placement_hours,
    places_taken,
    request_placement,
)
from lms.practice.models import PracticeSite

bp = Blueprint("placements", __name__)


def _enrolments():
    """The enrolments a placement can be made for: the trainee's own, or those of the staff member's cohorts."""
    query = select(Enrolment).options(joinedload(Enrolment.trainee).lazyload(User.role_rows),
                                      joinedload(Enrolment.cohort)).join(User, User.id == Enrolment.trainee_id)
    if current_user.is_staff:
        if not current_user.is_admin:
            query = query.where(Enrolment.cohort_id.in_(select(CohortMentor.cohort_id).where(
                CohortMentor.mentor_id == current_user.id)))
    else:
        query = query.where(Enrolment.trainee_id == current_user.id)
    return db.session.scalars(query.order_by(User.name)).all()


@bp.route("/placements")
@signed_in
def placements():
    query = select(Placement).options(joinedload(Placement.trainee).lazyload(User.role_rows),
                                      joinedload(Placement.site)).order_by(Placement.starts_on.desc())
    if not current_user.is_admin:
        mentored = select(CohortMentor.cohort_id).where(CohortMentor.mentor_id == current_user.id)
        query = query.where((Placement.trainee_id == current_user.id) | Placement.cohort_id.in_(mentored))
    return render_template("placements/list.html", placements=db.session.scalars(query).all())


@bp.route("/placements/new", methods=["GET", "POST"])
@signed_in
def new_placement():
    """A trainee asks for a placement; a mentor or an administrator assigns one (approved at once)."""
    enrolments = _enrolments()
    sites = db.session.scalars(select(PracticeSite).where(PracticeSite.active.is_(True))
                               .order_by(PracticeSite.name)).all()
    chosen = next((s for s in sites if s.slug == request.args.get("partner")), None)
    errors, values = {}, {"site": chosen.id if chosen else None}
    if request.method == "POST" and enrolments:
        values = request.form.to_dict()
        form = request.form
        enrolment_id = parse_whole_number(form.get("enrolment")) if len(enrolments) > 1 else enrolments[0].id
        data = PlacementData(
            enrolment=next((e for e in enrolments if e.id == enrolment_id), None),
            site=next((s for s in sites if s.id == parse_whole_number(form.get("site"))), None),
            starts_on=parse_date(form.get("starts_on")), ends_on=parse_date(form.get("ends_on")),
            planned_hours=parse_whole_number(form.get("planned_hours")),
            supervisor_name=form.get("supervisor_name", ""), supervisor_position=form.get("supervisor_position", ""),
            supervisor_email=form.get("supervisor_email", ""))
        try:
            if current_user.is_staff:
                placement = assign_placement(data, current_user)
                flash(_("Placement assigned."), "info")
            else:
                placement = request_placement(current_user, data)
                flash(_("Placement requested: a mentor will decide."), "info")
            db.session.commit()
            return redirect(url_for("placements.placement_page", placement_id=placement.id))
        except PlacementInvalid as invalid:
            db.session.rollback()
            errors = invalid.errors
    return render_template("placements/new.html", enrolments=enrolments, sites=sites, values=values,
                           errors=errors), 400 if errors else 200


@bp.route("/placements/<int:placement_id>", methods=["GET", "POST"])
@signed_in
def placement_page(placement_id):
    placement = db.session.get(Placement, placement_id, options=[
        joinedload(Placement.trainee).lazyload(User.role_rows), joinedload(Placement.site),
        joinedload(Placement.cohort).joinedload(Cohort.course)])
    require(placement is not None and can_view_placement(current_user, placement))
    errors = {}
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action in ("approve", "decline"):
                require(can_decide_placement(current_user, placement), 403)
                decide_placement(placement, current_user, action == "approve")
                flash(_("Placement approved.") if action == "approve" else _("Placement declined."), "info")
            elif action == "goals":
                require(can_write_agreement(current_user, placement), 403)
                goals = [(request.form.get(f"goal-{n}"), request.form.get(f"outcome-{n}"))
                         for n in range(1, MAX_GOALS + 1)]
                save_agreement(placement, current_user, goals)
                flash(_("Goals sent to the mentor."), "info")
            elif action == "approve_agreement":
                require(can_approve_agreement(current_user, placement), 403)
                token = approve_agreement(current_agreement(placement), current_user)
                if mail_configured():
                    queue_link_email(placement.supervisor_email, _l("A learning agreement to agree"),
                                     _l("Open this link to read the trainee's goals and agree to them:"),
                                     url_for("placements.agree", token=token, _external=True))
                flash(_("Goals approved; the site supervisor agrees through the link below."), "info")
            elif action == "request_evaluation":
                require(can_approve_agreement(current_user, placement), 403)
                token = request_evaluation(placement, request.form.get("kind"), current_user)
                if mail_configured():
                    queue_link_email(placement.supervisor_email, _l("A trainee's evaluation to give"),
                                     _l("Open this link to evaluate the trainee's goals:"),
                                     url_for("placements.evaluate", token=token, _external=True))
                flash(_("Evaluation requested; the site supervisor gives it through the link below."), "info")
            elif action == "respond":
                evaluation = next((e for e in placement.evaluations if e.kind == request.form.get("kind")), None)
                require(evaluation is not None and can_respond_to_evaluation(current_user, evaluation), 403)
                respond_to_evaluation(evaluation, current_user, request.form.get("response"))
                flash(_("Response saved."), "info")
            else:
                abort(400)
            db.session.commit()
            return redirect(request.path)
        except (AgreementInvalid, EvaluationInvalid) as invalid:
            db.session.rollback()
            errors = invalid.errors
    taken = places_taken(placement.site, placement.starts_on, placement.ends_on)
    hours = placement_hours(placement)
    agreement = current_agreement(placement)
    link = url_for("placements.agree", token=agreement_token(agreement), _external=True) \
        if agreement is not None and agreement.nonce and can_approve_agreement(current_user, placement) else None
    return render_template("placements/placement.html", placement=placement, taken=taken, hours=hours,
                           approved=sum(row[1] for row in hours), logged=sum(row[2] for row in hours),
                           can_decide=can_decide_placement(current_user, placement), agreement=agreement,
                           outcomes=course_outcomes(placement), errors=errors, link=link,
                           values=request.form if errors else None, max_goals=MAX_GOALS,
                           can_write=can_write_agreement(current_user, placement),
                           can_approve=can_approve_agreement(current_user, placement),
                           evaluations=_evaluations(placement), levels=LEVEL_LABELS), 400 if errors else 200


def _evaluations(placement):
    """Per kind: (evaluation or None, the supervisor's link while it is open, for the staff to pass on)."""
    staff = can_approve_agreement(current_user, placement)
    found = {e.kind: e for e in placement.evaluations}
    return [(kind, found.get(kind), url_for("placements.evaluate", token=evaluation_token(found[kind]),
                                            _external=True) if staff and kind in found and found[kind].nonce else None)
            for kind in EVALUATION_KINDS]


@bp.route("/agreements/<token>", methods=["GET", "POST"])
@public
def agree(token):
    """The site supervisor reads the trainee's goals and agrees to them, without an account, once."""
    agreement = agreement_for_token(token)
    if agreement is None:
        return render_template("placements/agree_invalid.html"), 400
    errors = {}
    if request.method == "POST":
        try:
            agree_agreement(agreement, request.form.get("name"))
            db.session.commit()
            return render_template("placements/agree_done.html", agreement=agreement)
        except AgreementInvalid as invalid:
            db.session.rollback()
            errors = invalid.errors
    return render_template("placements/agree.html", agreement=agreement, errors=errors), 400 if errors else 200


@bp.route("/evaluations/<token>", methods=["GET", "POST"])
@public
def evaluate(token):
    """The site supervisor rates each agreed goal on four levels, without an account, once."""
    evaluation = evaluation_for_token(token)
    if evaluation is None:
        return render_template("placements/agree_invalid.html"), 400
    errors = {}
    if request.method == "POST":
        ratings = {goal.position: parse_whole_number(request.form.get(f"goal-{goal.position}"))
                   for goal in evaluation.agreement.goals}
        try:
            submit_evaluation(evaluation, ratings, request.form.get("strengths"), request.form.get("areas"),
                              request.form.get("recommendation"))
            db.session.commit()
            return render_template("placements/evaluate_done.html")
        except EvaluationInvalid as invalid:
            db.session.rollback()
            errors = invalid.errors
    return render_template("placements/evaluate.html", evaluation=evaluation, levels=LEVEL_LABELS, errors=errors,
                           values=request.form), 400 if errors else 200
