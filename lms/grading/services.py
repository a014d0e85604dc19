"""Submitting assignments and grading them. Services add and flush; the caller commits."""
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from lms.audit import record_event
from lms.clock import utcnow
from lms.curriculum.models import Assignment, Course, Module
from lms.extensions import db
from lms.grading.models import GRADED, Submission, SubmissionFile
from lms.learning.services import mentors_of
from lms.notifications.services import notify, path_for
from lms.rendering import render_markdown
from lms.schedule.deadlines import deadline_for
from lms.uploads import MAX_FILES

MAX_ANSWER_LENGTH = 50_000
DECISIONS = {"pass": "passed", "fail": "failed", "return": "returned"}


class GradingError(ValueError):
    """A request that cannot be carried out; str() is the message for the user, `field` the form's control it is
    about (a rubric criterion's "score-0", "decision", "feedback", "reason"), if any."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class GradingConflict(GradingError):
    """Someone else graded the attempt since the page was opened."""


class QuizIncomplete(GradingError):
    """Questions left unanswered: `missing` holds their ids, in the quiz's order."""

    def __init__(self, missing):
        super().__init__(_l("Answer every question before submitting."))
        self.missing = missing


def attempts_of(trainee, assignment):
    """Every attempt, oldest first, with its files and grader loaded in the same round trips."""
    return db.session.scalars(select(Submission).options(
        selectinload(Submission.files), joinedload(Submission.graded_by)).where(
        Submission.trainee_id == trainee.id, Submission.assignment_id == assignment.id)
        .order_by(Submission.attempt)).all()


def _attempt_to_write(trainee, assignment):
    """The draft to continue, or a new attempt when there is none yet or the last was returned."""
    attempts = attempts_of(trainee, assignment)
    latest = attempts[-1] if attempts else None
    if latest is not None and latest.status == "draft":
        return latest
    if latest is not None and latest.status != "returned":
        raise GradingError(_l("This assignment is already submitted; it can no longer be changed."))
    submission = Submission(assignment=assignment, trainee_id=trainee.id,
                            attempt=latest.attempt + 1 if latest else 1, status="draft")
    db.session.add(submission)
    return submission


def save_text_answer(trainee, assignment, text, submit):
    """Save a written answer as a draft, or submit it for grading."""
    if assignment.kind != "text" or assignment.retired:
        raise GradingError(_l("This assignment does not take a written answer."))
    text = (text or "").strip()
    if not text:
        raise GradingError(_l("Write your answer first."), "answer")
    if len(text) > MAX_ANSWER_LENGTH:
        raise GradingError(_l("The answer is too long (at most %(n)d characters).", n=MAX_ANSWER_LENGTH), "answer")
    deadline = _open_deadline(trainee, assignment) if submit else None
    submission = _attempt_to_write(trainee, assignment)
    submission.answer_markdown = text
    submission.answer_html = render_markdown(text)
    if submit:
        _hand_in(submission, deadline)
    db.session.flush()
    if submit:
        _tell_mentors(trainee, submission)
    return submission


def save_files_draft(trainee, assignment, files, note=""):
    """Keep checked files and a note as a draft, to be handed in after the trainee has looked at it again
    (hand_in_draft). New files replace the draft's; without new files only the note changes."""
    if assignment.kind != "file" or assignment.retired:
        raise GradingError(_l("This assignment does not take files."))
    if len(files) > MAX_FILES:
        raise GradingError(_l("At most %(n)d files.", n=MAX_FILES), "files")
    if len((note or "").strip()) > MAX_ANSWER_LENGTH:
        raise GradingError(_l("The answer is too long (at most %(n)d characters).", n=MAX_ANSWER_LENGTH), "note")
    existing = draft_of(trainee, assignment)
    if not files and (existing is None or not existing.files):
        raise GradingError(_l("Choose at least one file."), "files")
    submission = _attempt_to_write(trainee, assignment)
    submission.answer_markdown = (note or "").strip()
    submission.answer_html = render_markdown(submission.answer_markdown)
    if files:
        submission.files = [SubmissionFile.from_checked(checked) for checked in files]
    db.session.flush()
    return submission


def draft_of(trainee, assignment):
    """The trainee's draft of the assignment, or None."""
    attempts = attempts_of(trainee, assignment)
    return attempts[-1] if attempts and attempts[-1].status == "draft" else None


def hand_in_draft(trainee, assignment):
    """Send the trainee's draft (a written answer or files) to the mentors for grading."""
    if assignment.kind not in ("text", "file") or assignment.retired:
        raise GradingError(_l("This assignment does not take a written answer."))
    submission = draft_of(trainee, assignment)
    if submission is None:
        raise GradingError(_l("There is no draft to hand in."))
    if assignment.kind == "text" and not submission.answer_markdown.strip():
        raise GradingError(_l("Write your answer first."))
    if assignment.kind == "file" and not submission.files:
        raise GradingError(_l("Choose at least one file."))
    deadline = _open_deadline(trainee, assignment)
    _hand_in(submission, deadline)
    db.session.flush()
    _tell_mentors(trainee, submission)
    return submission


def withdraw_submission(submission, trainee):
    """Take a handed-in attempt back as a draft, before any mentor has opened it (audited)."""
    if submission.trainee_id != trainee.id:
        raise GradingError(_l("Only the author can withdraw this work."))
    if submission.status != "submitted":
        raise GradingError(_l("Only work waiting for a mentor can be withdrawn."))
    if submission.review_opened_at is not None:
        raise GradingError(_l("A mentor has already opened this work for review; it can no longer be withdrawn."))
    handed_in = submission.submitted_at
    # One conditional UPDATE, so that a mentor opening the work at this moment wins cleanly: whichever comes
    # second sees the other's change.
    withdrawn = db.session.execute(
        update(Submission).where(Submission.id == submission.id, Submission.status == "submitted",
                                 Submission.review_opened_at.is_(None))
        .values(status="draft", submitted_at=None, late=False, version=Submission.version + 1)
        .execution_options(synchronize_session=False)).rowcount
    if withdrawn != 1:
        raise GradingError(_l("A mentor has already opened this work for review; it can no longer be withdrawn."))
    db.session.expire(submission, ["status", "submitted_at", "late", "version"])
    record_event(trainee, "submission.withdraw", submission, trainee_id=trainee.id,
                 assignment=submission.assignment.key, attempt=submission.attempt,
                 submitted_at=handed_in.isoformat() if handed_in else None)
    db.session.flush()
    return submission


def mark_review_opened(submission, mentor):
    """The first time a mentor opens a handed-in attempt: from now on the trainee cannot withdraw it. Not a
    versioned change (the grading form's version stays what the mentor sees)."""
    if submission.status != "submitted" or submission.review_opened_at is not None or \
            mentor.id == submission.trainee_id:
        return False
    now = utcnow()
    db.session.execute(update(Submission).where(Submission.id == submission.id,
                                                Submission.review_opened_at.is_(None))
                       .values(review_opened_at=now).execution_options(synchronize_session=False))
    set_committed_value(submission, "review_opened_at", now)
    return True


def _open_deadline(trainee, assignment):
    """The trainee's deadline, read before anything is written (a query would flush a half-made attempt);
    GradingError once the cut-off has passed."""
    deadline = deadline_for(trainee.id, assignment)
    if deadline.is_closed(utcnow()):
        raise GradingError(_l("Submission for this assignment closed on %(date)s.",
                              date=format_datetime(deadline.cutoff_at, "short")))
    return deadline


def _hand_in(submission, deadline):
    """Submitted now, marked late after the due date."""
    submission.status = "submitted"
    submission.submitted_at = utcnow()
    submission.late = deadline.is_late(submission.submitted_at)


def _tell_mentors(trainee, submission):
    assignment = submission.assignment
    url = path_for("grading.grade_page", submission_id=submission.id)
    for mentor in mentors_of(trainee.id, assignment.course_id):
        notify(mentor, "work_submitted", url, actor=trainee, trainee=trainee.name, title=assignment.title)


def submit_files(trainee, assignment, files, note=""):
    """Submit checked files (lms.uploads.check_upload) as a new attempt."""
    if assignment.kind != "file" or assignment.retired:
        raise GradingError(_l("This assignment does not take files."))
    if not files:
        raise GradingError(_l("Choose at least one file."))
    if len(files) > MAX_FILES:
        raise GradingError(_l("At most %(n)d files.", n=MAX_FILES))
    if len((note or "").strip()) > MAX_ANSWER_LENGTH:
        raise GradingError(_l("The answer is too long (at most %(n)d characters).", n=MAX_ANSWER_LENGTH))
    deadline = _open_deadline(trainee, assignment)
    submission = _attempt_to_write(trainee, assignment)
    submission.answer_markdown = (note or "").strip()
    submission.answer_html = render_markdown(submission.answer_markdown)
    for checked in files:
        submission.files.append(SubmissionFile.from_checked(checked))
    _hand_in(submission, deadline)
    db.session.flush()
    _tell_mentors(trainee, submission)
    return submission


def submit_quiz(trainee, assignment, answers):
    """Grade a quiz attempt at once. answers: {question id: [chosen options]}."""
    if assignment.kind != "quiz" or assignment.retired:
        raise GradingError(_l("This assignment is not a quiz."))
    spec = assignment.spec
    used = len(attempts_of(trainee, assignment))
    if used >= spec["attempts"]:
        raise GradingError(_l("You have used all your attempts at this quiz."))
    chosen, results, score = {}, {}, 0
    missing = [q["id"] for q in spec["questions"]
               if not any(a in q["options"] for a in answers.get(q["id"], []))]
    if missing:
        raise QuizIncomplete(missing)
    for question in spec["questions"]:
        picked = [a for a in answers.get(question["id"], []) if a in question["options"]]
        chosen[question["id"]] = picked
        results[question["id"]] = sorted(picked) == sorted(question["answers"])
        score += results[question["id"]]
    deadline = _open_deadline(trainee, assignment)
    now = utcnow()
    submission = Submission(assignment=assignment, trainee_id=trainee.id, attempt=used + 1, late=deadline.is_late(now),
                            status="passed" if score >= spec["pass_score"] else "failed",
                            quiz_answers=chosen, quiz_results=results, score=score, submitted_at=now,
                            graded_at=now, feedback_seen_at=now)
    db.session.add(submission)
    db.session.flush()
    return submission


def counted_attempt(assignment, attempts):
    """The attempt that stands for the assignment: best or last quiz attempt, else the latest sent one."""
    sent = [a for a in attempts if a.status != "draft"]
    if not sent:
        return None
    if assignment.kind == "quiz" and assignment.spec.get("counts", "best") == "best":
        return max(sent, key=lambda a: (a.score or 0, a.attempt))
    return sent[-1]


def attempts_by_assignment(trainee, assignments):
    """{assignment id: (attempt that counts or the latest, [every attempt])} in one query."""
    rows = db.session.scalars(select(Submission).where(
        Submission.trainee_id == trainee.id, Submission.assignment_id.in_([a.id for a in assignments]))
        .order_by(Submission.attempt)).all()
    result = {}
    for assignment in assignments:
        attempts = [r for r in rows if r.assignment_id == assignment.id]
        result[assignment.id] = (counted_attempt(assignment, attempts) or (attempts[-1] if attempts else None),
                                 attempts)
    return result


def failed_gates(rubric, scores):
    """The names of the gate criteria (`critical: true`) that scored zero: such work goes back for revision."""
    return [criterion["criterion"] for criterion, value in zip(rubric, scores or (), strict=False)
            if criterion.get("critical") and value == 0]


def grade_submission(submission, mentor, scores, feedback, decision, expected_version, reason=""):
    """Score a submitted attempt against its rubric and pass, fail or return it.

    scores: one whole number per rubric criterion (None where not given). Changing an earlier grade needs
    a reason, which goes to the audit log with the old and the new value.
    """
    assignment = submission.assignment
    if assignment.kind == "quiz":
        raise GradingError(_l("Quizzes are graded automatically."))
    if submission.status == "draft":
        raise GradingError(_l("This answer has not been submitted yet."))
    if submission.version != expected_version:
        raise GradingConflict(_l("Someone else graded this attempt while you were looking at it."))
    reason = (reason or "").strip()
    regrade = submission.status in GRADED
    if regrade and not reason:
        raise GradingError(_l("This attempt is already graded. To change the grade, give a reason."), "reason")
    if decision not in DECISIONS:
        raise GradingError(_l("Choose pass, fail or return for revision."), "decision")
    rubric = assignment.spec["rubric"]
    if len(scores) != len(rubric):
        raise GradingError(_l("Score every criterion of the rubric."), "score-0")
    for i, (value, criterion) in enumerate(zip(scores, rubric, strict=True)):
        if value is None:
            if decision != "return":
                raise GradingError(_l("Score every criterion of the rubric."), f"score-{i}")
        elif not 0 <= value <= criterion["points"]:
            raise GradingError(_l("“%(name)s” takes 0 to %(points)d points.", name=criterion["criterion"],
                                  points=criterion["points"]), f"score-{i}")
    given = [v for v in scores if v is not None]
    score = sum(given) if len(given) == len(rubric) else None
    gates = failed_gates(rubric, scores)
    if gates and decision != "return":
        raise GradingError(_l("“%(name)s” is a gate criterion: a zero on it returns the work for revision "
                              "whatever the total.", name=gates[0]), "decision")
    pass_score = assignment.spec["pass_score"]
    if decision == "pass" and score < pass_score:
        raise GradingError(_l("%(score)d points is below the pass mark of %(pass)d: fail or return it.",
                              score=score, **{"pass": pass_score}), "decision")
    if decision == "fail" and score >= pass_score:
        raise GradingError(_l("%(score)d points reaches the pass mark of %(pass)d: pass it or lower the scores.",
                              score=score, **{"pass": pass_score}), "decision")
    feedback = (feedback or "").strip()
    if decision == "return" and not feedback:
        raise GradingError(_l("Say what to revise: write feedback when returning an answer."), "feedback")
    if len(feedback) > MAX_ANSWER_LENGTH:
        raise GradingError(_l("The feedback is too long (at most %(n)d characters).", n=MAX_ANSWER_LENGTH),
                           "feedback")

    old = {"status": submission.status, "score": submission.score, "graded_by": submission.graded_by_id}
    submission.status = DECISIONS[decision]
    submission.rubric_scores = list(scores)
    submission.score = score
    submission.feedback_markdown = feedback
    submission.feedback_html = render_markdown(feedback)
    submission.graded_at = utcnow()
    submission.graded_by_id = mentor.id
    submission.feedback_seen_at = None
    record_event(mentor, "submission.regrade" if regrade else "submission.grade", submission,
                 old=old, new={"status": submission.status, "score": score}, reason=reason or None,
                 trainee_id=submission.trainee_id, assignment=assignment.key)
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise GradingConflict(_l("Someone else graded this attempt while you were looking at it.")) from None
    kind = "submission_regraded" if regrade else f"submission_{submission.status}"
    notify(submission.trainee, kind, path_for("grading.assignment_page", course_slug=assignment.course.slug,
                                              module_slug=assignment.module.slug, key=assignment.key),
           actor=mentor, title=assignment.title, score=score)
    return submission


def mark_feedback_seen(submissions):
    """Returns whether any feedback was new."""
    unseen = [s for s in submissions if s.status in GRADED and s.feedback_seen_at is None]
    now = utcnow()
    for submission in unseen:
        submission.feedback_seen_at = now
    return bool(unseen)


def unseen_feedback(trainee):
    """Graded or returned attempts the trainee has not opened since, newest first."""
    return db.session.execute(
        select(Submission, Assignment, Module.slug, Course.slug)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .join(Module, Module.id == Assignment.module_id)
        .join(Course, Course.id == Assignment.course_id)
        .where(Submission.trainee_id == trainee.id, Submission.status.in_(GRADED),
               Submission.feedback_seen_at.is_(None))
        .order_by(Submission.graded_at.desc())).all()
