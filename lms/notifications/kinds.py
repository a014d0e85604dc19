"""What can be notified: each kind's group (what a person chooses e-mail for) and its sentence.

Sentences are kept as message ids and translated when shown, so a notification reads in the language of whoever
reads it, in the app or in an e-mail. Areas name a kind and give its params; they add kinds here.
"""
from dataclasses import dataclass
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.i18n import content_sentence, content_text


def N_(message):
    """Marks a message for extraction (Babel's default keyword); translated later, with its params."""
    return message


@dataclass(frozen=True)
class Group:
    label: object
    roles: tuple  # who may choose for it: people with any of these roles see it in their settings
    default: dict  # role -> mode; the first of the person's roles found here decides


GROUPS = {
    "grades": Group(_l("Grades and work returned for revision"), ("trainee",), {"trainee": "now"}),
    "practice": Group(_l("Practice entries: approved, returned, answered by a site"), ("trainee",),
                      {"trainee": "now"}),
    "certificates": Group(_l("Certificates issued or revoked"), ("trainee",), {"trainee": "now"}),
    "queue": Group(_l("Work waiting in my grading queue"), ("mentor",), {"mentor": "digest"}),
    "schedule": Group(_l("Sessions changed or cancelled, reminders of sessions and deadlines"),
                      ("trainee", "mentor"), {"trainee": "now", "mentor": "digest"}),
    "comments": Group(_l("Comments on my work or my trainees' work"), ("trainee", "mentor"),
                      {"trainee": "now", "mentor": "now"}),
    "announcements": Group(_l("Announcements to my cohort"), ("trainee",), {"trainee": "now"}),
    "discussions": Group(_l("Replies in discussions I take part in"), ("trainee", "mentor", "admin"),
                         {"trainee": "digest", "mentor": "digest", "admin": "digest"}),
    "system": Group(_l("Failed course syncs and undelivered e-mail"), ("admin",), {"admin": "now"}),
}
MODES = ("now", "digest", "off")
MODE_LABELS = {"now": _l("at once"), "digest": _l("daily digest"), "off": _l("off (in the app only)")}

KINDS = {
    "submission_passed": ("grades", N_("“%(title)s” is graded: passed, %(score)s points.")),
    "submission_failed": ("grades", N_("“%(title)s” is graded: not passed, %(score)s points.")),
    "submission_returned": ("grades", N_("“%(title)s” is returned to you for revision.")),
    "submission_regraded": ("grades", N_("The grade of “%(title)s” was changed.")),
    "practice_approved": ("practice", N_("Your practice entry of %(date)s is approved.")),
    "practice_returned": ("practice", N_("Your practice entry of %(date)s is returned to you for revision.")),
    "practice_reopened": ("practice", N_("Your approved practice entry of %(date)s is reopened.")),
    "site_confirmed": ("practice", N_("%(site)s confirmed your practice entry of %(date)s.")),
    "site_declined": ("practice", N_("%(site)s declined your practice entry of %(date)s.")),
    "certificate_issued": ("certificates", N_("Your certificate for “%(title)s” is issued.")),
    "certificate_revoked": ("certificates", N_("Your certificate for “%(title)s” is revoked.")),
    "work_submitted": ("queue", N_("%(trainee)s handed in “%(title)s”.")),
    "practice_submitted": ("queue", N_("%(trainee)s submitted a practice entry of %(date)s.")),
    "evaluation_midterm": ("queue", N_("%(site)s sent the midterm evaluation of %(trainee)s's placement.")),
    "evaluation_final": ("queue", N_("%(site)s sent the final evaluation of %(trainee)s's placement.")),
    "session_changed": ("schedule", N_("The session “%(title)s” of %(date)s has changed.")),
    "session_cancelled": ("schedule", N_("The session “%(title)s” of %(date)s is cancelled.")),
    "session_tomorrow": ("schedule", N_("Tomorrow: “%(title)s”.")),
    "deadline_soon": ("schedule", N_("“%(title)s” is due within 24 hours.")),
    "comment_added": ("comments", N_("%(author)s commented on your work.")),
    "announcement": ("announcements", N_("Announcement: %(title)s")),
    "discussion_reply": ("discussions", N_("A new reply in “%(title)s”.")),
    "sync_failed": ("system", N_("The course sync failed with %(problems)s problems.")),
    "email_failed": ("system", N_("An e-mail to %(address)s could not be delivered: %(error)s")),
}


def group_of(kind):
    return KINDS[kind][0]


# The params that are course content or user data, not words of the interface.
CONTENT_PARAMS = ("title", "trainee", "site", "author")


def _values(params):
    values = dict(params)
    if values.get("date"):
        values["date"] = format_date(date.fromisoformat(values["date"]))
    return values


def describe(kind, params):
    """The sentence of a notification in the current language, as plain text (for e-mails)."""
    return _(KINDS[kind][1], **_values(params))


def describe_html(kind, params):
    """The sentence for a page: escaped, its titles and names in a span with their own `lang` when it differs."""
    values = {key: content_text(value) if key in CONTENT_PARAMS else value for key, value in _values(params).items()}
    return content_sentence(_(KINDS[kind][1]), **values)


def default_mode(roles, group):
    for role in sorted(roles):
        if role in GROUPS[group].default:
            return GROUPS[group].default[role]
    return "now"


def groups_for(roles):
    return [name for name, group in GROUPS.items() if set(group.roles) & set(roles)]
