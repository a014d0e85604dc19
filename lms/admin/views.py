
import csv
import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from lms.admin.imports import CsvImportError, import_trainees, parse_trainee_csv
from lms.admin.matrix import cohort_matrix
from lms.admin.personal_data import anonymise_user, export_personal_data
from lms.admin.services import AdminError, move_trainee, remove_mentor, set_user_active, set_user_roles, update_cohort
from lms.audit import AuditEvent, record_event
from lms.auth.models import ROLES, User, UserRole, find_user_by_email
from lms.auth.services import AccountError, create_user, set_password_url
from lms.clock import utc_bounds
from lms.curriculum.models import Course, Module
from lms.curriculum.services import sync_curriculum
from lms.extensions import db
from lms.inputs import FIRST_DATE, LAST_DATE, parse_date, search_term, whole_number
from lms.labels import STATUS_LABELS
from lms.learning.models import Cohort, Enrolment
from lms.learning.services import LearningError, assign_mentor, create_cohort, enrol_trainee
from lms.mail import mail_configured
from lms.notifications.services import queue_link_email
from lms.permissions import can_view_cohort, require, role_required
from lms.practice.export import csv_safe
from lms.practice.models import SITE_KINDS, PracticeSite
from lms.practice.services import PracticeError, save_practice_site
from lms.practice.summary import practice_summaries
from lms.uploads import download_response

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 50


def _date(value):
    """An optional date field: None when empty, AdminError when it is not a date the programme can mean."""
    if not (value or "").strip():
        return None
    day = parse_date(value)
    if day is None:
        raise AdminError(_("Enter dates as YYYY-MM-DD, from %(first)s to %(last)s.", first=FIRST_DATE.year,
                           last=LAST_DATE.year))
    return day


# --- users ------------------------------------------------------------------------------------

def queue_invitation(user, link):
    queue_link_email(user.email, _l("Your account in the community manager school"),
                     _l("Open this link within 7 days to set your password:"), link, user=user)


@bp.route("/users")
@role_required("admin")
def users():
    query = select(User).order_by(User.name)
    search = search_term(request.args.get("q"), User.email)
    role = request.args.get("role")
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(or_(func.lower(User.name).like(pattern), User.email.like(pattern)))
    if role in ROLES:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    page = max(1, request.args.get("page", 1, type=whole_number))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    found = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("admin/users.html", users=found, search=search, role=role, roles=ROLES, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), total=total)


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def invite_user():
    """Create an account and show the one-time link to set a password (no mail server is configured)."""
    error, link = None, None
    if request.method == "POST":
        try:
            user = create_user(request.form.get("email"), request.form.get("name"), request.form.getlist("roles"),
                               actor=current_user)
            link = set_password_url(user)
            if mail_configured():
                queue_invitation(user, link)
                flash(_("Account created; the invitation was e-mailed to %(email)s.", email=user.email), "info")
                link = None
            else:
                flash(_("Account created for %(email)s. Pass this link on: it sets the password, once, within 7 "
                        "days.", email=user.email), "info")
            db.session.commit()
        except AccountError as account_error:
            db.session.rollback()
            error = str(account_error)
    return render_template("admin/invite.html", roles=ROLES, error=error, link=link,
                           form=request.form if error else {}), 400 if error else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def user_page(user_id):
    user = db.session.get(User, user_id)
    require(user is not None)
    link = None
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "roles":
                set_user_roles(user, request.form.getlist("roles"), current_user)
                flash(_("Roles saved."), "info")
            elif action in ("deactivate", "activate"):
                set_user_active(user, action == "activate", current_user)
                flash(_("Account reactivated.") if action == "activate" else _("Account deactivated."), "info")
            elif action == "reset":
                link = set_password_url(user)
                if mail_configured():
                    queue_invitation(user, link)
                    flash(_("A new link to set the password was e-mailed to %(email)s.", email=user.email), "info")
                    link = None
            elif action == "export":
                archive = export_personal_data(user, current_user)
                db.session.commit()
                return download_response(archive, "application/zip", f"personal-data-{user.id}.zip")
            elif action == "anonymise":
                if request.form.get("confirm") != "yes":
                    raise AdminError(_("Tick the box to confirm: anonymising cannot be undone."))
                if user.id == current_user.id:
                    raise AdminError(_("You cannot anonymise yourself."))
                anonymise_user(user, current_user)
                flash(_("The user is anonymised; grades, hours and certificates stay."), "info")
            else:
                abort(400)
            db.session.commit()
        except AdminError as admin_error:
            db.session.rollback()
            flash(str(admin_error), "error")
        if link is None:
            return redirect(request.path)
    cohorts = db.session.scalars(select(Cohort).join(Enrolment).where(Enrolment.trainee_id == user.id)).all()
    return render_template("admin/user.html", user=user, roles=ROLES, link=link, cohorts=cohorts,
                           mail=mail_configured())


# --- cohorts ----------------------------------------------------------------------------------

@bp.route("/cohorts", methods=["GET", "POST"])
@role_required("admin")
def cohorts():
    error = None
    courses = db.session.scalars(select(Course).order_by(Course.title)).all()
    if request.method == "POST":
        course = db.session.get(Course, request.form.get("course", type=whole_number) or 0)
        try:
            if course is None:
                raise AdminError(_("Choose a course."))
            cohort = create_cohort(course, request.form.get("name"), actor=current_user,
                                   starts_on=_date(request.form.get("starts_on")),
                                   ends_on=_date(request.form.get("ends_on")))
            db.session.commit()
            return redirect(url_for("admin.cohort_page", cohort_id=cohort.id))
        except (AdminError, LearningError) as cohort_error:
            db.session.rollback()
            error = str(cohort_error)
    counts = dict(db.session.execute(select(Enrolment.cohort_id, func.count()).group_by(Enrolment.cohort_id)).all())
    rows = db.session.scalars(select(Cohort).options(selectinload(Cohort.course)).order_by(Cohort.name)).all()
    return render_template("admin/cohorts.html", cohorts=rows, counts=counts, courses=courses, error=error,
                           form=request.form if error else {}), 400 if error else 200


@bp.route("/cohorts/<int:cohort_id>", methods=["GET", "POST"])
@role_required("admin", "mentor")
def cohort_page(cohort_id):
    """The cohort's progress matrix (admins and the cohort's mentors) and, for admins, its settings."""
    cohort = db.session.get(Cohort, cohort_id, options=[
        joinedload(Cohort.course), joinedload(Cohort.mentors).lazyload(User.role_rows)])
    require(cohort is not None and can_view_cohort(current_user, cohort))
    if request.method == "POST":
        require(current_user.is_admin, 403)
        _change_cohort(cohort)
        return redirect(request.path)
    matrix = cohort_matrix(cohort, sort=request.args.get("sort", "name"))
    others = db.session.scalars(select(Cohort).where(Cohort.course_id == cohort.course_id, Cohort.id != cohort.id)
                                .order_by(Cohort.name)).all() if current_user.is_admin else []
    return render_template("admin/cohort.html", cohort=cohort, matrix=matrix, others=others,
                           sort=request.args.get("sort", "name"), cells=_matrix_cells(matrix))


@bp.route("/cohorts/<int:cohort_id>/matrix.csv")
@role_required("admin", "mentor")
def cohort_matrix_csv(cohort_id):
    """The progress matrix as the page shows it, one row per trainee, in the reader's language."""
    cohort = db.session.get(Cohort, cohort_id, options=[joinedload(Cohort.course)])
    require(cohort is not None and can_view_cohort(current_user, cohort))
    matrix = cohort_matrix(cohort)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Trainee"), _("E-mail")] + [_("M%(n)d", n=m.position) for m in matrix.modules]
                    + [a.title for a in matrix.assignments]
                    + [_("Practice, h"), _("Attendance"), _("Posts"), _("Certificate")])
    for row in matrix.rows:
        cells = [_("read") if done else "" for done in row.read]
        cells += ["" if at is None else " ".join(filter(None, (
            str(STATUS_LABELS.get(at.status, at.status)), f"({at.score})" if at.score is not None else "",
            _("late") if at.late else ""))) for at in row.cells]
        certificate = row.certificate.short_code if row.certificate else (
            _("eligible") if row.eligibility.eligible else "")
        writer.writerow([csv_safe(value) for value in [
            row.trainee.name, row.trainee.email, *cells, round(row.eligibility.approved_hours, 1),
            f"{row.attendance_share}%" if row.attendance_share is not None else "", row.posts, certificate]])
    return download_response("\ufeff" + buffer.getvalue(), "text/csv", f"matrix-cohort-{cohort.id}.csv")


def _matrix_cells(matrix):
    """{trainee id: the row's module and assignment cells as HTML}. 300 trainees × 60 modules and 60 assignments
    are 36,000 cells: joined here in 10 ms, where the template's loops took 100 ms."""
    read, unread, none = "<td>✓</td>", "<td></td>", '<td class="status-none"></td>'
    late = f' <small class="status-late">{escape(_("late"))}</small>'
    opening = {}  # per status, translated once rather than once a cell
    cells = {}
    for row in matrix.rows:
        html = [read if done else unread for done in row.read]
        for at in row.cells:
            if at is None:
                html.append(none)
                continue
            if at.status not in opening:
                label = STATUS_LABELS.get(at.status, at.status)
                opening[at.status] = f'<td class="status-{escape(at.status)}">{escape(str(label))}'
            score = f" ({at.score})" if at.score is not None else ""
            html.append(f"{opening[at.status]}{score}{late if at.late else ''}</td>")
        cells[row.trainee.id] = Markup("".join(html))
    return cells


def _change_cohort(cohort):
    action = request.form.get("action")
    try:
        if action == "settings":
            update_cohort(cohort, current_user, request.form.get("name"), _date(request.form.get("starts_on")),
                          _date(request.form.get("ends_on")))
        elif action in ("enrol", "mentor"):
            user = find_user_by_email(request.form.get("email"))
            if user is None:
                raise AdminError(_("No user has this e-mail."))
            (enrol_trainee if action == "enrol" else assign_mentor)(cohort, user, actor=current_user)
        elif action == "remove_mentor":
            mentor = db.session.get(User, request.form.get("user", type=whole_number) or 0)
            require(mentor is not None)
            remove_mentor(cohort, mentor, current_user)
        elif action == "move":
            trainee = db.session.get(User, request.form.get("user", type=whole_number) or 0)
            target = db.session.get(Cohort, request.form.get("target", type=whole_number) or 0)
            require(trainee is not None and target is not None)
            move_trainee(trainee, target, current_user)
        else:
            abort(400)
        db.session.commit()
        flash(_("Saved."), "info")
    except (AdminError, LearningError) as error:
        db.session.rollback()
        flash(str(error), "error")


@bp.route("/cohorts/<int:cohort_id>/trainees/<int:trainee_id>")
@role_required("admin", "mentor")
def trainee_record(cohort_id, trainee_id):
    """Everything about one trainee of a cohort on one page."""
    cohort = db.session.get(Cohort, cohort_id, options=[joinedload(Cohort.course)])
    require(cohort is not None and can_view_cohort(current_user, cohort))
    # The summary has the approved practice the matrix needs for eligibility: one query less.
    summary = practice_summaries(trainee_id, [cohort.course])[cohort.course_id]
    matrix = cohort_matrix(cohort, trainee_ids=[trainee_id],
                           practice={trainee_id: (summary.approved_minutes, len(summary.by_activity))})
    require(bool(matrix.rows))
    row = matrix.rows[0]
    return render_template("admin/trainee.html", cohort=cohort, trainee=row.trainee, matrix=matrix, row=row,
                           summary=summary, certificates=row.certificates)


@bp.route("/cohorts/<int:cohort_id>/import", methods=["GET", "POST"])
@role_required("admin")
def import_cohort(cohort_id):
    """Upload a CSV of trainees, see what would happen to each row, then import all rows at once."""
    cohort = db.session.get(Cohort, cohort_id)
    require(cohort is not None)
    rows, error, created = None, None, None
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read() if upload and upload.filename else request.form.get("content", "").encode()
        try:
            if not data:
                raise CsvImportError(_("Choose a CSV file."))
            rows = parse_trainee_csv(data, cohort)
            if request.form.get("action") == "import":
                created = import_trainees(cohort, rows, current_user)
                db.session.commit()
                flash(_("Imported: %(n)d rows.", n=sum(1 for r in rows if r.action in ("create", "enrol"))), "info")
                created = [(user, set_password_url(user)) for user in created]
                rows = None
        except CsvImportError as import_error:
            db.session.rollback()
            error = str(import_error)
        content = data.decode("utf-8-sig", errors="replace") if rows else ""
    else:
        content = ""
    return render_template("admin/import.html", cohort=cohort, rows=rows, error=error, created=created,
                           content=content), 400 if error else 200


# --- curriculum -------------------------------------------------------------------------------

@bp.route("/curriculum", methods=["GET", "POST"])
@role_required("admin")
def curriculum():
    """The synced version of each course; check or sync courses/ from the browser, as the CLI does."""
    result, checked = None, False
    if request.method == "POST":
        checked = request.form.get("action") == "check"
        lines = []
        result = sync_curriculum(current_app.config["LMS_COURSES_DIR"], progress=lines.append)
        if result.ok and not checked:
            db.session.commit()
            record_event(current_user, "curriculum.sync", ("courses", None), changed=result.changed)
            db.session.commit()
        else:
            db.session.rollback()
        result.lines = lines
    courses = db.session.execute(select(Course, func.count(Module.id)).outerjoin(Module)
                                 .group_by(Course.id).order_by(Course.title)).all()
    return render_template("admin/curriculum.html", courses=courses, result=result, checked=checked)


# --- audit log --------------------------------------------------------------------------------

@bp.route("/audit")
@role_required("admin")
def audit_log():
    query = select(AuditEvent).options(selectinload(AuditEvent.actor)).order_by(AuditEvent.id.desc())
    actor = search_term(request.args.get("actor"), User.email)
    action = search_term(request.args.get("action"), AuditEvent.action)
    object_type = search_term(request.args.get("object"), AuditEvent.object_type)
    if actor:
        query = query.where(AuditEvent.actor_id.in_(select(User.id).where(User.email.like(f"%{actor.lower()}%"))))
    if action:
        query = query.where(AuditEvent.action.like(f"{action}%"))
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    try:
        since, until = _date(request.args.get("since")), _date(request.args.get("until"))
    except AdminError as error:
        flash(str(error), "error")
        since = until = None
    if since:
        query = query.where(AuditEvent.at >= utc_bounds(since, since)[0])
    if until:
        query = query.where(AuditEvent.at < utc_bounds(until, until)[1])
    before = request.args.get("before", type=whole_number)
    if before:
        query = query.where(AuditEvent.id < before)
    events = db.session.scalars(query.limit(PAGE_SIZE + 1)).all()
    older = {**request.args.to_dict(), "before": events[PAGE_SIZE - 1].id} if len(events) > PAGE_SIZE else None
    return render_template("admin/audit.html", events=events[:PAGE_SIZE], older=older, args=request.args)


# --- practice sites ---------------------------------------------------------------------------

@bp.route("/practice-sites", methods=["GET", "POST"])
@role_required("admin")
def practice_sites():
    """The pilot centre and partner organisations; a new one is added from the same page."""
    error = None
    if request.method == "POST":
        try:
            save_practice_site(current_user, **_site_fields(request.form))
            db.session.commit()
            flash(_("Site added."), "info")
            return redirect(url_for("admin.practice_sites"))
        except PracticeError as practice_error:
            db.session.rollback()
            error = str(practice_error)
    sites = db.session.scalars(select(PracticeSite).order_by(PracticeSite.active.desc(), PracticeSite.name)).all()
    return render_template("admin/practice_sites.html", sites=sites, site=None, kinds=SITE_KINDS, error=error,
                           form=request.form), 400 if error else 200


@bp.route("/practice-sites/<int:site_id>", methods=["GET", "POST"])
@role_required("admin")
def practice_site(site_id):
    site = db.session.get(PracticeSite, site_id)
    require(site is not None)
    error = None
    if request.method == "POST":
        try:
            save_practice_site(current_user, site=site, **_site_fields(request.form))
            db.session.commit()
            flash(_("Site saved."), "info")
            return redirect(url_for("admin.practice_sites"))
        except PracticeError as practice_error:
            db.session.rollback()
            error = str(practice_error)
    return render_template("admin/practice_site.html", site=site, kinds=SITE_KINDS, error=error,
                           form=request.form if error else None), 400 if error else 200


def _site_fields(form):
    return {"name": form.get("name", ""), "kind": form.get("kind", ""), "address": form.get("address", ""),
            "contact_name": form.get("contact_name", ""), "contact_email": form.get("contact_email", ""),
            "active": form.get("active") == "1"}
