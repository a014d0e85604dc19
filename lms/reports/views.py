import csv
import io
from datetime import date, timedelta

from flask import Blueprint, Response, flash, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from lms.clock import local_today
from lms.extensions import db
from lms.labels import ACTIVITY_TYPE_LABELS, AUDIENCE_LABELS
from lms.learning.models import Cohort
from lms.permissions import require, role_required
from lms.practice.export import csv_safe
from lms.reports.services import programme_report

bp = Blueprint("reports", __name__, url_prefix="/admin/reports")
TABLES = ("summary", "activity", "sites", "audiences", "weeks", "funnel")


def _period():
    today = local_today()
    try:
        start = date.fromisoformat(request.args["start"]) if request.args.get("start") else today - timedelta(days=364)
        end = date.fromisoformat(request.args["end"]) if request.args.get("end") else today
    except ValueError:
        flash(_("Enter dates as YYYY-MM-DD."), "error")
        start, end = today - timedelta(days=364), today
    if end < start:
        flash(_("The period ends before it starts; showing the last year instead."), "error")
        start, end = today - timedelta(days=364), today
    return start, end


def _report():
    cohort = db.session.get(Cohort, request.args.get("cohort", type=int) or 0) if request.args.get("cohort") else None
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
                (_("Assignments submitted"), report.submitted), (_("Assignments passed"), report.passed),
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
    response = Response("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment", filename=f"report-{table}.csv")
    return response
