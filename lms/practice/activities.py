"""The one list of practice activity types and audiences, shared by the curriculum and the practice log.

Plain codes only (no Flask), so the curriculum loader can validate against them; labels live in
lms/labels.py.
"""
ACTIVITY_TYPES = (
    "event_organisation",
    "event_facilitation",
    "resident_consultation",
    "outreach_survey",
    "partner_meeting",
    "workshop_class",
    "volunteer_coordination",
    "digital_moderation",
    "centre_administration",
)

AUDIENCES = (
    "children_teens",
    "youth",
    "adults",
    "pensioners",
    "parents_on_leave",
    "local_business",
)
