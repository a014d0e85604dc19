"""What a trainee's approved practice adds up to, against the course's certificate requirement.

Every figure is aggregated in SQL over approved entries only; the number of queries is fixed.
"""
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import case, func, select

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
    in_course = PracticeEntry.cohort_id.in_(select(Cohort.id).where(Cohort.course_id == course.id))
    approved = (PracticeEntry.trainee_id == trainee.id, PracticeEntry.status == "approved", in_course)
    summary = PracticeSummary(required_hours=course.certificate.get("practice_hours", 0),
                              required_activity_types=course.certificate.get("min_activity_types", 0))
    is_approved = PracticeEntry.status == "approved"
    totals = db.session.execute(
        select(func.count(case((is_approved, 1))),
               func.coalesce(func.sum(case((is_approved, PracticeEntry.minutes), else_=0)), 0),
               func.coalesce(func.sum(case((is_approved, PracticeEntry.participants), else_=0)), 0),
               func.coalesce(func.sum(case((PracticeEntry.status == "submitted", PracticeEntry.minutes), else_=0)), 0))
        .where(PracticeEntry.trainee_id == trainee.id, PracticeEntry.status.in_(("approved", "submitted")),
               in_course)).one()
    summary.entries, summary.approved_minutes, summary.participants, summary.pending_minutes = totals
    summary.by_activity = db.session.execute(
        select(PracticeEntry.activity_type, func.sum(PracticeEntry.minutes)).where(*approved)
        .group_by(PracticeEntry.activity_type).order_by(func.sum(PracticeEntry.minutes).desc())).all()
    summary.by_audience = db.session.execute(
        select(PracticeEntryAudience.audience, func.sum(PracticeEntry.minutes),
               func.sum(PracticeEntryAudience.participants))
        .join(PracticeEntry, PracticeEntry.id == PracticeEntryAudience.entry_id).where(*approved)
        .group_by(PracticeEntryAudience.audience).order_by(func.sum(PracticeEntry.minutes).desc())).all()
    summary.sites = db.session.execute(
        select(PracticeSite.name, func.sum(PracticeEntry.minutes))
        .join(PracticeEntry, PracticeEntry.site_id == PracticeSite.id).where(*approved)
        .group_by(PracticeSite.name).order_by(func.sum(PracticeEntry.minutes).desc())).all()

    today = today or local_today()
    first_week = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    per_day = db.session.execute(
        select(PracticeEntry.date, func.sum(PracticeEntry.minutes)).where(*approved, PracticeEntry.date >= first_week)
        .group_by(PracticeEntry.date)).all()
    bars = [WeekBar(first_week + timedelta(weeks=i), 0) for i in range(weeks)]
    for day, minutes in per_day:
        index = (day - first_week).days // 7
        if 0 <= index < weeks:
            bars[index].hours += minutes / 60
    tallest = max([b.hours for b in bars] + [1])
    for i, bar in enumerate(bars):
        bar.hours = round(bar.hours, 1)
        bar.x = i * 26 + 4
        bar.height = round(100 * bar.hours / tallest, 1)
    summary.weeks = bars
    return summary
