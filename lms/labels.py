"""Translated labels for the codes stored in the database (roles, assignment kinds, practice lists)."""
from functools import lru_cache

from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import pass_context

ROLE_LABELS = {
    "trainee": _l("trainee"),
    "mentor": _l("mentor"),
    "admin": _l("administrator"),
}

KIND_LABELS = {
    "text": _l("written answer"),
    "file": _l("file upload"),
    "quiz": _l("quiz"),
    "practice": _l("practice-log entry"),
}

STATUS_LABELS = {
    None: _l("not started"),
    "draft": _l("draft saved"),
    "submitted": _l("submitted, waiting for a mentor"),
    "returned": _l("returned for revision"),
    "passed": _l("passed"),
    "failed": _l("not passed"),
    "approved": _l("approved"),
}

REPEAT_LABELS = {
    "none": _l("once"),
    "weekly": _l("every week"),
    "fortnightly": _l("every two weeks"),
}

SITE_KIND_LABELS = {
    "centre": _l("neighbourhood centre"),
    "ngo": _l("non-profit organisation"),
    "business": _l("business"),
    "library": _l("library"),
    "school": _l("school or college"),
    "university": _l("university"),
    "municipal": _l("municipal body"),
    "residents": _l("residents' association or housing manager"),
    "other": _l("other"),
}

ACTIVITY_TYPE_LABELS = {
    "event_organisation": _l("Event organisation"),
    "event_facilitation": _l("Event facilitation"),
    "resident_consultation": _l("Resident consultation"),
    "outreach_survey": _l("Outreach and survey"),
    "partner_meeting": _l("Partner meeting"),
    "workshop_class": _l("Workshop or class"),
    "volunteer_coordination": _l("Volunteer coordination"),
    "digital_moderation": _l("Digital community moderation"),
    "centre_administration": _l("Administrative work of the centre"),
}

AUDIENCE_LABELS = {
    "children_teens": _l("Children and teenagers"),
    "youth": _l("Young people and students"),
    "adults": _l("Adults"),
    "pensioners": _l("Pensioners"),
    "parents_on_leave": _l("Parents on parental leave"),
    "local_business": _l("Local business"),
}


SESSION_KIND_LABELS = {
    "seminar": _l("seminar"),
    "supervision": _l("supervision"),
    "case_club": _l("case club"),
    "excursion": _l("excursion to a partner"),
    "other": _l("other"),
}

PLACEMENT_STATUS_LABELS = {
    "requested": _l("requested, waiting for a mentor"),
    "approved": _l("approved"),
    "declined": _l("declined"),
}

EVALUATION_KIND_LABELS = {
    "midterm": _l("midterm evaluation"),
    "final": _l("final evaluation"),
}

ATTENDANCE_LABELS = {
    "present": _l("present"),
    "late": _l("late"),
    "absent": _l("absent"),
    "excused": _l("excused"),
}


def format_hours(value):
    """Hours as people write them: 2, 4,5 (in Russian) or 4.5, at most one decimal."""
    return format_decimal(round(value or 0, 1), format="#,##0.#")


def label_filters():
    """Jinja globals: role_label('admin') and the like; unknown codes show as themselves."""
    return {name: _label_of(labels) for name, labels in (
        ("role_label", ROLE_LABELS), ("kind_label", KIND_LABELS), ("status_label", STATUS_LABELS),
        ("site_kind_label", SITE_KIND_LABELS), ("activity_label", ACTIVITY_TYPE_LABELS),
        ("audience_label", AUDIENCE_LABELS), ("session_kind_label", SESSION_KIND_LABELS),
        ("attendance_label", ATTENDANCE_LABELS), ("placement_status_label", PLACEMENT_STATUS_LABELS))}


def _label_of(labels):
    """The label of a code in the page's language, remembered per language: turning a lazy label into text goes
    through Flask-Babel's whole lookup each time, and a queue page shows some 60 labels."""
    @lru_cache(maxsize=256)
    def translated(code, _locale):
        return str(labels[code])

    @pass_context
    def label(context, code):  # the page's language, found once per page (lms.i18n.page_language)
        return translated(code, context.get("page_language") or str(get_locale())) if code in labels else code

    return label


def upload_error_message(error):
    """The message for an lms.uploads.UploadError, in the user's language."""
    messages = {
        "empty": _("%(name)s is empty.", name=error.filename),
        "too_large": _("%(name)s is larger than 10 MB.", name=error.filename),
        "type": _("%(name)s: only PDF, JPG, PNG, DOCX, ODT, XLSX and ODS files are accepted.", name=error.filename),
        "mismatch": _("%(name)s: the content does not match the file type its name says.", name=error.filename),
        "archive": _("%(name)s: the document unpacks to an unreasonable size.", name=error.filename),
        "not_image": _("%(name)s is not a JPG or PNG picture that can be read.", name=error.filename),
    }
    return messages[error.code]
