from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from lms.auth.models import User
from lms.curriculum.models import Module
from lms.discussions.models import Announcement, DiscussionPost, DiscussionThread, WorkComment
from lms.discussions.services import (
    DiscussionError,
    add_comment,
    delete_post,
    edit_comment,
    edit_post,
    hide_post,
    mark_announcement_read,
    moderate_thread,
    post_announcement,
    reply,
    start_thread,
)
from lms.extensions import db, limiter
from lms.grading.models import Submission
from lms.inputs import search_term, whole_number
from lms.learning.models import Cohort
from lms.learning.services import trainee_cohort
from lms.permissions import (
    can_discuss,
    can_moderate,
    can_view_practice_entry,
    can_view_submission,
    require,
    signed_in,
)
from lms.practice.models import PracticeEntry

bp = Blueprint("discussions", __name__)
BOARD_PAGE, THREAD_PAGE = 30, 50


def _posting_key():
    return f"discussions:{current_user.id}"


# Posting is limited per person: a runaway script or a bored trainee cannot flood the cohort.
post_limit = limiter.limit(lambda: current_app.config["LMS_POST_LIMIT"], key_func=_posting_key, methods=["POST"])


def _work_url(submission=None, entry=None):
    """The page of the work as the signed-in person sees it."""
    if entry is not None:
        return url_for("practice.entry_page", entry_id=entry.id)
    if current_user.id == submission.trainee_id:
        return _trainee_work_url(submission)
    return url_for("grading.grade_page", submission_id=submission.id)


@bp.route("/submissions/<int:submission_id>/comments", methods=["POST"])
@signed_in
@post_limit
def comment_on_submission(submission_id):
    submission = db.session.get(Submission, submission_id)
    require(submission is not None and can_view_submission(current_user, submission))
    cohort = trainee_cohort(submission.trainee_id, submission.assignment.course_id)
    require(cohort is not None)
    return _comment(submission=submission, trainee=submission.trainee, cohort_id=cohort.id)


@bp.route("/practice/<int:entry_id>/comments", methods=["POST"])
@signed_in
@post_limit
def comment_on_entry(entry_id):
    entry = db.session.get(PracticeEntry, entry_id)
    require(entry is not None and can_view_practice_entry(current_user, entry))
    return _comment(entry=entry, trainee=entry.trainee, cohort_id=entry.cohort_id)


def _comment(trainee, cohort_id, submission=None, entry=None):
    back = _work_url(submission, entry)
    if entry is not None:
        their_page = back
    elif current_user.id == trainee.id:  # the mentors are told: their grading page
        their_page = url_for("grading.grade_page", submission_id=submission.id)
    else:
        their_page = _trainee_work_url(submission)
    try:
        add_comment(current_user, request.form.get("body"), submission=submission, entry=entry, trainee=trainee,
                    cohort_id=cohort_id, url=their_page)
        db.session.commit()
        flash(_("Comment added."), "info")
    except DiscussionError as error:
        db.session.rollback()
        flash(str(error), "error")
    return redirect(back + "#comments")


def _trainee_work_url(submission):
    assignment = submission.assignment
    return url_for("grading.assignment_page", course_slug=assignment.course.slug, module_slug=assignment.module.slug,
                   key=assignment.key)


@bp.route("/comments/<int:comment_id>", methods=["POST"])
@signed_in
def change_comment(comment_id):
    comment = db.session.get(WorkComment, comment_id)
    require(comment is not None and comment.author_id == current_user.id)
    submission = db.session.get(Submission, comment.submission_id) if comment.submission_id else None
    entry = db.session.get(PracticeEntry, comment.entry_id) if comment.entry_id else None
    try:
        edit_comment(comment, current_user, request.form.get("body"))
        db.session.commit()
        flash(_("Comment changed."), "info")
    except DiscussionError as error:
        db.session.rollback()
        flash(str(error), "error")
    return redirect(_work_url(submission, entry) + "#comments")


# --- announcements ---------------------------------------------------------------------------

def _cohort_for(cohort_id, rule=can_discuss):
    cohort = db.session.get(Cohort, cohort_id, options=[joinedload(Cohort.course)])
    require(cohort is not None and rule(current_user, cohort))
    return cohort


@bp.route("/cohorts/<int:cohort_id>/announcements", methods=["GET", "POST"])
@signed_in
@post_limit
def announcements(cohort_id):
    cohort = _cohort_for(cohort_id)
    moderator = can_moderate(current_user, cohort)
    errors, values = {}, {}
    if request.method == "POST":
        require(moderator, 403)
        targets = [cohort]
        if request.form.get("whole_course") == "1":
            targets = [c for c in db.session.scalars(select(Cohort).where(Cohort.course_id == cohort.course_id))
                       if can_moderate(current_user, c)]
        try:
            made = post_announcement(targets, current_user, request.form.get("title"), request.form.get("body"))
            db.session.commit()
            flash(_("Announcement posted to %(n)d cohort(s); their trainees are told.", n=len(made)), "info")
            return redirect(request.path)
        except DiscussionError as error:
            db.session.rollback()
            errors, values = error.errors, request.form
    items = db.session.scalars(select(Announcement).options(joinedload(Announcement.author).lazyload(User.role_rows))
                               .where(Announcement.cohort_id == cohort.id)
                               .order_by(Announcement.id.desc()).limit(BOARD_PAGE)).all()
    return render_template("discussions/announcements.html", cohort=cohort, items=items, moderator=moderator,
                           errors=errors, values=values), 400 if errors else 200


@bp.route("/announcements/<int:announcement_id>/read", methods=["POST"])
@signed_in
def read_announcement(announcement_id):
    announcement = db.session.get(Announcement, announcement_id)
    require(announcement is not None and can_discuss(current_user, announcement.cohort))
    mark_announcement_read(announcement, current_user)
    db.session.commit()
    return redirect(url_for("learning.dashboard"))


# --- the board -------------------------------------------------------------------------------

@bp.route("/cohorts/<int:cohort_id>/discussions", methods=["GET", "POST"])
@signed_in
@post_limit
def board(cohort_id):
    cohort = _cohort_for(cohort_id)
    errors, values = {}, {}
    if request.method == "POST":
        module_id = request.form.get("module", type=whole_number)
        module = db.session.get(Module, module_id) if module_id else None
        try:
            thread = start_thread(cohort, current_user, request.form.get("title"), request.form.get("body"), module)
            db.session.commit()
            return redirect(url_for("discussions.thread_page", thread_id=thread.id))
        except DiscussionError as error:
            db.session.rollback()
            errors, values = error.errors, request.form
    search = search_term(request.args.get("q"), DiscussionThread.title)
    page = max(1, request.args.get("page", 1, type=whole_number) or 1)
    query = select(DiscussionThread).options(joinedload(DiscussionThread.module)).where(
        DiscussionThread.cohort_id == cohort.id)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(or_(func.lower(DiscussionThread.title).like(pattern), DiscussionThread.id.in_(
            select(DiscussionPost.thread_id).where(func.lower(DiscussionPost.body_markdown).like(pattern),
                                                   DiscussionPost.hidden_at.is_(None),
                                                   DiscussionPost.deleted_at.is_(None)))))
    threads = db.session.scalars(query.order_by(DiscussionThread.pinned.desc(), DiscussionThread.last_post_at.desc(),
                                                DiscussionThread.id.desc())
                                 .limit(BOARD_PAGE + 1).offset((page - 1) * BOARD_PAGE)).all()
    modules = db.session.execute(select(Module.id, Module.position, Module.title).where(
        Module.course_id == cohort.course_id).order_by(Module.position)).all()
    return render_template("discussions/board.html", cohort=cohort, threads=threads[:BOARD_PAGE],
                           more=len(threads) > BOARD_PAGE, page=page, search=search, modules=modules,
                           errors=errors, values=values), 400 if errors else 200


@bp.route("/discussions/<int:thread_id>", methods=["GET", "POST"])
@signed_in
@post_limit
def thread_page(thread_id):
    thread = db.session.get(DiscussionThread, thread_id, options=[joinedload(DiscussionThread.cohort)])
    require(thread is not None and can_discuss(current_user, thread.cohort))
    moderator = can_moderate(current_user, thread.cohort)
    errors, values = {}, {}
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "reply":
                reply(thread, current_user, request.form.get("body"))
            elif action in ("pin", "unpin", "lock", "unlock") and moderator:
                moderate_thread(thread, current_user, pinned={"pin": True, "unpin": False}.get(action),
                                locked={"lock": True, "unlock": False}.get(action))
            else:
                require(False, 403)
            db.session.commit()
            return redirect(url_for("discussions.thread_page", thread_id=thread.id, page="last") + "#end")
        except DiscussionError as error:
            db.session.rollback()
            errors, values = error.errors, request.form
    posts_count = thread.replies + 1
    pages = max(1, -(-posts_count // THREAD_PAGE))
    page = pages if request.args.get("page") == "last" else \
        min(pages, max(1, request.args.get("page", 1, type=whole_number) or 1))
    query = select(DiscussionPost).options(joinedload(DiscussionPost.author).lazyload(User.role_rows)).where(
        DiscussionPost.thread_id == thread.id)
    posts = db.session.scalars(query.order_by(DiscussionPost.id).limit(THREAD_PAGE)
                               .offset((page - 1) * THREAD_PAGE)).all()
    return render_template("discussions/thread.html", thread=thread, posts=posts, page=page, pages=pages,
                           moderator=moderator, errors=errors, values=values), 400 if errors else 200


@bp.route("/posts/<int:post_id>", methods=["POST"])
@signed_in
@post_limit
def change_post(post_id):
    post = db.session.get(DiscussionPost, post_id)
    require(post is not None)
    thread = db.session.get(DiscussionThread, post.thread_id)
    require(can_discuss(current_user, thread.cohort))
    action = request.form.get("action")
    try:
        if action == "edit":
            edit_post(post, current_user, request.form.get("body"))
        elif action == "delete":
            delete_post(post, current_user)
        elif action == "hide" and can_moderate(current_user, thread.cohort):
            hide_post(post, current_user, request.form.get("reason"))
        else:
            require(False, 403)
        db.session.commit()
        flash(_("Saved."), "info")
    except DiscussionError as error:
        db.session.rollback()
        flash(str(error), "error")
    before = db.session.scalar(select(func.count()).select_from(DiscussionPost).where(
        DiscussionPost.thread_id == thread.id, DiscussionPost.id < post.id))
    return redirect(url_for("discussions.thread_page", thread_id=thread.id, page=before // THREAD_PAGE + 1,
                            _anchor=f"post-{post.id}"))
