"""The kinds of cohort session: plain codes (no Flask), shared by the schedule and the curriculum loader, which
checks a course's session plan against them; labels live in lms/labels.py."""
SESSION_KINDS = ("seminar", "supervision", "case_club", "excursion", "other")
