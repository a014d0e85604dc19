import re
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload, selectinload

from lms.auth.models import User
from lms.clock import local_today, utcnow
from lms.curriculum.models import Course, Module
from lms.discussions.services import COMMENT_EDIT_WINDOW, comments_on
from lms.extensions import db, limiter
from lms.inputs import parse_date, parse_time, parse_whole_number, whole_number
from lms.labels import upload_error_message
from lms.learning.models import Cohort, CohortMentor, Enrolment
from lms.mail import mail_configured
from lms.notifications.services import queue_link_email
from lms.permissions import (
    can_request_site_confirmation,
    can_review_practice_entry,
    can_view_cohort,
    can_view_practice_entry,
    can_view_trainee_practice,
    public,
    require,
    role_required,
    signed_in,
)
from lms.practice.activities import ACTIVITY_TYPES, AUDIENCES
from lms.practice.export import entries_for_export, practice_log_csv
from lms.practice.models import PracticeAttachment, PracticeEntry, PracticeSite, PracticeTraineeTotal
from lms.practice.services import (
    CONFIRMATION_MAX_AGE,
    EntryData,
    EntryInvalid,
    PracticeError,
    ReviewConflict,
    answer_site_confirmation,
    approve_practice_entries,
    confirmation_for_token,
    confirmation_token,
    delete_practice_draft,
    mark_entry_review_opened,
    open_confirmations,
    practice_entry_for_key,
    reopen_practice_entry,
    request_site_confirmation,
    review_practice_entry,
    save_practice_entry,
    withdraw_practice_entry,
)
from lms.practice.summary import practice_summaries
from lms.uploads import MAX_FILE_SIZE, UploadError, attachment_response, check_upload, download_response

bp = Blueprint("practice", __name__)
PAGE_SIZE = 50
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9-]{16,64}")  # the phone makes a UUID


def _trainee_cohorts(trainee):
    return db.session.scalars(select(Cohort).join(Enrolment).where(Enrolment.trainee_id == trainee.id)
                              .order_by(Cohort.name)).all()


def _form_choices(cohorts):
    sites = db.session.scalars(select(PracticeSite).where(PracticeSite.active.is_(True))
                               .order_by(PracticeSite.name)).all()
    modules = db.session.scalars(select(Module).where(Module.course_id.in_([c.course_id for c in cohorts]))
                                 .order_by(Module.course_id, Module.position)).all()
    return {"cohorts": cohorts, "sites": sites, "modules": modules, "activity_types": ACTIVITY_TYPES,
            "audiences": AUDIENCES}


def _entry_data(form, cohorts):
    """EntryData from the submitted form; unreadable values become None for the service to report."""
    cohort_id = form.get("cohort", type=whole_number)
    cohort = next((c for c in cohorts if c.id == cohort_id), None) if len(cohorts) > 1 else \
        (cohorts[0] if cohorts else None)
    site = db.session.get(PracticeSite, form.get("site", type=whole_number) or 0)
    audiences = {}
    for code in AUDIENCES:
        raw = form.get(f"aud-{code}", "").strip()
        if raw:
            audiences[code] = parse_whole_number(raw)
    for code in form.getlist("audience"):
        audiences.setdefault(code, 0)
    readers = {"start_time": parse_time, "end_time": parse_time, "duration": parse_whole_number}
    values = {name: read(form.get(name)) for name, read in readers.items()}
    unreadable = {name for name, value in values.items() if value is None and form.get(name, "").strip()}
    module_ids = set(form.getlist("modules", type=whole_number))
    modules = db.session.scalars(select(Module).where(Module.id.in_(module_ids))) if module_ids else []
    return EntryData(cohort=cohort, site=site, date=parse_date(form.get("date")),
                     start_time=values["start_time"], end_time=values["end_time"],
                     duration_minutes=values["duration"], unreadable=unreadable,
                     activity_type=form.get("activity_type", ""), audiences=audiences, modules=list(modules),
                     description=form.get("description", ""), reflection=form.get("reflection", ""))


def form_values(form):
    """What the form showed, to fill it again after an error."""
    values = {key: form.get(key) for key in form}
    values["modules"] = form.getlist("modules")
    return values


def entry_values(entry):
    """An entry as form values, for editing it."""
    values = {"cohort": entry.cohort_id, "date": entry.date.isoformat(), "site": entry.site_id,
              "start_time": entry.start_time.strftime("%H:%M") if entry.start_time else "",
              "end_time": entry.end_time.strftime("%H:%M") if entry.end_time else "",
              "duration": "" if entry.start_time else entry.minutes, "activity_type": entry.activity_type,
              "modules": [str(m.id) for m in entry.modules], "description": entry.description_markdown,
              "reflection": entry.reflection_markdown}
    values.update({f"aud-{a.audience}": a.participants for a in entry.audiences})
    return values


def _files_to_choose_again(errors):
    """Files cannot be put back into a file field: when the entry was refused for another reason, say so at the
    field, naming the files that were chosen."""
    names = [f.filename for f in request.files.getlist("files") if f and f.filename]
    if names and "files" not in errors:
        errors["files"] = _("Not saved: %(names)s. Choose the photos or documents again.", names=", ".join(names))
    return errors


def _uploads():
    return [check_upload(f.filename, f.read()) for f in request.files.getlist("files") if f and f.filename]


def _log_page(trainee, after):
    """One page of a trainee's entries, newest first (keyset on date and id)."""
    query = select(PracticeEntry).options(joinedload(PracticeEntry.site)) \
        .where(PracticeEntry.trainee_id == trainee.id)
    if after:
        day, _sep, last_id = after.partition("_")
        day, last_id = parse_date(day), parse_whole_number(last_id)
        if day and last_id:
            query = query.where(or_(PracticeEntry.date < day, and_(PracticeEntry.date == day,
                                                                   PracticeEntry.id < last_id)))
    rows = db.session.scalars(query.order_by(PracticeEntry.date.desc(), PracticeEntry.id.desc())
                              .limit(PAGE_SIZE + 1)).all()
    cursor = f"{rows[PAGE_SIZE - 1].date.isoformat()}_{rows[PAGE_SIZE - 1].id}" if len(rows) > PAGE_SIZE else None
    return rows[:PAGE_SIZE], cursor


def _render_log(trainee):
    courses = db.session.scalars(select(Course).where(Course.id.in_(
        select(Cohort.course_id).join(Enrolment).where(Enrolment.trainee_id == trainee.id)))
        .order_by(Course.title)).all()
    entries, cursor = _log_page(trainee, request.args.get("after"))
    totals = practice_summaries(trainee.id, courses)
    summaries = [(course, totals[course.id]) for course in courses]
    return render_template("practice/log.html", trainee=trainee, entries=entries, cursor=cursor,
                           summaries=summaries, own=trainee.id == current_user.id,
                           paged=bool(request.args.get("after")))


@bp.route("/practice")
@signed_in
def log():
    if current_user.is_trainee:
        return _render_log(current_user)
    return redirect(url_for("practice.trainees"))


@bp.route("/practice/trainees")
@role_required("mentor", "admin")
def trainees():
    """The trainees of one cohort this staff member follows (?cohort=), with approved and waiting practice.

    One cohort at a time: listing every trainee of a large programme took 2.6 s (10,000 trainees)."""
    cohorts = select(Cohort).order_by(Cohort.name, Cohort.id)
    if not current_user.is_admin:
        cohorts = cohorts.join(CohortMentor, and_(CohortMentor.cohort_id == Cohort.id,
                                                  CohortMentor.mentor_id == current_user.id))
    cohorts = db.session.scalars(cohorts).all()
    chosen = request.args.get("cohort", type=whole_number)
    cohort = next((c for c in cohorts if c.id == chosen), cohorts[0] if cohorts else None)
    rows = []
    if cohort is not None:
        members = select(Enrolment.trainee_id).where(Enrolment.cohort_id == cohort.id)
        hours = (select(PracticeTraineeTotal.trainee_id, func.sum(PracticeTraineeTotal.minutes).label("m"))
                 .where(PracticeTraineeTotal.cohort_id == cohort.id, PracticeTraineeTotal.trainee_id.in_(members))
                 .group_by(PracticeTraineeTotal.trainee_id).subquery())
        waiting = (select(PracticeEntry.trainee_id, func.count().label("n"))
                   .where(PracticeEntry.cohort_id == cohort.id, PracticeEntry.status == "submitted")
                   .group_by(PracticeEntry.trainee_id).subquery())
        rows = db.session.execute(
            select(User, func.coalesce(hours.c.m, 0), func.coalesce(waiting.c.n, 0))
            .options(lazyload(User.role_rows))
            .join(Enrolment, and_(Enrolment.trainee_id == User.id, Enrolment.cohort_id == cohort.id))
            .outerjoin(hours, hours.c.trainee_id == User.id).outerjoin(waiting, waiting.c.trainee_id == User.id)
            .order_by(User.name, User.id)).all()
    return render_template("practice/trainees.html", cohorts=cohorts, cohort=cohort, rows=rows)


@bp.route("/practice/trainees/<int:trainee_id>")
@signed_in
def trainee_log(trainee_id):
    # The trainee's roles are not needed here: loading them cost a query.
    trainee = db.session.get(User, trainee_id, options=[lazyload(User.role_rows)])
    require(trainee is not None and can_view_trainee_practice(current_user, trainee))
    return _render_log(trainee)


@bp.route("/practice/new", methods=["GET", "POST"])
@role_required("trainee")
def new_entry():
    cohorts = _trainee_cohorts(current_user)
    if not cohorts:
        flash(_("You are not in a cohort yet, so there is no practice to log."), "error")
        return redirect(url_for("learning.dashboard"))
    errors = {}
    if request.method == "POST":
        key = request.form.get("idempotency_key", "")  # added by the service worker, which may send it again later
        try:
            entry = save_practice_entry(current_user, _entry_data(request.form, cohorts),
                                        submit=request.form.get("action") == "submit", files=_uploads(),
                                        idempotency_key=key if IDEMPOTENCY_KEY.fullmatch(key) else None)
            # Read before the commit, which expires them: afterwards each would cost a query.
            message = _("Entry submitted to your mentor.") if entry.status == "submitted" else _("Draft saved.")
            page = url_for("practice.entry_page", entry_id=entry.id)
            db.session.commit()
            flash(message, "info")
            return redirect(page)
        except UploadError as error:
            db.session.rollback()
            errors = {"files": upload_error_message(error)}
        except EntryInvalid as invalid:
            db.session.rollback()
            errors = _files_to_choose_again(dict(invalid.errors))
        except PracticeError as practice_error:  # another trainee's key
            db.session.rollback()
            flash(str(practice_error), "error")
            return redirect(request.path)
    return render_template("practice/entry_form.html", entry=None, values=form_values(request.form), errors=errors,
                           today=local_today().isoformat(), max_file_size=MAX_FILE_SIZE,
                           **_form_choices(cohorts)), 400 if errors else 200


@bp.route("/practice/queued", methods=["POST"])
@role_required("trainee")
def send_queued_entry():
    """A new entry the phone kept while offline (lms/static/practice-queue.js), with the key the phone made for it:
    JSON, never a redirect. Sent again after a lost answer, it answers with the entry already made."""
    key = request.form.get("idempotency_key", "")
    if not IDEMPOTENCY_KEY.fullmatch(key):
        return {"error": _("This entry has no valid key; save it again.")}, 400
    if request.form.get("owner", type=whole_number) != current_user.id:
        return {"error": _("This entry was kept for someone else; it is sent only when they sign in.")}, 409
    try:
        try:
            entry = save_practice_entry(current_user, _entry_data(request.form, _trainee_cohorts(current_user)),
                                        submit=request.form.get("action") == "submit", files=_uploads(),
                                        idempotency_key=key)
            entry_id = entry.id  # read before the commit expires it
            db.session.commit()
        except IntegrityError:
            # Another request with this key committed first (the trainee's lock makes a repeat wait for the first,
            # so this is a key someone else used): answer with what it made, if it is this trainee's.
            db.session.rollback()
            entry_id = practice_entry_for_key(current_user, key).id
    except UploadError as error:
        db.session.rollback()
        return {"errors": {"files": upload_error_message(error)}}, 400
    except EntryInvalid as invalid:
        db.session.rollback()
        return {"errors": {name: str(message) for name, message in invalid.errors.items()}}, 400
    except PracticeError as practice_error:
        db.session.rollback()
        return {"error": str(practice_error)}, 409
    return {"id": entry_id, "url": url_for("practice.entry_page", entry_id=entry_id)}, 200


def _in_full(one=False):
    """Loader options for showing entries in full: a fixed number of queries however many entries. For one entry
    its few audiences come in the entry's own query (a round trip less on its page)."""
    audiences = joinedload(PracticeEntry.audiences) if one else selectinload(PracticeEntry.audiences)
    return [joinedload(PracticeEntry.trainee).lazyload(User.role_rows), joinedload(PracticeEntry.cohort),
            joinedload(PracticeEntry.site), audiences, selectinload(PracticeEntry.modules),
            selectinload(PracticeEntry.attachments), selectinload(PracticeEntry.confirmations)]


@bp.route("/practice/<int:entry_id>", methods=["GET", "POST"])
@signed_in
def entry_page(entry_id):
    entry = db.session.get(PracticeEntry, entry_id, options=_in_full(one=True))
    require(entry is not None and can_view_practice_entry(current_user, entry))
    own = entry.trainee_id == current_user.id
    reviewer = can_review_practice_entry(current_user, entry)
    errors, error = {}, None
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action in ("save", "submit") and own:
                save_practice_entry(current_user, _entry_data(request.form, _trainee_cohorts(current_user)),
                                    entry=entry, submit=action == "submit", files=_uploads())
                db.session.commit()
                flash(_("Entry submitted to your mentor.") if action == "submit" else _("Draft saved."), "info")
                return redirect(request.path)
            elif action == "withdraw" and own:
                withdraw_practice_entry(entry, current_user)
                db.session.commit()
                flash(_("The entry is withdrawn and back to a draft: correct it and submit it again."), "info")
                return redirect(request.path + "#entry-form")
            elif action == "confirm" and own:
                _confirmation, token = request_site_confirmation(entry)
                confirmation_link = url_for("practice.confirm", token=token, _external=True)
                if mail_configured() and entry.site.contact_email:
                    queue_link_email(entry.site.contact_email, _l("Please confirm a practice session"),
                                     _l("%(name)s asks you to confirm a practice session at %(site)s:",
                                        name=entry.trainee.name, site=entry.site.name), confirmation_link)
                    flash(_("The confirmation request was e-mailed to %(email)s.", email=entry.site.contact_email),
                          "info")
                db.session.commit()
                flash(_("The confirmation link is ready: copy it and send it to the site's contact person."), "info")
                return redirect(request.path + "#confirmation")
            elif action in ("approve", "return") and reviewer:
                review_practice_entry(entry, current_user, action, request.form.get("comment", ""),
                                      request.form.get("version", type=whole_number))
                db.session.commit()
                flash(_("Entry approved.") if action == "approve" else _("Entry returned to the trainee."), "info")
                return redirect(url_for("grading.queue", kind="practice"))
            elif action == "reopen" and reviewer:
                reopen_practice_entry(entry, current_user, request.form.get("reason", ""))
                db.session.commit()
                flash(_("Entry reopened; its hours no longer count until approved again."), "info")
                return redirect(request.path)
            else:
                require(False, 403)
        except UploadError as upload_error:
            db.session.rollback()
            errors = {"files": upload_error_message(upload_error)}
        except EntryInvalid as invalid:
            db.session.rollback()
            errors = _files_to_choose_again(dict(invalid.errors))
        except ReviewConflict as conflict:
            db.session.rollback()
            flash(str(conflict), "error")
            return redirect(request.path)
        except PracticeError as practice_error:
            db.session.rollback()
            error = str(practice_error)
    # A mentor opening it for review ends the trainee's chance to withdraw it (committed after rendering).
    opened = request.method == "GET" and reviewer and mark_entry_review_opened([entry], current_user)
    editing = own and entry.editable
    choices = _form_choices(_trainee_cohorts(current_user)) if editing else {}
    values = (form_values(request.form) if errors else entry_values(entry)) if editing else {}
    comments = comments_on(entry=entry) if entry.status != "draft" else []
    links = [(c, url_for("practice.confirm", token=confirmation_token(c), _external=True))
             for c in open_confirmations(entry)] if own and entry.status in ("submitted", "returned") else []
    page = render_template("practice/entry.html", entry=entry, own=own, reviewer=reviewer, editing=editing,
                           values=values, errors=errors, error=error, today=local_today().isoformat(),
                           links=links, confirmation_max_age=timedelta(seconds=CONFIRMATION_MAX_AGE),
                           can_ask_site=can_request_site_confirmation(current_user, entry),
                           comments=comments, now=utcnow(), comment_window=COMMENT_EDIT_WINDOW, **choices)
    if opened:
        db.session.commit()
    return page, 400 if (errors or error) else 200


@bp.route("/practice/<int:entry_id>/delete", methods=["GET", "POST"])
@signed_in
def delete_entry(entry_id):
    """Deleting a draft cannot be undone: the page asks first, and only its POST deletes."""
    entry = db.session.get(PracticeEntry, entry_id, options=_in_full())
    require(entry is not None and can_view_practice_entry(current_user, entry))
    require(entry.trainee_id == current_user.id, 403)
    if entry.status != "draft":
        flash(_("Only drafts can be deleted."), "error")
        return redirect(url_for("practice.entry_page", entry_id=entry.id))
    if request.method == "POST":
        delete_practice_draft(entry)
        db.session.commit()
        flash(_("Draft deleted."), "info")
        return redirect(url_for("practice.log"))
    return render_template("practice/delete.html", entry=entry)


@bp.route("/practice/attachments/<int:attachment_id>")
@signed_in
def download_attachment(attachment_id):
    attachment = db.session.get(PracticeAttachment, attachment_id)
    require(attachment is not None and can_view_practice_entry(current_user, attachment.entry))
    return attachment_response(attachment)


def _csv_response(entries, filename):
    return download_response(practice_log_csv(entries), "text/csv", filename)


@bp.route("/practice/trainees/<int:trainee_id>/export.csv")
@signed_in
def export_trainee(trainee_id):
    trainee = db.session.get(User, trainee_id)
    require(trainee is not None and can_view_trainee_practice(current_user, trainee))
    return _csv_response(entries_for_export(PracticeEntry.trainee_id == trainee.id), f"practice-log-{trainee.id}.csv")


@bp.route("/practice/cohorts/<int:cohort_id>/export.csv")
@role_required("mentor", "admin")
def export_cohort(cohort_id):
    cohort = db.session.get(Cohort, cohort_id)
    require(cohort is not None and can_view_cohort(current_user, cohort))
    return _csv_response(entries_for_export(PracticeEntry.cohort_id == cohort.id),
                         f"practice-log-cohort-{cohort.id}.csv")


@bp.route("/mentor/practice/approve", methods=["GET", "POST"])
@role_required("mentor")
def approve_many():
    """Approve several entries from one page that shows each of them in full."""
    ids = {i for i in request.values.getlist("ids", type=whole_number) if i}
    entries = db.session.scalars(select(PracticeEntry).options(*_in_full()).where(PracticeEntry.id.in_(ids))
                                 .order_by(PracticeEntry.submitted_at, PracticeEntry.id)).all()
    entries = [e for e in entries if e.status == "submitted" and can_review_practice_entry(current_user, e)]
    if request.method == "POST":
        read = set(request.form.getlist("read", type=whole_number))
        chosen = [e for e in entries if e.id in read]
        if not chosen:
            flash(_("Tick “I have read this entry” for each entry you approve."), "error")
        else:
            try:
                approve_practice_entries(chosen, current_user)
                db.session.commit()
            except PracticeError as conflict:
                # Another mentor reviewed one of them meanwhile: nothing was approved; the page shows what is left.
                db.session.rollback()
                flash(_("%(reason)s Nothing was approved; check the entries again.", reason=conflict), "error")
                return redirect(url_for("practice.approve_many", ids=sorted(ids)))
            flash(_("%(n)d entries approved.", n=len(chosen)), "info")
            return redirect(url_for("grading.queue", kind="practice"))
    opened = request.method == "GET" and mark_entry_review_opened(entries, current_user)  # shown in full
    page = render_template("practice/approve.html", entries=entries)
    if opened:
        db.session.commit()
    return page


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute")
def confirm(token):
    """The site's contact person confirms or declines an entry, without an account."""
    confirmation = confirmation_for_token(token)
    if confirmation is None:
        return render_template("practice/confirm_invalid.html"), 400
    error = None
    if request.method == "POST":
        try:
            answer_site_confirmation(confirmation, request.form.get("decision"), request.form.get("name"),
                                     request.form.get("comment", ""))
            db.session.commit()
            return render_template("practice/confirm_done.html", confirmation=confirmation)
        except PracticeError as practice_error:
            db.session.rollback()
            error = str(practice_error)
    return render_template("practice/confirm.html", entry=confirmation.entry, error=error), 400 if error else 200
