

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import joinedload, selectinload

from lms.admin.audit_log import KIND_LABELS, action_label, describe_objects, details_text
from lms.admin.imports import CsvImportError, import_trainees, parse_trainee_csv
from lms.admin.matrix import cohort_matrix
from lms.admin.personal_data import anonymise_user, export_personal_data
from lms.admin.services import AdminError, move_trainee, remove_mentor, set_user_active, set_user_roles, update_cohort
from lms.audit import AuditEvent, record_event
from lms.auth.models import ROLES, User, UserRole, find_user_by_email
from lms.auth.services import (
    AccountError,
    create_user,
    current_password_link,
    issue_password_link,
    password_link_expires_at,
    update_user,
)
from lms.clock import utc_bounds
from lms.curriculum.models import Course, Module
from lms.curriculum.services import sync_curriculum
from lms.extensions import db
from lms.i18n import plain_text
from lms.inputs import FIRST_DATE, LAST_DATE, parse_date, search_term, whole_number
from lms.labels import STATUS_LABELS
from lms.learning.models import Cohort, CohortMentor, Enrolment
from lms.learning.services import LearningError, assign_mentor, create_cohort, enrol_trainee
from lms.mail import mail_configured
from lms.notifications.services import queue_link_email
from lms.permissions import can_view_cohort, load_cohort, mentors_cohort, require, role_required
from lms.practice.models import PracticeEntry
from lms.practice.summary import practice_summaries
from lms.schedule.agenda import behind_in
from lms.spreadsheets import csv_download, import_upload, xlsx_download
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

USER_STATUSES = (("never", _l("has not signed in yet")), ("no-password", _l("has no password yet")),
                 ("deactivated", _l("deactivated")))


def queue_invitation(user, link):
    queue_link_email(user.email, _l("Your account in the community manager school"),
                     _l("Open this link within 7 days to set your password:"), link, user=user)


@bp.route("/users")
@role_required("admin")
def users():
    query = select(User).order_by(User.name)
    search = search_term(request.args.get("q"), User.email)
    role = request.args.get("role")
    status = request.args.get("status")
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(or_(func.lower(User.name).like(pattern), User.email.like(pattern)))
    if role in ROLES:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    if status == "never":
        query = query.where(User.last_login_at.is_(None))
    elif status == "no-password":
        query = query.where(User.password_hash.is_(None))
    elif status == "deactivated":
        query = query.where(User.active.is_(False))
    else:
        status = None
    page = max(1, request.args.get("page", 1, type=whole_number))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    found = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("admin/users.html", users=found, search=search, role=role, roles=ROLES, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), total=total, status=status,
                           statuses=USER_STATUSES)


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def invite_user():
    """Create an account; the link to set a password is e-mailed when mail is configured, and stays on the
    person's page, to copy, until it is used or expires."""
    error = error_field = None
    if request.method == "POST":
        try:
            user = create_user(request.form.get("email"), request.form.get("name"), request.form.getlist("roles"),
                               actor=current_user)
            link = issue_password_link(user)
            if mail_configured():
                queue_invitation(user, link)
                flash(_("Account created; the invitation was e-mailed to %(email)s.", email=user.email), "info")
            else:
                flash(_("Account created for %(email)s. Pass the link below on: it sets the password, once, "
                        "within 7 days.", email=user.email), "info")
            db.session.commit()
            return redirect(url_for("admin.user_page", user_id=user.id))
        except AccountError as account_error:
            db.session.rollback()
            error, error_field = str(account_error), account_error.field
    return render_template("admin/invite.html", roles=ROLES, error=error, error_field=error_field,
                           form=request.form if error else {}), 400 if error else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def user_page(user_id):
    user = db.session.get(User, user_id)
    require(user is not None)
    errors, form = {}, {}
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "profile":
                form = request.form
                if update_user(user, request.form.get("name"), request.form.get("email"), current_user):
                    flash(_("Name and e-mail saved."), "info")
            elif action == "roles":
                set_user_roles(user, request.form.getlist("roles"), current_user)
                flash(_("Roles saved."), "info")
            elif action in ("deactivate", "activate"):
                set_user_active(user, action == "activate", current_user)
                flash(_("Account reactivated.") if action == "activate" else _("Account deactivated."), "info")
            elif action == "reset":
                link = issue_password_link(user)
                record_event(current_user, "user.new_password_link", user)
                if mail_configured():
                    queue_invitation(user, link)
                    flash(_("A new link to set the password was e-mailed to %(email)s; the old one no longer "
                            "works.", email=user.email), "info")
                else:
                    flash(_("A new link to set the password is below; the old one no longer works."), "info")
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
            return redirect(request.path)
        except AccountError as account_error:
            db.session.rollback()
            errors["profile"], errors["profile_field"] = str(account_error), account_error.field
        except AdminError as admin_error:
            db.session.rollback()
            flash(str(admin_error), "error")
            return redirect(request.path)
    cohorts = db.session.scalars(select(Cohort).join(Enrolment).where(Enrolment.trainee_id == user.id)).all()
    return render_template("admin/user.html", user=user, roles=ROLES, cohorts=cohorts, mail=mail_configured(),
                           link=current_password_link(user),
                           link_expires=password_link_expires_at(user), errors=errors,
                           form=form), 400 if errors else 200


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


MATRIX_FILTERS = (("all", _l("everyone")), ("behind", _l("falling behind")), ("waiting", _l("work waiting for a mentor")),
                  ("returned", _l("work returned for revision")), ("eligible", _l("eligible for the certificate")),
                  ("not-eligible", _l("not yet eligible")))
COMPACT_MARKS = {"passed": "✓", "approved": "✓", "failed": "✗", "returned": "↩", "submitted": "●"}


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
    sort = request.args.get("sort", "name")
    show = request.args.get("show", "all")
    compact = request.args.get("view") == "compact"
    matrix = _filtered_matrix(cohort, sort, show)
    cohorts = _viewable_cohorts()
    others = [c for c in cohorts if c.course_id == cohort.course_id and c.id != cohort.id] \
        if current_user.is_admin else []
    return render_template("admin/cohort.html", cohort=cohort, matrix=matrix, others=others, sort=sort, show=show,
                           compact=compact, filters=MATRIX_FILTERS, cohorts=cohorts,
                           cells=_matrix_cells(matrix, cohort, compact))


def _viewable_cohorts():
    query = select(Cohort).order_by(Cohort.name)
    if not current_user.is_admin:
        query = query.join(CohortMentor).where(CohortMentor.mentor_id == current_user.id)
    return db.session.scalars(query).all()


def _filtered_matrix(cohort, sort="name", show="all"):
    """The matrix with only the rows the filter keeps (all of them for an unknown filter)."""
    matrix = cohort_matrix(cohort, sort=sort)
    keep = None
    if show == "behind":
        behind = {item.trainee.id for item in behind_in(select(literal(cohort.id)))}
        keep = lambda row: row.trainee.id in behind  # noqa: E731
    elif show in ("waiting", "returned"):
        status = "submitted" if show == "waiting" else "returned"
        keep = lambda row: any(at is not None and at.status == status for at in row.cells)  # noqa: E731
    elif show in ("eligible", "not-eligible"):
        keep = lambda row: row.eligibility.eligible == (show == "eligible")  # noqa: E731
    if keep is not None:
        matrix.rows = [row for row in matrix.rows if keep(row)]
    return matrix


@bp.route("/matrix")
@role_required("admin", "mentor")
def choose_matrix():
    """The cohort chooser of the matrix page: a form cannot put the chosen cohort in the path by itself."""
    cohort = db.session.get(Cohort, request.args.get("cohort", type=whole_number) or 0)
    require(cohort is not None and can_view_cohort(current_user, cohort))
    kept = {key: request.args[key] for key in ("sort", "show", "view") if request.args.get(key)}
    return redirect(url_for("admin.cohort_page", cohort_id=cohort.id, **kept))


def matrix_table(matrix):
    """The matrix as rows of a spreadsheet, the page's columns in the reader's language, numbers as numbers: for
    each assignment its status and, beside it, its score."""
    header = [_("Trainee"), _("E-mail")] + [_("M%(n)d", n=m.position) for m in matrix.modules]
    for label, a in zip(matrix.assignment_labels, matrix.assignments):
        header += [f"{label} {a.title}", _("%(label)s score", label=label)]
    header += [_("Practice, h"), _("Attendance, %"), _("Posts"), _("Certificate")]
    rows = [header]
    for row in matrix.rows:
        cells = [_("read") if done else "" for done in row.read]
        for at in row.cells:
            cells += ["", None] if at is None else [
                str(STATUS_LABELS.get(at.status, at.status)) + (" · " + _("late") if at.late else ""), at.score]
        certificate = row.certificate.short_code if row.certificate else (
            _("eligible") if row.eligibility.eligible else "")
        rows.append([row.trainee.name, row.trainee.email, *cells, round(float(row.eligibility.approved_hours), 1),
                     row.attendance_share, row.posts, certificate])
    return rows


@bp.route("/cohorts/<int:cohort_id>/matrix.csv", defaults={"kind": "csv"})
@bp.route("/cohorts/<int:cohort_id>/matrix.xlsx", defaults={"kind": "xlsx"})
@role_required("admin", "mentor")
def cohort_matrix_download(cohort_id, kind):
    """The progress matrix as the page shows it (with its filter), one row per trainee."""
    cohort = db.session.get(Cohort, cohort_id, options=[joinedload(Cohort.course)])
    require(cohort is not None and can_view_cohort(current_user, cohort))
    rows = matrix_table(_filtered_matrix(cohort, request.args.get("sort", "name"), request.args.get("show", "all")))
    if kind == "csv":
        return csv_download(rows, f"matrix-cohort-{cohort.id}.csv")
    return xlsx_download([(cohort.name, rows, 1)], f"matrix-cohort-{cohort.id}.xlsx")


@bp.route("/cohorts/matrix.xlsx")
@role_required("admin", "mentor")
def all_matrices_xlsx():
    """Every cohort the reader sees in one workbook, a sheet per cohort."""
    sheets = [(cohort.name, matrix_table(cohort_matrix(cohort)), 1) for cohort in _viewable_cohorts()]
    return xlsx_download(sheets, "matrix.xlsx")


def _matrix_cells(matrix, cohort, compact=False):
    """{trainee id: the row's module and assignment cells as HTML}. 300 trainees × 60 modules and 60 assignments
    are 36,000 cells: joined here in tens of ms, where the template's loops took far longer. Each attempt links to
    the grading page for the cohort's mentors, to the trainee's record for everyone else."""
    read, unread, none = "<td>✓</td>", "<td></td>", '<td class="status-none"></td>'
    late = f' <small class="status-late">{escape(_("late"))}</small>'
    grader = current_user.is_mentor and mentors_cohort(current_user, cohort.id)
    placeholder = 999999999
    if grader:
        link = url_for("grading.grade_page", submission_id=placeholder).replace(str(placeholder), "{}")
    else:
        record = url_for("admin.trainee_record", cohort_id=cohort.id, trainee_id=placeholder)
        link = record.replace(str(placeholder), "{}") + "#work-{}"
    opening = {}  # per status, translated once rather than once a cell
    cells = {}
    for row in matrix.rows:
        html = [] if compact else [read if done else unread for done in row.read]
        for assignment, at in zip(matrix.assignments, row.cells):
            if at is None:
                html.append(none)
                continue
            if at.status not in opening:
                label = escape(str(STATUS_LABELS.get(at.status, at.status)))
                text = COMPACT_MARKS.get(at.status, "?") if compact else label
                opening[at.status] = (f'<td class="status-{escape(at.status)}"><a href="', f'" title="{label}">{text}')
            start, end = opening[at.status]
            href = link.format(at.submission_id) if grader else link.format(row.trainee.id, assignment.id)
            score = f" ({at.score})" if at.score is not None else ""
            html.append(f"{start}{href}{end}{score}</a>{late if at.late and not compact else ''}</td>")
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
    cohort = load_cohort(current_user, cohort_id, joinedload(Cohort.course))
    require(cohort is not None and can_view_cohort(current_user, cohort))
    # The summary has the approved practice the matrix needs for eligibility: one query less.
    summary = practice_summaries(trainee_id, [cohort.course])[cohort.course_id]
    matrix = cohort_matrix(cohort, trainee_ids=[trainee_id],
                           practice={trainee_id: (summary.approved_minutes, len(summary.by_activity))})
    require(bool(matrix.rows))
    row = matrix.rows[0]
    entries = db.session.execute(select(PracticeEntry.id, PracticeEntry.date, PracticeEntry.minutes,
                                        PracticeEntry.status, PracticeEntry.activity_type)
                                 .where(PracticeEntry.trainee_id == trainee_id, PracticeEntry.cohort_id == cohort.id)
                                 .order_by(PracticeEntry.date.desc(), PracticeEntry.id.desc())).all()
    grader = mentors_cohort(current_user, cohort.id)
    return render_template("admin/trainee.html", cohort=cohort, trainee=row.trainee, matrix=matrix, row=row,
                           summary=summary, certificates=row.certificates, entries=entries,
                           grader=grader, labels=matrix.assignment_labels)


@bp.route("/cohorts/<int:cohort_id>/import", methods=["GET", "POST"])
@role_required("admin")
def import_cohort(cohort_id):
    """Upload a CSV of trainees, see what would happen to each row, then import all rows at once."""
    cohort = db.session.get(Cohort, cohort_id)
    require(cohort is not None)
    rows, error, created = None, None, None
    if request.method == "POST":
        try:
            data = import_upload(request.files, request.form)
            rows = parse_trainee_csv(data, cohort)
            if request.form.get("action") == "import":
                created = [(user, issue_password_link(user)) for user in import_trainees(cohort, rows, current_user)]
                if mail_configured():
                    for user, link in created:
                        queue_invitation(user, link)
                db.session.commit()
                flash(_("Imported: %(n)d rows.", n=sum(1 for r in rows if r.action in ("create", "enrol"))), "info")
                rows = None
        except CsvImportError as import_error:
            db.session.rollback()
            error = str(import_error)
        content = data.decode("utf-8-sig", errors="replace") if rows else ""
    else:
        content = ""
    return render_template("admin/import.html", cohort=cohort, rows=rows, error=error, created=created,
                           content=content, mail=mail_configured(), expires=password_link_expires_at), \
        400 if error else 200


@bp.route("/cohorts/<int:cohort_id>/invitations.csv")
@role_required("admin")
def invitation_links(cohort_id):
    """The set-password links of the cohort's trainees who have no password yet: an import's links, any time
    after it, to pass on by hand or by a mail merge."""
    cohort = db.session.get(Cohort, cohort_id)
    require(cohort is not None)
    waiting = db.session.scalars(select(User).join(Enrolment, Enrolment.trainee_id == User.id).where(
        Enrolment.cohort_id == cohort.id, User.password_hash.is_(None), User.active.is_(True))
        .order_by(User.name)).all()
    rows = [(_("Full name"), _("E-mail"), _("Link to set the password"), _("Valid until"))]
    for user in waiting:
        link = current_password_link(user)
        rows.append((user.name, user.email, link or _("expired: send a new link from the user's page"),
                     format_datetime(password_link_expires_at(user), "short") if link else ""))
    return csv_download(rows, f"invitations-cohort-{cohort.id}.csv")


# --- curriculum -------------------------------------------------------------------------------

@bp.route("/curriculum", methods=["GET", "POST"])
@role_required("admin")
def curriculum():
    """The synced version of each course and the last check or sync; opening the page checks nothing (only the
    buttons do, and a check skips the courses whose files are unchanged)."""
    result, checked = None, False
    if request.method == "POST":
        checked = request.form.get("action") == "check"
        lines = []
        result = sync_curriculum(current_app.config["LMS_COURSES_DIR"], progress=lines.append)
        if result.ok and not checked:
            db.session.commit()
        else:
            db.session.rollback()
        record_event(current_user, "curriculum.check" if checked else "curriculum.sync", ("courses", None),
                     changed=result.changed, problems=len(result.problems))
        db.session.commit()
        result.lines = lines
    courses = db.session.execute(select(Course, func.count(Module.id)).outerjoin(Module)
                                 .group_by(Course.id).order_by(Course.title)).all()
    last = db.session.scalar(select(AuditEvent).options(selectinload(AuditEvent.actor))
                             .where(AuditEvent.action.in_(("curriculum.check", "curriculum.sync")))
                             .order_by(AuditEvent.id.desc()).limit(1)) if result is None else None
    return render_template("admin/curriculum.html", courses=courses, result=result, checked=checked, last=last)


# --- audit log --------------------------------------------------------------------------------

def _audit_query():
    """The events the filters in the address select (person, kind, action, object, dates), newest first."""
    query = select(AuditEvent).options(selectinload(AuditEvent.actor)).order_by(AuditEvent.id.desc())
    actor = search_term(request.args.get("actor"), User.email)
    kind = request.args.get("kind")
    action = search_term(request.args.get("action"), AuditEvent.action)
    object_type = search_term(request.args.get("object"), AuditEvent.object_type)
    if actor:
        pattern = f"%{actor.lower()}%"
        query = query.where(AuditEvent.actor_id.in_(select(User.id).where(
            or_(User.email.like(pattern), func.lower(User.name).like(pattern)))))
    if kind in KIND_LABELS:
        query = query.where(AuditEvent.action.like(f"{kind}.%"))
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
    return query


@bp.route("/audit")
@role_required("admin")
def audit_log():
    query = _audit_query()
    before = request.args.get("before", type=whole_number)
    if before:
        query = query.where(AuditEvent.id < before)
    events = db.session.scalars(query.limit(PAGE_SIZE + 1)).all()
    older = {**request.args.to_dict(), "before": events[PAGE_SIZE - 1].id} if len(events) > PAGE_SIZE else None
    events = events[:PAGE_SIZE]
    return render_template("admin/audit.html", events=events, older=older, args=request.args, kinds=KIND_LABELS,
                           objects=describe_objects(events, db.session), action_label=action_label,
                           details_text=details_text)


AUDIT_EXPORT_LIMIT = 50_000


@bp.route("/audit.csv")
@role_required("admin")
def audit_log_csv():
    """The filtered log as a spreadsheet, newest first (at most AUDIT_EXPORT_LIMIT events)."""
    events = db.session.scalars(_audit_query().limit(AUDIT_EXPORT_LIMIT)).all()
    objects = describe_objects(events, db.session)
    rows = [(_("When"), _("Who"), _("Action"), _("Object"), _("Details"), _("Action code"))]
    for event in events:
        name = objects.get((event.object_type, event.object_id), (None,))[0]
        rows.append((format_datetime(event.at, "short"), event.actor.name if event.actor else _("system"),
                     str(action_label(event.action)),
                     plain_text(name) if name else f"{event.object_type} {event.object_id or ''}",
                     plain_text(details_text(event.details, event.action)), event.action))
    return csv_download(rows, "audit-log.csv")
