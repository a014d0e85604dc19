"""Translated labels for the codes stored in the database (roles, assignment kinds, practice lists)."""
from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "trainee": _l("trainee"),
    "mentor": _l("mentor"),
    "admin": _l("administrator"),
}

KIND_LABELS = {
    "text": _l("written answer"),
    "file": _l("file upload"),
    "quiz": _l("quiz"),
}

STATUS_LABELS = {
    None: _l("not started"),
    "draft": _l("draft saved"),
    "submitted": _l("submitted, waiting for a mentor"),
    "returned": _l("returned for revision"),
    "passed": _l("passed"),
    "failed": _l("not passed"),
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


def label_filters():
    """Jinja globals: role_label('admin') and the like; unknown codes show as themselves."""
    return {
        "role_label": lambda code: ROLE_LABELS.get(code, code),
        "kind_label": lambda code: KIND_LABELS.get(code, code),
        "status_label": lambda code: STATUS_LABELS.get(code, code),
        "activity_label": lambda code: ACTIVITY_TYPE_LABELS.get(code, code),
        "audience_label": lambda code: AUDIENCE_LABELS.get(code, code),
    }
