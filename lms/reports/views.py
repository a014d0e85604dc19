import csv
import io
from datetime import timedelta

from flask import Blueprint, flash, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from lms.clock import local_today
from lms.extensions import db
from lms.inputs import FIRST_DATE, LAST_DATE, parse_date, whole_number
from lms.labels import ACTIVITY_TYPE_LABELS, AUDIENCE_LABELS
from lms.learning.models import Cohort
from lms.permissions import require, role_required
from lms.practice.export import csv_safe
from lms.reports.services import programme_report
from lms.uploads import download_response

bp = Blueprint("reports", __name__, url_prefix="/admin/reports")
TABLES = ("summary", "activity", "sites", "audiences", "weeks", "funnel")


MAX_PERIOD = timedelta(days=10 * 366)


def _period():
    """The report's period from ?start= and ?end=; the last year, with a message, when they cannot be used."""
    today = local_today()
    last_year = today - timedelta(days=364), today
    start = parse_date(request.args["start"]) if request.args.get("start") else last_year[0]
    end = parse_date(request.args["end"]) if request.args.get("end") else last_year[1]
    if start is None or end is None:
        flash(_("Enter dates as YYYY-MM-DD, from %(first)s to %(last)s; showing the last year instead.",
                first=FIRST_DATE.year, last=LAST_DATE.year), "error")
        return last_year
    if end < start:
        flash(_("The period ends before it starts; showing the last year instead."), "error")
        return last_year
    if end - start > MAX_PERIOD:
        flash(_("A report covers at most ten years; showing the last year instead."), "error")
        return last_year
    return start, end


def _report():
    cohort_id = request.args.get("cohort", type=whole_number)
    cohort = db.session.get(Cohort, cohort_id) if cohort_id else None
    start, end = _period()
    return programme_report(start, end, cohort)


@bp.route("")
@role_required("admin")
def report():
    cohorts = db.session.scalars(select(Cohort).order_by(Cohort.name)).all()
    data = _report()
    tallest = max([m for _w, m in data.weeks] + [1])
    return render_template("reports/report.html", report=data, cohorts=cohorts, tallest=tallest,
                           args=request.args.to_dict())


def _rows(report, table):
    hours = lambda minutes: f"{(minutes or 0) / 60:.1f}"  # noqa: E731
    if table == "summary":
        return [(_("Indicator"), _("Value")), (_("Trainees enrolled"), report.enrolled),
                (_("Active trainees"), report.active), (_("Trainees who completed"), report.completed),
                (_("Certificates issued"), report.certificates_issued),
                (_("Certificates revoked"), report.certificates_revoked),
                (_("Assignments submitted"), report.submitted), (_("of them late"), report.submitted_late),
                (_("Assignments passed"), report.passed), (_("Sessions held"), report.sessions_held),
                (_("Attendance taken (trainee places)"), report.attendance_marked),
                (_("Attended (present or late)"), report.attended),
                (_("Discussion posts"), report.discussion_posts),
                (_("Approved practice hours"), hours(report.approved_minutes)),
                (_("Events organised"), report.events), (_("Participants of events"), report.event_participants),
                (_("Partner sites involved"), report.partner_sites)]
    if table == "activity":
        return [(_("Activity"), _("Hours"), _("Entries"))] + [
            (str(ACTIVITY_TYPE_LABELS.get(code, code)), hours(m), n) for code, m, n in report.by_activity]
    if table == "sites":
        return [(_("Site"), _("Hours"), _("Entries"))] + [(name, hours(m), n) for name, _k, m, n in report.by_site]
    if table == "audiences":
        return [(_("Audience"), _("Hours"), _("Participants"))] + [
            (str(AUDIENCE_LABELS.get(code, code)), hours(m), p) for code, m, p in report.by_audience]
    if table == "weeks":
        return [(_("Week from"), _("Hours"))] + [(week.isoformat(), hours(m)) for week, m in report.weeks]
    return [(_("Course"), _("Step"), _("Trainees"))] + [
        (course, step.key, step.count) for course, steps in report.funnels for step in steps]


@bp.route("/<table>.csv")
@role_required("admin")
def report_csv(table):
    require(table in TABLES)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _rows(_report(), table):
        writer.writerow([csv_safe(value) for value in row])
    return download_response("\ufeff" + buffer.getvalue(), "text/csv", f"report-{table}.csv")
