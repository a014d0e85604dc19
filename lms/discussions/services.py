"""Comments on work, announcements and the discussion board. Services add and flush; the caller commits."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from lms.audit import record_event
from lms.auth.models import User
from lms.clock import utcnow
from lms.discussions.models import (
    Announcement,
    AnnouncementRead,
    DiscussionPost,
    DiscussionThread,
    WorkComment,
)
from lms.extensions import db
from lms.learning.models import CohortMentor, Enrolment
from lms.notifications.services import notify, path_for
from lms.rendering import render_user_markdown

MAX_TEXT = 20_000
COMMENT_EDIT_WINDOW = timedelta(minutes=15)
POST_EDIT_WINDOW = timedelta(minutes=30)


class DiscussionError(ValueError):
    """Field-by-field problems, {field: message}; str() joins them."""

    def __init__(self, errors):
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors


def _text(value, field="body"):
    text = (value or "").strip()
    if not text:
        raise DiscussionError({field: _l("Write something first.")})
    if len(text) > MAX_TEXT:
        raise DiscussionError({field: _l("The text is too long (at most 20,000 characters).")})
    return text


def _title(value):
    title = (value or "").strip()
    if not title:
        raise DiscussionError({"title": _l("Give the thread a title.")})
    if len(title) > DiscussionThread.title.type.length:
        raise DiscussionError({"title": _l("The title is too long (at most %(n)d characters).",
                                           n=DiscussionThread.title.type.length)})
    return title


def cohort_members(cohort_id):
    """(trainees, mentors) of a cohort, as users."""
    trainees = db.session.scalars(select(User).join(Enrolment, Enrolment.trainee_id == User.id)
                                  .where(Enrolment.cohort_id == cohort_id)).all()
    mentors = db.session.scalars(select(User).join(CohortMentor, CohortMentor.mentor_id == User.id)
                                 .where(CohortMentor.cohort_id == cohort_id)).all()
    return trainees, mentors


# --- comments on work ------------------------------------------------------------------------

def add_comment(author, text, *, submission=None, entry=None, trainee, cohort_id, url):
    """A comment beside a submission or a practice entry; the other side is told (the trainee, or the mentors of
    the trainee's cohort when the trainee wrote)."""
    body = _text(text)
    comment = WorkComment(submission_id=submission.id if submission else None, entry_id=entry.id if entry else None,
                          author_id=author.id, body_markdown=body, body_html=render_user_markdown(body))
    db.session.add(comment)
    db.session.flush()
    recipients = cohort_members(cohort_id)[1] if author.id == trainee.id else [trainee]
    for person in recipients:
        notify(person, "comment_added", url, actor=author, author=author.name)
    return comment


def edit_comment(comment, author, text):
    if comment.author_id != author.id:
        raise DiscussionError({"body": _l("Only the author can change a comment.")})
    if utcnow() - comment.created_at > COMMENT_EDIT_WINDOW:
        raise DiscussionError({"body": _l("A comment can be changed for 15 minutes after it is written.")})
    comment.body_markdown = _text(text)
    comment.body_html = render_user_markdown(comment.body_markdown)
    comment.edited_at = utcnow()
    db.session.flush()


def comments_on(submission=None, entry=None):
    column, value = (WorkComment.submission_id, submission.id) if submission else (WorkComment.entry_id, entry.id)
    return db.session.scalars(select(WorkComment).options(joinedload(WorkComment.author).lazyload(User.role_rows))
                              .where(column == value).order_by(WorkComment.id)).all()


# --- announcements ----------------------------------------------------------------------------

def post_announcement(cohorts, author, title, text):
    """The same announcement to each of the cohorts; their trainees are told."""
    title = _title(title)
    body = _text(text)
    made = []
    for cohort in cohorts:
        announcement = Announcement(cohort_id=cohort.id, author_id=author.id, title=title, body_markdown=body,
                                    body_html=render_user_markdown(body))
        db.session.add(announcement)
        db.session.flush()
        for trainee in cohort_members(cohort.id)[0]:
            notify(trainee, "announcement", path_for("discussions.announcements", cohort_id=cohort.id),
                   actor=author, title=title)
        made.append(announcement)
    record_event(author, "announcement.post", made[0], cohorts=[c.id for c in cohorts], title=title)
    return made


def unread_announcements(trainee):
    """Announcements of the trainee's cohorts they have not marked read, newest first."""
    read = select(AnnouncementRead.announcement_id).where(AnnouncementRead.user_id == trainee.id)
    cohorts = select(Enrolment.cohort_id).where(Enrolment.trainee_id == trainee.id)
    return db.session.scalars(select(Announcement).where(Announcement.cohort_id.in_(cohorts),
                                                         Announcement.id.not_in(read))
                              .order_by(Announcement.id.desc()).limit(5)).all()


def mark_announcement_read(announcement, user):
    if db.session.get(AnnouncementRead, (announcement.id, user.id)) is None:
        db.session.add(AnnouncementRead(announcement_id=announcement.id, user_id=user.id))
        db.session.flush()


# --- the discussion board --------------------------------------------------------------------

def start_thread(cohort, author, title, text, module=None):
    title = _title(title)
    body = _text(text)
    if module is not None and module.course_id != cohort.course_id:
        raise DiscussionError({"module": _l("Choose a module of the cohort's course.")})
    thread = DiscussionThread(cohort_id=cohort.id, author_id=author.id, title=title, module=module)
    db.session.add(thread)
    db.session.flush()
    db.session.add(DiscussionPost(thread_id=thread.id, author_id=author.id, body_markdown=body,
                                  body_html=render_user_markdown(body)))
    db.session.flush()
    return thread


def reply(thread, author, text):
    """A reply at the end of the thread; everyone who posted in it before is told (a digest by default)."""
    if thread.locked:
        raise DiscussionError({"body": _l("This thread is locked: no new replies.")})
    body = _text(text)
    post = DiscussionPost(thread_id=thread.id, author_id=author.id, body_markdown=body,
                          body_html=render_user_markdown(body))
    db.session.add(post)
    now = utcnow()
    db.session.execute(update(DiscussionThread).where(DiscussionThread.id == thread.id).values(
        replies=DiscussionThread.replies + 1, last_post_at=now))
    db.session.flush()
    participants = db.session.scalars(select(User).where(User.id.in_(
        select(DiscussionPost.author_id).where(DiscussionPost.thread_id == thread.id)))).all()
    url = path_for("discussions.thread_page", thread_id=thread.id)
    for person in participants:
        notify(person, "discussion_reply", url, actor=author, title=thread.title)
    return post


def edit_post(post, author, text):
    if post.author_id != author.id or post.deleted_at is not None:
        raise DiscussionError({"body": _l("Only the author can change a post.")})
    if utcnow() - post.created_at > POST_EDIT_WINDOW:
        raise DiscussionError({"body": _l("A post can be changed for 30 minutes after it is written.")})
    post.body_markdown = _text(text)
    post.body_html = render_user_markdown(post.body_markdown)
    post.edited_at = utcnow()
    db.session.flush()


def delete_post(post, author):
    if post.author_id != author.id:
        raise DiscussionError({"body": _l("Only the author can delete a post.")})
    post.deleted_at = utcnow()
    db.session.flush()


def hide_post(post, moderator, reason):
    reason = (reason or "").strip()
    if not reason:
        raise DiscussionError({"reason": _l("Say why the post is hidden: its author sees the reason.")})
    if len(reason) > DiscussionPost.hidden_reason.type.length:
        raise DiscussionError({"reason": _l("The reason is too long (at most %(n)d characters).",
                                            n=DiscussionPost.hidden_reason.type.length)})
    post.hidden_at, post.hidden_by_id, post.hidden_reason = utcnow(), moderator.id, reason
    db.session.flush()
    record_event(moderator, "discussion.hide", post, reason=reason, author_id=post.author_id)


def moderate_thread(thread, moderator, pinned=None, locked=None):
    if pinned is not None:
        thread.pinned = pinned
    if locked is not None:
        thread.locked = locked
    db.session.flush()
    record_event(moderator, "discussion.moderate", thread, pinned=thread.pinned, locked=thread.locked)
