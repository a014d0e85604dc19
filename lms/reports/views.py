from datetime import timedelta

from flask import Blueprint, flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.clock import local_today
from lms.extensions import db
from lms.inputs import FIRST_DATE, LAST_DATE, parse_date, whole_number
from lms.labels import ACTIVITY_TYPE_LABELS, AUDIENCE_LABELS
from lms.learning.models import Cohort
from lms.permissions import require, role_required
from lms.reports.services import programme_report
from lms.spreadsheets import csv_download, xlsx_download

bp = Blueprint("reports", __name__, url_prefix="/admin/reports")
TABLES = {"summary": _l("Summary"), "activity": _l("By activity"), "sites": _l("By site"),
          "audiences": _l("By audience"), "weeks": _l("Hours per week"), "funnel": _l("Completion funnel")}
# The funnel's steps, each its own phrase: "trainees who ..." in the chart and the tables.
FUNNEL_LABELS = {"enrolled": _l("were enrolled"), "read": _l("read every module"),
                 "passed": _l("passed the required assignments"), "hours": _l("met the practice hours"),
                 "certified": _l("hold a valid certificate")}


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
                           args=request.args.to_dict(), funnel_labels=FUNNEL_LABELS)


def _rows(report, table):
    hours = lambda minutes: round((minutes or 0) / 60, 1)  # noqa: E731
    if table == "summary":
        return [(_("Indicator"), _("Value")), (_("Trainees enrolled"), report.enrolled),
                (_("Active trainees"), report.active), (_("Trainees who completed: a certificate of the period, valid now"), report.completed),
                (_("Certificates issued in the period"), report.certificates_issued),
                (_("of them revoked since"), report.certificates_revoked),
                (_("of them valid now"), report.certificates_valid),
                (_("Assignments submitted"), report.submitted), (_("of them late"), report.submitted_late),
                (_("Assignments passed"), report.passed), (_("Sessions held"), report.sessions_held),
                (_("Attendance taken (trainee places)"), report.attendance_marked),
                (_("Attended (present or late)"), report.attended),
                (_("Discussion posts"), report.discussion_posts),
                (_("Approved practice hours"), hours(report.approved_minutes)),
                (_("Events organised"), report.events), (_("Participants of events"), report.event_participants),
                (_("Partner sites involved"), report.partner_sites),
                (_("Organisations on the map (now)"), report.partners_on_map),
                (_("Partners taking part in the period (besides the pilot centre)"), report.partners_taking_part)]
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
    return [(_("Course"), _("Trainees who"), _("Trainees"))] + [
        (course, str(FUNNEL_LABELS[step.key]), step.count) for course, steps in report.funnels for step in steps]


@bp.route("/<table>.csv")
@role_required("admin")
def report_csv(table):
    require(table in TABLES)
    return csv_download(_rows(_report(), table), f"report-{table}.csv")


@bp.route("/report.xlsx")
@role_required("admin")
def report_xlsx():
    """Every table of the report in one workbook, a sheet each."""
    report = _report()
    return xlsx_download([(str(title), _rows(report, table), 1) for table, title in TABLES.items()],
                         f"report-{report.start.isoformat()}-{report.end.isoformat()}.xlsx")
