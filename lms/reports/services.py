"""The programme report for funders: every figure aggregated in SQL, a fixed number of queries.

A period is [start, end] in days, inclusive; an optional cohort narrows everything to its trainees.
"""
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import distinct, func, select, union

from lms.certificates.models import Certificate
from lms.curriculum.models import Assignment, Course, Module
from lms.extensions import db
from lms.grading.models import Submission
from lms.learning.models import Cohort, Enrolment, ModuleProgress
from lms.practice.models import PracticeEntry, PracticeEntryAudience, PracticeSite


@dataclass
class FunnelStep:
    key: str
    count: int


@dataclass
class ProgrammeReport:
    start: object
    end: object
    cohort: object
    enrolled: int = 0
    active: int = 0
    completed: int = 0
    certificates_issued: int = 0
    certificates_revoked: int = 0
    submitted: int = 0
    passed: int = 0
    approved_minutes: int = 0
    by_activity: list = field(default_factory=list)  # (code, minutes, entries)
    by_site: list = field(default_factory=list)  # (name, kind, minutes, entries)
    by_audience: list = field(default_factory=list)  # (code, minutes, participants)
    events: int = 0
    event_participants: int = 0
    partner_sites: int = 0
    weeks: list = field(default_factory=list)  # (week start, minutes)
    funnels: list = field(default_factory=list)  # (course title, [FunnelStep])

    @property
    def approved_hours(self):
        return self.approved_minutes / 60


def _bounds(start, end):
    return datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)


def programme_report(start, end, cohort=None):
    report = ProgrammeReport(start=start, end=end, cohort=cohort)
    since, until = _bounds(start, end)
    trainees = select(Enrolment.trainee_id)
    if cohort is not None:
        trainees = trainees.where(Enrolment.cohort_id == cohort.id)
    in_scope = PracticeEntry.cohort_id == cohort.id if cohort is not None else True

    report.enrolled = db.session.scalar(select(func.count(distinct(Enrolment.trainee_id))).where(
        Enrolment.trainee_id.in_(trainees), Enrolment.enrolled_at < until))
    activity = union(
        select(Submission.trainee_id.label("t")).where(Submission.submitted_at >= since,
                                                       Submission.submitted_at < until),
        select(PracticeEntry.trainee_id).where(PracticeEntry.date >= start, PracticeEntry.date <= end),
        select(ModuleProgress.trainee_id).where(ModuleProgress.completed_at >= since,
                                                ModuleProgress.completed_at < until)).subquery()
    report.active = db.session.scalar(select(func.count()).select_from(activity).where(activity.c.t.in_(trainees)))

    issued_in_period = (Certificate.issued_at >= since, Certificate.issued_at < until)
    issued, revoked, completed = db.session.execute(select(
        func.count(Certificate.id).filter(*issued_in_period),
        func.count(Certificate.id).filter(Certificate.revoked_at >= since, Certificate.revoked_at < until),
        func.count(distinct(Certificate.trainee_id)).filter(*issued_in_period, Certificate.revoked_at.is_(None)))
        .where(Certificate.trainee_id.in_(trainees))).one()
    report.certificates_issued, report.certificates_revoked, report.completed = issued, revoked, completed

    report.submitted, report.passed = db.session.execute(select(
        func.count(Submission.id).filter(Submission.submitted_at >= since, Submission.submitted_at < until),
        func.count(Submission.id).filter(Submission.status == "passed", Submission.graded_at >= since,
                                         Submission.graded_at < until))
        .where(Submission.trainee_id.in_(trainees))).one()

    approved = (PracticeEntry.status == "approved", PracticeEntry.date >= start, PracticeEntry.date <= end, in_scope)
    report.by_activity = db.session.execute(
        select(PracticeEntry.activity_type, func.sum(PracticeEntry.minutes), func.count())
        .where(*approved).group_by(PracticeEntry.activity_type)
        .order_by(func.sum(PracticeEntry.minutes).desc())).all()
    report.approved_minutes = sum(row[1] for row in report.by_activity)
    report.by_site = db.session.execute(
        select(PracticeSite.name, PracticeSite.kind, func.sum(PracticeEntry.minutes), func.count())
        .join(PracticeEntry, PracticeEntry.site_id == PracticeSite.id).where(*approved)
        .group_by(PracticeSite.name, PracticeSite.kind).order_by(func.sum(PracticeEntry.minutes).desc())).all()
    report.partner_sites = len(report.by_site)
    report.by_audience = db.session.execute(
        select(PracticeEntryAudience.audience, func.sum(PracticeEntry.minutes),
               func.sum(PracticeEntryAudience.participants))
        .join(PracticeEntry, PracticeEntry.id == PracticeEntryAudience.entry_id).where(*approved)
        .group_by(PracticeEntryAudience.audience).order_by(func.sum(PracticeEntryAudience.participants).desc())).all()
    report.events, report.event_participants = db.session.execute(
        select(func.count(), func.coalesce(func.sum(PracticeEntry.participants), 0))
        .where(*approved, PracticeEntry.activity_type == "event_organisation")).one()

    per_day = db.session.execute(select(PracticeEntry.date, func.sum(PracticeEntry.minutes))
                                 .where(*approved).group_by(PracticeEntry.date)).all()
    first = start - timedelta(days=start.weekday())
    weeks = {}
    for day, minutes in per_day:
        monday = day - timedelta(days=day.weekday())
        weeks[monday] = weeks.get(monday, 0) + minutes
    report.weeks = [(first + timedelta(weeks=i), weeks.get(first + timedelta(weeks=i), 0))
                    for i in range((end - first).days // 7 + 1)]
    report.funnels = _funnels(cohort, trainees)
    return report


def _funnels(cohort, trainees):
    """Per course: enrolled → all modules read → required assignments passed → practice hours met →
    certified. Four grouped queries per course (usually one course)."""
    courses = db.session.scalars(select(Course).where(Course.id.in_(
        select(Cohort.course_id).where(Cohort.id == cohort.id) if cohort is not None else select(Cohort.course_id))
    ).order_by(Course.title)).all()
    funnels = []
    for course in courses:
        members = select(Enrolment.trainee_id).join(Cohort).where(Cohort.course_id == course.id,
                                                                   Enrolment.trainee_id.in_(trainees))
        enrolled = db.session.scalar(select(func.count(distinct(Enrolment.trainee_id))).join(Cohort).where(
            Cohort.course_id == course.id, Enrolment.trainee_id.in_(trainees)))
        modules = select(func.count()).where(Module.course_id == course.id).scalar_subquery()
        read = db.session.scalar(select(func.count()).select_from(
            select(ModuleProgress.trainee_id).join(Module).where(Module.course_id == course.id,
                                                                 ModuleProgress.trainee_id.in_(members))
            .group_by(ModuleProgress.trainee_id).having(func.count() >= modules).subquery()))
        keys = (course.certificate or {}).get("required_assignments", [])
        required = select(Assignment.id).where(Assignment.course_id == course.id, Assignment.key.in_(keys))
        passed_all = db.session.scalar(select(func.count()).select_from(
            select(Submission.trainee_id).where(Submission.status == "passed", Submission.assignment_id.in_(required),
                                                Submission.trainee_id.in_(members))
            .group_by(Submission.trainee_id).having(func.count(distinct(Submission.assignment_id)) >= len(keys))
            .subquery())) if keys else enrolled
        need_minutes = (course.certificate or {}).get("practice_hours", 0) * 60
        # An entry belongs to its trainee's cohort, so the cohorts alone select the right trainees.
        cohorts = select(Cohort.id).where(Cohort.course_id == course.id)
        if cohort is not None:
            cohorts = cohorts.where(Cohort.id == cohort.id)
        hours_met = db.session.scalar(select(func.count()).select_from(
            select(PracticeEntry.trainee_id).where(PracticeEntry.status == "approved",
                                                   PracticeEntry.cohort_id.in_(cohorts))
            .group_by(PracticeEntry.trainee_id).having(func.sum(PracticeEntry.minutes) >= need_minutes).subquery()))
        certified = db.session.scalar(select(func.count(distinct(Certificate.trainee_id))).where(
            Certificate.course_id == course.id, Certificate.revoked_at.is_(None), Certificate.trainee_id.in_(members)))
        funnels.append((course.title, [FunnelStep("enrolled", enrolled), FunnelStep("read", read),
                                       FunnelStep("passed", passed_all), FunnelStep("hours", hours_met),
                                       FunnelStep("certified", certified)]))
    return funnels

