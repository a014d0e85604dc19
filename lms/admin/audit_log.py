"""The audit log as people read it: actions in words, details as text, each object named and linked.

The log itself (lms/audit.py) stores codes and JSON so that it never depends on wording; this module turns a page
of events into sentences, naming every object on the page in one query whatever their kinds.
"""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from markupsafe import Markup
from sqlalchemy import String, cast, literal, null, select, union_all

from lms.auth.models import User
from lms.certificates.models import Certificate
from lms.curriculum.models import Assignment
from lms.grading.models import Submission
from lms.i18n import content_sentence, content_text
from lms.labels import EVALUATION_KIND_LABELS, REPEAT_LABELS, ROLE_LABELS, SITE_KIND_LABELS, STATUS_LABELS
from lms.learning.models import Cohort
from lms.placements.models import Placement
from lms.practice.models import PracticeEntry, PracticeSite
from lms.schedule.models import CohortSession

ACTION_LABELS = {
    "announcement.post": _l("posted an announcement"),
    "certificate.issue": _l("issued a certificate"),
    "certificate.revoke": _l("revoked a certificate"),
    "certificate.name_hidden": _l("hid the name on a certificate"),
    "certificate.name_shown": _l("showed the name on a certificate"),
    "cohort.create": _l("created a cohort"),
    "cohort.update": _l("changed a cohort"),
    "cohort.enrol": _l("added a trainee to a cohort"),
    "cohort.assign_mentor": _l("added a mentor to a cohort"),
    "cohort.remove_mentor": _l("removed a mentor from a cohort"),
    "cohort.move_trainee": _l("moved a trainee to another cohort"),
    "curriculum.sync": _l("synced the curriculum"),
    "curriculum.check": _l("checked the curriculum"),
    "deadline.set": _l("set a due date"),
    "deadline.extend": _l("gave an extension"),
    "discussion.hide": _l("hid a discussion post"),
    "discussion.moderate": _l("moderated a discussion"),
    "practice.approve": _l("approved a practice entry"),
    "practice.return": _l("returned a practice entry"),
    "practice.reopen": _l("reopened a practice entry"),
    "practice.withdraw": _l("withdrew a practice entry"),
    "practice.site_confirmed": _l("the site confirmed a practice entry"),
    "practice.site_declined": _l("the site did not confirm a practice entry"),
    "practice_site.create": _l("added a practice site"),
    "practice_site.update": _l("changed a practice site"),
    "partner.create": _l("added a partner"),
    "partner.update": _l("changed a partner"),
    "partner.publish": _l("published a partner on the map"),
    "partner.unpublish": _l("took a partner off the map"),
    "partner.import": _l("imported partners from a file"),
    "partner.image": _l("put up a partner's photo or logo"),
    "partner.image_remove": _l("removed a partner's photo or logo"),
    "placement.request": _l("asked for a placement"),
    "placement.assign": _l("assigned a placement"),
    "placement.approve": _l("approved a placement"),
    "placement.decline": _l("declined a placement"),
    "agreement.submit": _l("sent learning goals to the mentor"),
    "agreement.approve": _l("approved learning goals"),
    "agreement.agree": _l("the site supervisor agreed to learning goals"),
    "evaluation.request": _l("asked the site supervisor for an evaluation"),
    "evaluation.submit": _l("the site supervisor gave an evaluation"),
    "evaluation.respond": _l("responded to an evaluation"),
    "session.schedule": _l("scheduled a session"),
    "session.update": _l("changed a session"),
    "session.cancel": _l("cancelled a session"),
    "session.attendance": _l("took attendance"),
    "submission.grade": _l("graded work"),
    "submission.regrade": _l("changed a grade"),
    "submission.withdraw": _l("withdrew handed-in work"),
    "user.create": _l("created an account"),
    "user.update": _l("changed a name or e-mail"),
    "user.roles": _l("changed roles"),
    "user.activate": _l("reactivated an account"),
    "user.deactivate": _l("deactivated an account"),
    "user.anonymise": _l("anonymised a person"),
    "user.export_personal_data": _l("exported a person's data"),
    "user.new_password_link": _l("made a new link to set the password"),
    "user.set_password": _l("set a password"),
}
# The kinds the log can be filtered by: the first part of an action's code.
KIND_LABELS = {
    "user": _l("accounts"), "cohort": _l("cohorts"), "certificate": _l("certificates"), "submission": _l("grades"),
    "practice": _l("practice entries"), "practice_site": _l("practice sites"),
    "partner": _l("partners"), "placement": _l("placements"),
    "agreement": _l("learning agreements"), "evaluation": _l("placement evaluations"), "session": _l("sessions"),
    "deadline": _l("due dates"), "announcement": _l("announcements"), "discussion": _l("discussions"),
    "curriculum": _l("curriculum"),
}
DETAIL_LABELS = {
    "reason": _l("reason"), "override_reason": _l("reason to issue anyway"), "roles": _l("roles"),
    "name": _l("name"), "email": _l("e-mail"), "changed": _l("changed"), "problems": _l("problems found"),
    "minutes": _l("minutes"), "comment": _l("comment"), "contact_name": _l("who answered"), "score": _l("score"),
    "decision": _l("decision"), "trainee_id": _l("trainee"), "cohort": _l("cohort"), "to_cohort": _l("to cohort"),
    "from_cohort": _l("from cohort"), "cohorts": _l("cohorts"), "mentor_id": _l("mentor"),
    "author_id": _l("author"), "course": _l("course"), "assignment": _l("assignment"), "attempt": _l("attempt"),
    "submitted_at": _l("handed in"), "due": _l("due"), "cutoff": _l("accepted until"), "old": _l("before"),
    "new": _l("after"), "status": _l("status"), "graded_by": _l("graded by"), "sessions": _l("sessions"),
    "repeat": _l("repeats"), "marked": _l("people marked"), "title": _l("title"), "pinned": _l("pinned"),
    "locked": _l("closed to replies"), "active": _l("in use"), "published": _l("published"), "site": _l("site"),
    "date": _l("date"), "rows": _l("rows"), "kind": _l("kind"), "address": _l("address"),
    "contact_email": _l("contact's e-mail"), "version": _l("version"), "level": _l("level"),
}
# A person's name is not the name of a thing («имя», not «название»).
PERSON_LABELS = {"name": _lp("person", "name")}
# Codes among the recorded values, in words: the roles of "user.roles" (its old and new lists), a grade's status,
# a partner's kind or an evaluation's (their codes differ).
VALUE_LABELS = {"roles": ROLE_LABELS, "old": ROLE_LABELS, "new": ROLE_LABELS, "status": STATUS_LABELS,
                "repeat": REPEAT_LABELS, "kind": {**SITE_KIND_LABELS, **EVALUATION_KIND_LABELS}}


def action_label(code):
    return ACTION_LABELS.get(code, code)


def _value_text(key, value):
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _l("yes") if value else _l("no")
    if isinstance(value, list):
        return Markup(", ").join(_value_text(key, v) for v in value)
    if isinstance(value, dict):
        return Markup(", ").join(Markup("%s: %s") % (DETAIL_LABELS.get(k, k), _value_text(k, v))
                                 for k, v in value.items())
    label = VALUE_LABELS.get(key, {}).get(value)
    return content_text(value) if label is None else label


def details_text(details, action=""):
    """The event's details as one line of HTML: "name: Old → New; reason: …", codes and yes/no in words, the recorded
    names and titles marked with their language (`plain_text` gives the CSV's text)."""
    labels = {**DETAIL_LABELS, **PERSON_LABELS} if action.startswith("user.") else DETAIL_LABELS
    parts = []
    for key, value in (details or {}).items():
        if isinstance(value, list) and len(value) == 2 and key in ("name", "email"):
            text = Markup("%s → %s") % (content_text(value[0]), content_text(value[1]))
        else:
            text = _value_text(key, value)
        parts.append(Markup("%s: %s") % (labels.get(key, key), text))
    return Markup("; ").join(parts)


def _names():
    """Per kind of object: (query of id and its name, link maker)."""
    trainee = User.__table__.alias("trainee")
    return {
        "users": (select(User.id, User.name, null()), lambda i, _x: url_for("admin.user_page", user_id=i)),
        "certificates": (select(Certificate.id, Certificate.short_code, Certificate.trainee_name), None),
        "cohorts": (select(Cohort.id, Cohort.name, null()), lambda i, _x: url_for("admin.cohort_page", cohort_id=i)),
        "submissions": (select(Submission.id, Assignment.title, trainee.c.name)
                        .join(Assignment, Assignment.id == Submission.assignment_id)
                        .join(trainee, trainee.c.id == Submission.trainee_id), None),
        "practice_entries": (select(PracticeEntry.id, cast(PracticeEntry.date, String), trainee.c.name)
                             .join(trainee, trainee.c.id == PracticeEntry.trainee_id),
                             lambda i, _x: url_for("practice.entry_page", entry_id=i)),
        "practice_sites": (select(PracticeSite.id, PracticeSite.name, null()),
                           lambda i, _x: url_for("partners.edit_partner", partner_id=i)),
        "placements": (select(Placement.id, PracticeSite.name, trainee.c.name)
                       .join(PracticeSite, PracticeSite.id == Placement.site_id)
                       .join(trainee, trainee.c.id == Placement.trainee_id),
                       lambda i, _x: url_for("placements.placement_page", placement_id=i)),
        "cohort_sessions": (select(CohortSession.id, CohortSession.title, null()),
                            lambda i, _x: url_for("schedule.session_page", session_id=i)),
    }


def describe_objects(events, session):
    """{(object type, object id): (HTML, url or None)} for the events, in one query; names marked as in details_text."""
    wanted = {}
    for event in events:
        if event.object_id and event.object_id.isdigit():
            wanted.setdefault(event.object_type, set()).add(int(event.object_id))
    names = _names()
    parts = []
    for kind, ids in wanted.items():
        if kind in names:
            query, _link = names[kind]
            column = query.selected_columns[0]
            parts.append(query.add_columns(literal(kind)).where(column.in_(ids)))
    described = {}
    if not parts:
        return described
    for object_id, name, extra, kind in session.execute(union_all(*parts)):
        link = names[kind][1]
        if kind == "certificates":
            text, url = content_sentence(_("certificate %(code)s of %(name)s"), code=name, name=content_text(extra)), \
                url_for("certificates.verify", code=name)
        elif kind == "submissions":
            text, url = content_sentence(_("%(name)s's work “%(title)s”"), name=content_text(extra),
                                         title=content_text(name)), None
        elif kind == "practice_entries":
            text, url = content_sentence(_("practice entry of %(name)s on %(day)s"), name=content_text(extra),
                                         day=name), link(object_id, extra)
        elif kind == "placements":
            text, url = content_sentence(_("placement of %(name)s at %(partner)s"), name=content_text(extra),
                                         partner=content_text(name)), link(object_id, extra)
        else:
            text, url = content_text(name), link(object_id, extra)
        described[(kind, str(object_id))] = (text, url)
    return described
