from datetime import timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, lazyload

from lms.auth.models import User
from lms.clock import utcnow
from lms.curriculum.models import Assignment, Module
from lms.extensions import db
from lms.i18n import content_sentence, content_text
from lms.inputs import parse_date, parse_time, parse_whole_number, whole_number
from lms.learning.models import Cohort, Enrolment
from lms.permissions import can_manage_schedule, can_view_session, public, require, signed_in
from lms.practice.models import PracticeSite
from lms.schedule.agenda import cohorts_of, sessions_of, trainee_deadlines, week_start
from lms.schedule.deadlines import cohort_deadlines
from lms.schedule.feed import calendar_feed
from lms.schedule.kinds import SESSION_KINDS
from lms.schedule.models import ATTENDANCE, Attendance, CohortSession
from lms.schedule.services import (
    REPEATS,
    ScheduleInvalid,
    SessionData,
    cancel_session,
    grant_extension,
    local_parts,
    module_choices,
    plan_sessions,
    record_attendance,
    renew_calendar_token,
    schedule_course_plan,
    schedule_sessions,
    set_cohort_deadline,
    update_session,
)

bp = Blueprint("schedule", __name__)


def _session_data(form, cohort):
    site = db.session.get(PracticeSite, form.get("site", type=whole_number) or 0)
    module_id = form.get("module", type=whole_number)
    module = db.session.get(Module, module_id) if module_id else None
    return SessionData(kind=form.get("kind", ""), title=form.get("title", ""), day=parse_date(form.get("day")),
                       start=parse_time(form.get("start")), end=parse_time(form.get("end")), site=site,
                       place=form.get("place", ""), online_url=form.get("online_url", ""), module=module,
                       note=form.get("note", ""))


def _session_values(session):
    day, start = local_parts(session.starts_at)
    _day, end = local_parts(session.ends_at)
    return {"kind": session.kind, "title": session.title, "day": day.isoformat(), "start": start.strftime("%H:%M"),
            "end": end.strftime("%H:%M"), "site": str(session.site_id or ""), "place": session.place,
            "online_url": session.online_url, "module": str(session.module_id or ""), "note": session.note}


def _choices(cohort):
    sites = db.session.scalars(select(PracticeSite).where(PracticeSite.active.is_(True))
                               .order_by(PracticeSite.name)).all()
    return {"kinds": SESSION_KINDS, "sites": sites, "modules": module_choices(cohort), "repeats": REPEATS}


def _managed_cohort(cohort_id):
    cohort = db.session.get(Cohort, cohort_id, options=[joinedload(Cohort.course)])
    require(cohort is not None and can_manage_schedule(current_user, cohort))
    return cohort


@bp.route("/cohorts/<int:cohort_id>/sessions/new", methods=["GET", "POST"])
@signed_in
def new_session(cohort_id):
    """Schedule one session, or a weekly or fortnightly series (each then editable on its own page)."""
    cohort = _managed_cohort(cohort_id)
    errors, values = {}, {}
    if request.method == "POST":
        try:
            sessions = schedule_sessions(cohort, current_user, _session_data(request.form, cohort),
                                         request.form.get("repeat", "none"),
                                         request.form.get("count", type=whole_number))
            db.session.commit()
            flash(_("Sessions scheduled: %(n)d.", n=len(sessions)), "info")
            return redirect(url_for("schedule.cohort_schedule", cohort_id=cohort.id))
        except ScheduleInvalid as invalid:
            db.session.rollback()
            errors, values = invalid.errors, request.form
    return render_template("schedule/new_session.html", cohort=cohort, errors=errors, values=values,
                           **_choices(cohort)), 400 if errors else 200


@bp.route("/cohorts/<int:cohort_id>/schedule/plan", methods=["GET", "POST"])
@signed_in
def course_plan(cohort_id):
    """The course's plan of sessions on the cohort's dates: shown first, made on confirmation."""
    cohort = _managed_cohort(cohort_id)
    error = None
    try:
        if request.method == "POST":
            sessions = schedule_course_plan(cohort, current_user)
            db.session.commit()
            flash(_("Sessions scheduled: %(n)d.", n=len(sessions)), "info")
            return redirect(url_for("schedule.cohort_schedule", cohort_id=cohort.id))
        planned = plan_sessions(cohort)
    except ScheduleInvalid as invalid:
        db.session.rollback()
        error, planned = invalid.errors["plan"], []
    existing = db.session.scalar(select(func.count()).select_from(CohortSession).where(
        CohortSession.cohort_id == cohort.id, CohortSession.cancelled_at.is_(None)))
    return render_template("schedule/plan.html", cohort=cohort, planned=planned, error=error,
                           existing=existing), 400 if error else 200


@bp.route("/cohorts/<int:cohort_id>/schedule", methods=["GET", "POST"])
@signed_in
def cohort_schedule(cohort_id):
    """The cohort's sessions and due dates; administrators change due dates, mentors give extensions."""
    cohort = _managed_cohort(cohort_id)
    errors, values = {}, {}
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "deadline":
                require(current_user.is_admin, 403)
                assignment = _assignment_of(cohort, request.form.get("assignment", type=whole_number))
                due, cutoff = request.form.get("due", ""), request.form.get("cutoff", "")
                if (due and parse_date(due) is None) or (cutoff and parse_date(cutoff) is None):
                    raise ScheduleInvalid({"due": _("Enter the date as YYYY-MM-DD.")})
                set_cohort_deadline(cohort, assignment, current_user, parse_date(due), parse_date(cutoff))
                db.session.commit()
                flash(_("Due date saved."), "info")
            elif action == "extension":
                assignment = _assignment_of(cohort, request.form.get("assignment", type=whole_number))
                trainee = db.session.get(User, request.form.get("trainee", type=whole_number) or 0)
                require(trainee is not None and _in_cohort(cohort, trainee))
                grant_extension(trainee, assignment, current_user, parse_date(request.form.get("due")),
                                request.form.get("reason"))
                db.session.commit()
                flash(content_sentence(_("Extension given to %(name)s."), name=content_text(trainee.name)), "info")
            else:
                require(False, 400)
            return redirect(request.path + ("#extension" if action == "extension" else "#deadlines"))
        except ScheduleInvalid as invalid:
            db.session.rollback()
            errors, values = invalid.errors, request.form
    now = utcnow()
    sessions = sessions_of([cohort.id], since=now - timedelta(days=30))
    assignments = db.session.scalars(select(Assignment).join(Module).where(
        Assignment.course_id == cohort.course_id, Assignment.retired.is_(False))
        .order_by(Module.position, Assignment.position)).all()
    trainees = db.session.scalars(select(User).options(lazyload(User.role_rows))
                                  .join(Enrolment, Enrolment.trainee_id == User.id)
                                  .where(Enrolment.cohort_id == cohort.id).order_by(User.name)).all()
    return render_template("schedule/cohort.html", cohort=cohort, sessions=sessions, errors=errors, values=values,
                           assignments=assignments, deadlines=cohort_deadlines(cohort, assignments),
                           trainees=trainees), 400 if errors else 200


def _assignment_of(cohort, assignment_id):
    assignment = db.session.get(Assignment, assignment_id or 0)
    require(assignment is not None and assignment.course_id == cohort.course_id)
    return assignment


def _in_cohort(cohort, trainee):
    return db.session.scalar(select(exists().where(Enrolment.cohort_id == cohort.id,
                                                   Enrolment.trainee_id == trainee.id)))


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
@signed_in
def session_page(session_id):
    session = db.session.get(CohortSession, session_id, options=[joinedload(CohortSession.cohort)])
    require(session is not None and can_view_session(current_user, session))
    manager = can_manage_schedule(current_user, session.cohort)
    errors, values = {}, None
    if request.method == "POST":
        require(manager, 403)
        action = request.form.get("action")
        try:
            if action == "update":
                update_session(session, current_user, _session_data(request.form, session.cohort))
                flash(_("Session saved; the cohort is told."), "info")
            elif action == "cancel":
                cancel_session(session, current_user)
                flash(_("Session cancelled; the cohort is told."), "info")
            elif action == "attendance":
                marks = {}
                for key, status in request.form.items():
                    if key.startswith("t-") and status:
                        trainee_id = parse_whole_number(key[2:])
                        marks[trainee_id if trainee_id is not None else -1] = status
                record_attendance(session, current_user, marks)
                flash(_("Attendance saved."), "info")
            else:
                require(False, 400)
            db.session.commit()
            return redirect(request.path + ("#attendance" if action == "attendance" else ""))
        except ScheduleInvalid as invalid:
            db.session.rollback()
            errors, values = invalid.errors, request.form
    trainees = db.session.scalars(select(User).options(lazyload(User.role_rows))
                                  .join(Enrolment, Enrolment.trainee_id == User.id)
                                  .where(Enrolment.cohort_id == session.cohort_id).order_by(User.name)).all() \
        if manager else []
    marks = {a.trainee_id: a.status for a in db.session.scalars(select(Attendance).where(
        Attendance.session_id == session.id, *([] if manager else [Attendance.trainee_id == current_user.id])))}
    return render_template("schedule/session.html", session=session, manager=manager, trainees=trainees,
                           marks=marks, statuses=ATTENDANCE, errors=errors,
                           values=values or (_session_values(session) if manager else {}),
                           begun=session.starts_at <= utcnow(),
                           end_time=local_parts(session.ends_at)[1].strftime("%H:%M"),
                           **(_choices(session.cohort) if manager else {})), 400 if errors else 200


@bp.route("/calendar")
@signed_in
def agenda():
    """This week, the weeks ahead and the recent past, phone-first and without JavaScript."""
    now = utcnow()
    cohorts = cohorts_of(current_user)
    sessions = sessions_of([c.id for c in cohorts], since=now - timedelta(days=28), until=now + timedelta(days=84))
    deadlines = trainee_deadlines(current_user) if current_user.is_trainee else []
    events = sorted([("session", s.starts_at, s) for s in sessions] +
                    [("deadline", d.due_at, d) for d in deadlines if now - timedelta(days=28) <= d.due_at],
                    key=lambda e: e[1])
    this_week = week_start(now) + timedelta(days=7)
    groups = {"past": [e for e in events if e[1] < now],
              "week": [e for e in events if now <= e[1] < this_week],
              "later": [e for e in events if e[1] >= this_week]}
    feed = url_for("schedule.feed", token=current_user.calendar_token, _external=True) \
        if current_user.calendar_token else None
    return render_template("schedule/agenda.html", groups=groups, feed=feed, cohorts=cohorts, now=now)


@bp.route("/calendar/renew", methods=["POST"])
@signed_in
def renew_feed():
    renew_calendar_token(current_user)
    db.session.commit()
    flash(_("Your calendar has a new address; the old one no longer works."), "info")
    return redirect(url_for("schedule.agenda"))


@bp.route("/calendar/<token>.ics")
@public
def feed(token):
    user = db.session.scalar(select(User).where(User.calendar_token == token)) if len(token) <= 40 else None
    require(user is not None and user.active)
    response = Response(calendar_feed(user), mimetype="text/calendar")
    response.headers["Content-Disposition"] = "inline; filename=calendar.ics"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
