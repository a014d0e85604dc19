from datetime import timedelta
from pathlib import Path, PurePosixPath

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, load_only, undefer

from lms.certificates.services import certificates_of
from lms.clock import utcnow
from lms.curriculum.loader import COURSE_FILE_TYPES
from lms.curriculum.models import Assignment, Course, Module
from lms.extensions import db
from lms.grading.queue import waiting_by_age
from lms.grading.services import attempts_by_assignment, unseen_feedback
from lms.learning.services import (
    all_courses_with_counts,
    cohorts_of_mentor,
    courses_of_trainee,
    done_module_ids,
    mark_module_done,
    mark_module_not_done,
)
from lms.notifications.kinds import describe_html
from lms.notifications.services import latest_unread
from lms.permissions import can_track_progress, can_view_course, require, role_required, signed_in
from lms.schedule.agenda import falling_behind, mentor_sessions, trainee_deadlines, trainee_sessions, week_start
from lms.uploads import download_response

bp = Blueprint("learning", __name__)


def _course_or_404(slug):
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    require(course is not None and can_view_course(current_user, course))
    return course


def _module_list(course):
    """Titles and order of a course's modules, without their (large) bodies."""
    return db.session.scalars(
        select(Module).options(load_only(Module.id, Module.slug, Module.title, Module.position,
                                         Module.estimated_minutes, Module.outcomes))
        .where(Module.course_id == course.id).order_by(Module.position)).all()


@bp.route("/")
@signed_in
def dashboard():
    user = current_user
    now = utcnow()
    fortnight = now + timedelta(days=14)
    deadlines = [d for d in trainee_deadlines(user) if not d.handed_in and d.due_at < fortnight] \
        if user.is_trainee else []
    week, untaken = mentor_sessions(user, now, week_start(now) + timedelta(days=7)) if user.is_mentor else ([], [])
    return render_template(
        "learning/dashboard.html",
        progress=courses_of_trainee(user) if user.is_trainee else [],
        feedback=unseen_feedback(user) if user.is_trainee else [],
        certificates=certificates_of(user) if user.is_trainee else [],
        mentor_cohorts=cohorts_of_mentor(user) if user.is_mentor else [],
        waiting=waiting_by_age(user) if user.is_mentor else None,
        # Grades and waiting work have sections of their own on the page.
        news=[(n, describe_html(n.kind, n.params)) for n in latest_unread(user, (
            "announcements", "practice", "certificates", "schedule", "comments", "system"))]
        if user.unread_notifications else [],
        courses=all_courses_with_counts() if user.is_admin else [],
        deadlines=deadlines, now=now,
        sessions=trainee_sessions(user, now, fortnight) if user.is_trainee else [],
        mentor_week=week, attendance_due=untaken, behind=falling_behind(user) if user.is_mentor else [])


@bp.route("/courses/<course_slug>")
@signed_in
def course_page(course_slug):
    course = _course_or_404(course_slug)
    modules = _module_list(course)
    tracked = can_track_progress(current_user, course)
    done = done_module_ids(current_user, course) if tracked else set()
    return render_template("learning/course.html", course=course, modules=modules, tracked=tracked,
                           done=done)


@bp.route("/courses/<course_slug>/mentors-guide")
@role_required("mentor", "admin")
def mentors_guide(course_slug):
    """The guide holds anchor answers to the assignments: staff only."""
    course = db.session.scalar(select(Course).options(undefer(Course.staff_guide_html),
                                                      undefer(Course.staff_guide_toc_html))
                               .where(Course.slug == course_slug))
    require(course is not None and course.staff_guide_title)
    return render_template("learning/mentors_guide.html", course=course)


@bp.route("/courses/<course_slug>/files/<path:name>")
@signed_in
def course_file(course_slug, name):
    """A document a module offers (a consent form, a budget...), read from the course folder it was synced from."""
    course = _course_or_404(course_slug)
    offered = db.session.scalars(select(Module.files).where(Module.course_id == course.id)).all()
    require(any(f["name"] == name for files in offered for f in files))
    path = Path(current_app.config["LMS_COURSES_DIR"]) / course.slug / "files" / name
    require(path.is_file())
    return download_response(path.read_bytes(), COURSE_FILE_TYPES[path.suffix.lower()][2], PurePosixPath(name).name)


@bp.route("/courses/<course_slug>/<module_slug>")
@signed_in
def module_page(course_slug, module_slug):
    module = db.session.scalar(select(Module).join(Module.course).options(contains_eager(Module.course))
                               .where(Course.slug == course_slug, Module.slug == module_slug))
    require(module is not None and can_view_course(current_user, module.course))
    course = module.course
    pager = db.session.execute(select(Module.id, Module.slug, Module.title).where(Module.course_id == course.id)
                               .order_by(Module.position)).all()
    index = [row.id for row in pager].index(module.id)
    assignments = db.session.scalars(
        select(Assignment).where(Assignment.module_id == module.id, Assignment.retired.is_(False))
        .order_by(Assignment.position)).all()
    tracked = can_track_progress(current_user, course)
    done = done_module_ids(current_user, course) if tracked else set()
    work = attempts_by_assignment(current_user, assignments) if tracked else {}
    return render_template(
        "learning/module.html", course=course, module=module, assignments=assignments, tracked=tracked,
        work=work,
        is_done=module.id in done, previous=pager[index - 1] if index > 0 else None,
        next=pager[index + 1] if index + 1 < len(pager) else None)


@bp.route("/courses/<course_slug>/<module_slug>/progress", methods=["POST"])
@signed_in
def module_progress(course_slug, module_slug):
    course = _course_or_404(course_slug)
    module = db.session.scalar(select(Module).where(Module.course_id == course.id,
                                                    Module.slug == module_slug))
    require(module is not None)
    require(can_track_progress(current_user, course), 403)
    if request.form.get("done") == "1":
        mark_module_done(current_user, module)
        flash(_("Module marked as done."), "info")
    else:
        mark_module_not_done(current_user, module)
        flash(_("Module marked as not done."), "info")
    db.session.commit()
    return redirect(url_for("learning.module_page", course_slug=course.slug, module_slug=module.slug,
                            _anchor="progress"))
