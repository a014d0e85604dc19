"""What a trainee's approved practice adds up to, against the course's certificate requirement.

Every figure is aggregated in SQL over approved entries only; the number of queries is fixed, two for any
number of courses.
"""
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from lms.clock import local_today
from lms.extensions import db
from lms.learning.models import Cohort
from lms.practice.models import PracticeEntry, PracticeEntryAudience, PracticeSite


@dataclass
class WeekBar:
    week_start: object
    hours: float
    x: float = 0
    height: float = 0


@dataclass
class PracticeSummary:
    approved_minutes: int = 0
    entries: int = 0
    participants: int = 0
    by_activity: list = field(default_factory=list)  # (code, minutes)
    by_audience: list = field(default_factory=list)  # (code, minutes, participants)
    sites: list = field(default_factory=list)  # (name, minutes)
    weeks: list = field(default_factory=list)
    required_hours: float = 0
    required_activity_types: int = 0
    pending_minutes: int = 0

    @property
    def approved_hours(self):
        return round(self.approved_minutes / 60, 1)

    @property
    def missing_hours(self):
        return max(0, round(self.required_hours - self.approved_minutes / 60, 1))

    @property
    def missing_activity_types(self):
        return max(0, self.required_activity_types - len(self.by_activity))

    @property
    def requirement_met(self):
        return not self.missing_hours and not self.missing_activity_types


def practice_summary(trainee, course, weeks=12, today=None):
    """Approved practice of trainee for course, with the last `weeks` weeks of hours for a chart."""
    return practice_summaries(trainee.id, [course], weeks=weeks, today=today)[course.id]


def practice_summaries(trainee_id, courses, weeks=12, today=None):
    """{course id: PracticeSummary} of one trainee for several courses, in two queries however many courses.

    One query totals approved and waiting entries per course, day, activity and site, and the figures are
    summed up from those rows; the other totals audiences, which have a row each per entry."""
    today = today or local_today()
    first_week = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    summaries = {course.id: PracticeSummary(required_hours=course.certificate.get("practice_hours", 0),
                                            required_activity_types=course.certificate.get("min_activity_types", 0))
                 for course in courses}
    if not summaries:
        return summaries
    mine = (PracticeEntry.trainee_id == trainee_id, Cohort.course_id.in_(summaries))
    by_activity, by_site, per_day = ({c: {} for c in summaries} for _ in range(3))
    for course_id, status, day, activity, site, entries, minutes, participants in db.session.execute(
            select(Cohort.course_id, PracticeEntry.status, PracticeEntry.date, PracticeEntry.activity_type,
                   PracticeSite.name, func.count(), func.sum(PracticeEntry.minutes),
                   func.sum(PracticeEntry.participants))
            .join(Cohort, Cohort.id == PracticeEntry.cohort_id)
            .join(PracticeSite, PracticeSite.id == PracticeEntry.site_id)
            .where(*mine, PracticeEntry.status.in_(("approved", "submitted")))
            .group_by(Cohort.course_id, PracticeEntry.status, PracticeEntry.date, PracticeEntry.activity_type,
                      PracticeSite.name)):
        summary = summaries[course_id]
        if status == "submitted":
            summary.pending_minutes += minutes
            continue
        summary.entries += entries
        summary.approved_minutes += minutes
        summary.participants += participants
        _add(by_activity[course_id], activity, minutes)
        _add(by_site[course_id], site, minutes)
        if day >= first_week:
            _add(per_day[course_id], day, minutes)
    audiences = {c: [] for c in summaries}
    for course_id, audience, minutes, participants in db.session.execute(
            select(Cohort.course_id, PracticeEntryAudience.audience, func.sum(PracticeEntry.minutes),
                   func.sum(PracticeEntryAudience.participants))
            .join(PracticeEntry, PracticeEntry.id == PracticeEntryAudience.entry_id)
            .join(Cohort, Cohort.id == PracticeEntry.cohort_id)
            .where(*mine, PracticeEntry.status == "approved")
            .group_by(Cohort.course_id, PracticeEntryAudience.audience)):
        audiences[course_id].append((audience, minutes, participants))
    for course_id, summary in summaries.items():
        summary.by_activity = _largest_first(by_activity[course_id].items())
        summary.sites = _largest_first(by_site[course_id].items())
        summary.by_audience = _largest_first(audiences[course_id])
        summary.weeks = _week_bars(per_day[course_id], first_week, weeks)
    return summaries


def _add(totals, key, minutes):
    totals[key] = totals.get(key, 0) + minutes


def _largest_first(rows):
    return sorted(rows, key=lambda row: row[1], reverse=True)


# The weekly chart is drawn at its own size in pixels (never scaled down on a phone, so its text stays readable):
# 12 bars a step apart fit a 360 px screen's card, and the tallest leaves room above it for its value.
WEEK_BAR_STEP, WEEK_BAR_TALLEST = 24, 88


def _week_bars(per_day, first_week, weeks):
    bars = [WeekBar(first_week + timedelta(weeks=i), 0) for i in range(weeks)]
    for day, minutes in per_day.items():
        index = (day - first_week).days // 7
        if 0 <= index < weeks:
            bars[index].hours += minutes / 60
    tallest = max([b.hours for b in bars] + [1])
    for i, bar in enumerate(bars):
        bar.hours = round(bar.hours, 1)
        bar.x = i * WEEK_BAR_STEP + 4
        bar.height = round(WEEK_BAR_TALLEST * bar.hours / tallest, 1)
    return bars
