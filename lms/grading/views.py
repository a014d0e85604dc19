from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.auth.models import User
from lms.clock import utcnow
from lms.curriculum.models import Assignment, Course, Module
from lms.discussions.services import COMMENT_EDIT_WINDOW, comments_on
from lms.extensions import db
from lms.grading.models import Submission, SubmissionFile
from lms.grading.queue import (
    count_waiting,
    filter_options,
    parse_filters,
    queue_page,
    waiting_groups,
)
from lms.grading.services import (
    GradingConflict,
    GradingError,
    QuizIncomplete,
    attempts_of,
    counted_attempt,
    draft_of,
    failed_gates,
    grade_submission,
    hand_in_draft,
    mark_feedback_seen,
    mark_review_opened,
    save_files_draft,
    save_text_answer,
    submit_quiz,
    withdraw_submission,
)
from lms.inputs import parse_whole_number, whole_number
from lms.labels import upload_error_message
from lms.permissions import (
    can_grade_submission,
    can_track_progress,
    can_view_course,
    can_view_submission,
    can_withdraw_submission,
    require,
    role_required,
    signed_in,
)
from lms.rendering import render_markdown
from lms.uploads import UploadError, attachment_response, check_upload

bp = Blueprint("grading", __name__)


def _assignment_or_404(course_slug, module_slug, key):
    row = db.session.execute(
        select(Course, Module, Assignment).join(Module, Module.course_id == Course.id)
        .join(Assignment, Assignment.module_id == Module.id)
        .where(Course.slug == course_slug, Module.slug == module_slug, Assignment.key == key)).first()
    require(row is not None and can_view_course(current_user, row[0]))
    return row


@bp.route("/courses/<course_slug>/<module_slug>/assignments/<key>", methods=["GET", "POST"])
@signed_in
def assignment_page(course_slug, module_slug, key):
    course, module, assignment = _assignment_or_404(course_slug, module_slug, key)
    tracked = can_track_progress(current_user, course)
    preview_html, draft_text, error, error_field = None, None, None, None
    picked, missing, note = {}, [], ""  # what the trainee chose and typed, kept when something is refused
    if request.method == "POST":
        require(tracked, 403)
        try:
            if assignment.kind == "text":
                action = request.form.get("action")
                draft_text = request.form.get("answer", "")
                if action == "preview":
                    preview_html = render_markdown(draft_text)
                    if draft_text.strip():  # previewing keeps the draft too
                        save_text_answer(current_user, assignment, draft_text, submit=False)
                        db.session.commit()
                else:
                    save_text_answer(current_user, assignment, draft_text, submit=False)
                    db.session.commit()
                    if action == "submit":  # saved; handed in only once the trainee confirms
                        return redirect(_hand_in_url(course, module, assignment))
                    flash(_("Draft saved."), "info")
                    return redirect(request.path + "#your-work")
            elif assignment.kind == "file":
                note = request.form.get("note", "")
                uploads = [f for f in request.files.getlist("files") if f and f.filename]
                checked = [check_upload(f.filename, f.read()) for f in uploads]
                save_files_draft(current_user, assignment, checked, note=note)
                db.session.commit()
                return redirect(_hand_in_url(course, module, assignment))
            else:
                answers = {q["id"]: request.form.getlist(f"q-{q['id']}") for q in assignment.spec["questions"]}
                picked = answers
                submission = submit_quiz(current_user, assignment, answers)
                db.session.commit()
                flash(_("Quiz passed: %(score)d of %(total)d.", score=submission.score,
                        total=assignment.spec["max_score"]) if submission.status == "passed" else
                      _("Quiz not passed: %(score)d of %(total)d.", score=submission.score,
                        total=assignment.spec["max_score"]), "info")
                return redirect(request.path + "#latest")
        except UploadError as upload_error:
            db.session.rollback()
            error, error_field = upload_error_message(upload_error), "files"
        except QuizIncomplete as incomplete:
            db.session.rollback()
            error, missing = str(incomplete), incomplete.missing
        except GradingError as grading_error:
            db.session.rollback()
            error, error_field = str(grading_error), grading_error.field
    attempts = attempts_of(current_user, assignment) if tracked else []
    latest = attempts[-1] if attempts else None
    if draft_text is None and latest is not None and latest.status == "draft":
        draft_text = latest.answer_markdown
    status = 400 if error else 200
    # The comment thread is the latest attempt handed in: the one the mentor's feedback is about.
    thread_of = next((a for a in reversed(attempts) if a.status != "draft"), None)
    page = render_template("grading/assignment.html", course=course, module=module, assignment=assignment,
                           tracked=tracked, attempts=attempts, latest=latest,
                           counted=counted_attempt(assignment, attempts), preview_html=preview_html,
                           draft_text=draft_text or "", error=error, error_field=error_field, thread_of=thread_of,
                           picked=picked,
                           missing=missing, note=note,
                           gates=failed_gates(assignment.spec.get("rubric", []), thread_of.rubric_scores)
                           if thread_of is not None and thread_of.is_graded else [],
                           comments=comments_on(submission=thread_of) if thread_of else [], now=utcnow(),
                           comment_window=COMMENT_EDIT_WINDOW)
    if mark_feedback_seen(attempts):  # after rendering: the commit expires what the page shows
        db.session.commit()
    return page, status


def _hand_in_url(course, module, assignment):
    return url_for("grading.hand_in", course_slug=course.slug, module_slug=module.slug, key=assignment.key)


@bp.route("/courses/<course_slug>/<module_slug>/assignments/<key>/hand-in", methods=["GET", "POST"])
@signed_in
def hand_in(course_slug, module_slug, key):
    """The step between a draft and handing it in: the trainee sees what goes to the mentor and confirms."""
    course, module, assignment = _assignment_or_404(course_slug, module_slug, key)
    require(can_track_progress(current_user, course), 403)
    require(assignment.kind in ("text", "file"))
    back = url_for("grading.assignment_page", course_slug=course.slug, module_slug=module.slug, key=key)
    error = None
    if request.method == "POST":
        try:
            hand_in_draft(current_user, assignment)
            db.session.commit()
            flash(_("Your answer is submitted.") if assignment.kind == "text" else _("Your files are submitted."),
                  "info")
            return redirect(back + "#latest")
        except GradingError as grading_error:
            db.session.rollback()
            error = str(grading_error)
    draft = draft_of(current_user, assignment)
    if draft is None and error is None:
        return redirect(back)
    return render_template("grading/hand_in.html", course=course, module=module, assignment=assignment,
                           draft=draft, back=back, error=error), 400 if error else 200


@bp.route("/courses/<course_slug>/<module_slug>/assignments/<key>/draft", methods=["POST"])
@signed_in
def save_draft(course_slug, module_slug, key):
    """Autosave of a written answer from the page's script (lms/static/draft.js): JSON, never a redirect."""
    course, _module, assignment = _assignment_or_404(course_slug, module_slug, key)
    require(can_track_progress(current_user, course), 403)
    text = request.form.get("answer", "")
    if not text.strip():
        return {"saved": False}, 200
    try:
        save_text_answer(current_user, assignment, text, submit=False)
        db.session.commit()
    except GradingError as grading_error:
        db.session.rollback()
        return {"saved": False, "error": str(grading_error)}, 409
    return {"saved": True, "message": _("Draft saved automatically at %(time)s.",
                                         time=format_datetime(utcnow(), "HH:mm"))}, 200


@bp.route("/submissions/<int:submission_id>/withdraw", methods=["POST"])
@signed_in
def withdraw(submission_id):
    submission = db.session.get(Submission, submission_id)
    require(submission is not None and can_view_submission(current_user, submission))
    assignment = submission.assignment
    page = url_for("grading.assignment_page", course_slug=assignment.course.slug,
                   module_slug=assignment.module.slug, key=assignment.key)
    require(submission.trainee_id == current_user.id, 403)
    if not can_withdraw_submission(current_user, submission):
        flash(_("A mentor has already opened this work for review; it can no longer be withdrawn.")
              if submission.review_opened_at else _("Only work waiting for a mentor can be withdrawn."), "error")
        return redirect(page)
    try:
        withdraw_submission(submission, current_user)
        db.session.commit()
    except GradingError as grading_error:
        db.session.rollback()
        flash(str(grading_error), "error")
        return redirect(page)
    flash(_("Your work is withdrawn and back to a draft: correct it and hand it in again."), "info")
    return redirect(page + "#your-work")


@bp.route("/files/<int:file_id>")
@signed_in
def download_file(file_id):
    upload = db.session.get(SubmissionFile, file_id)
    require(upload is not None and can_view_submission(current_user, upload.submission))
    return attachment_response(upload)


@bp.route("/mentor/queue")
@role_required("mentor")
def queue():
    filters = parse_filters(request.args)
    items, cursor = queue_page(current_user, filters, after=request.args.get("after"))
    groups = waiting_groups(current_user)
    return render_template("grading/queue.html", items=items, cursor=cursor, filters=filters, item_url=queue_item_url,
                           options=filter_options(groups), total=count_waiting(groups, filters),
                           paged=bool(request.args.get("after")))


@bp.route("/mentor/submissions/<int:submission_id>", methods=["GET", "POST"])
@role_required("mentor")
def grade_page(submission_id):
    submission = db.session.get(Submission, submission_id, options=[
        joinedload(Submission.assignment), joinedload(Submission.trainee).lazyload(User.role_rows)])
    require(submission is not None and can_grade_submission(current_user, submission))
    filters = parse_filters(request.args)
    error = error_field = None
    if request.method == "POST":
        scores = [_score(request.form.get(f"score-{i}")) for i in range(len(submission.assignment.spec.get(
            "rubric", [])))]
        try:
            grade_submission(submission, current_user, scores, request.form.get("feedback", ""),
                             request.form.get("decision", ""), request.form.get("version", type=whole_number),
                             reason=request.form.get("reason", ""))
            db.session.commit()
        except GradingConflict as conflict:
            db.session.rollback()
            flash(str(conflict) + " " + _("Here is the decision now saved; nothing of yours was saved."), "error")
            return redirect(url_for("grading.grade_page", submission_id=submission_id, **filters))
        except GradingError as grading_error:
            db.session.rollback()
            error, error_field = str(grading_error), grading_error.field
        else:
            flash(_("Grade saved."), "info")
            if request.form.get("then") == "next":
                items, _cursor = queue_page(current_user, filters, exclude=("submission", submission.id), limit=1)
                if items:
                    return redirect(queue_item_url(items[0], filters))
                flash(_("The queue is empty. Well done!"), "info")
            return redirect(url_for("grading.queue", **filters))
    # Opening it for review ends the trainee's chance to withdraw it (flushed now, so the form carries the new
    # version; committed after rendering, as a GET page does).
    opened = request.method == "GET" and mark_review_opened(submission, current_user)
    earlier = [a for a in attempts_of(submission.trainee, submission.assignment) if a.id != submission.id]
    course = submission.assignment.course
    guide = url_for("learning.mentors_guide", course_slug=course.slug) if course.staff_guide_title else None
    page = render_template("grading/grade.html", submission=submission, assignment=submission.assignment, guide=guide,
                           earlier=earlier, filters=filters, error=error, error_field=error_field, form=request.form,
                           comments=comments_on(submission=submission), now=utcnow(),
                           comment_window=COMMENT_EDIT_WINDOW)
    if opened:
        db.session.commit()
    return page, 400 if error else 200


def queue_item_url(item, filters):
    if item.source == "practice":
        return url_for("practice.entry_page", entry_id=item.id)
    return url_for("grading.grade_page", submission_id=item.id, **filters)


def _score(value):
    """A rubric score from the form: None when empty; anything not a whole number is out of range."""
    value = (value or "").strip()
    if not value:
        return None
    number = parse_whole_number(value)
    return -1 if number is None else number
