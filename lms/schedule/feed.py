"""A person's calendar as an iCalendar feed (RFC 5545) that Google, Apple and Yandex calendars and Thunderbird
subscribe to: the sessions of their cohorts and the due dates of their work, in the programme's time zone."""
from datetime import UTC, timedelta

from flask import current_app

from lms.clock import programme_timezone, utcnow
from lms.schedule.agenda import cohorts_of, sessions_of, trainee_deadlines

PAST, FUTURE = timedelta(days=60), timedelta(days=400)


def _local(moment):
    return moment.replace(tzinfo=UTC).astimezone(programme_timezone())


def calendar_feed(user):
    # Imported here: only the feed needs the library, and every worker would otherwise carry it.
    from icalendar import Calendar, Event

    base = current_app.config["LMS_BASE_URL"]
    host = base.split("://", 1)[-1].split("/", 1)[0]
    calendar = Calendar()
    calendar.add("prodid", "-//Community manager school LMS//RU")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", current_app.config["LMS_ISSUER_NAME"])
    calendar.add("x-wr-timezone", str(programme_timezone()))
    now = utcnow()
    for session in sessions_of([c.id for c in cohorts_of(user)], since=now - PAST, until=now + FUTURE):
        event = Event()
        event.add("uid", f"session-{session.id}@{host}")
        event.add("dtstamp", now.replace(tzinfo=UTC))
        event.add("dtstart", _local(session.starts_at))
        event.add("dtend", _local(session.ends_at))
        event.add("summary", session.title)
        place = session.site.name if session.site else session.place
        if place or session.online_url:
            event.add("location", place or session.online_url)
        event.add("description", "\n".join(filter(None, (session.note, session.online_url))))
        event.add("url", f"{base}/sessions/{session.id}")
        event.add("status", "CANCELLED" if session.cancelled_at else "CONFIRMED")
        calendar.add_component(event)
    if user.is_trainee:
        for item in trainee_deadlines(user):
            if not now - PAST <= item.due_at <= now + FUTURE:
                continue
            event = Event()
            event.add("uid", f"deadline-{item.cohort_id}-{item.assignment_id}-{user.id}@{host}")
            event.add("dtstamp", now.replace(tzinfo=UTC))
            event.add("dtstart", _local(item.due_at))
            event.add("dtend", _local(item.due_at))
            event.add("summary", f"Срок: {item.title}")
            event.add("url", f"{base}/courses/{item.course_slug}/{item.module_slug}/assignments/{item.key}")
            calendar.add_component(event)
    return calendar.to_ical()
