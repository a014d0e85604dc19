"""S8 and S9: one certificate PDF, and a bulk issue of 1,000 certificates in one transaction.

`measure(url)` fills the given empty database (the fixture course, 1,000 eligible trainees in one cohort),
issues their certificates through the service that `flask lms issue-certificates` and the admin page call,
commits once, then times the PDF of 30 different certificates the way `/verify/<code>.pdf` makes them
(look-up, QR code, embedded fonts). It drops its tables and disposes of the engine when done.

`python bench/certificates.py` prints one line per measurement, on a temporary SQLite database or
BENCH_DATABASE_URL (an empty database: its tables are dropped at the end).
"""
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from queries import QueryCounter  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from config import TestConfig  # noqa: E402
from lms import create_app  # noqa: E402
from lms.auth.models import User, UserRole  # noqa: E402
from lms.auth.services import create_user  # noqa: E402
from lms.certificates.credentials import verify_url  # noqa: E402
from lms.certificates.pdf import certificate_pdf  # noqa: E402
from lms.certificates.services import find_certificate, issue_certificates_for_cohort  # noqa: E402
from lms.clock import local_today, utcnow  # noqa: E402
from lms.curriculum.models import Assignment, Course  # noqa: E402
from lms.curriculum.services import sync_curriculum  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.grading.models import Submission  # noqa: E402
from lms.learning.models import Enrolment  # noqa: E402
from lms.learning.services import assign_mentor, create_cohort  # noqa: E402
from lms.partners.services import save_partner  # noqa: E402
from lms.practice.models import PracticeEntry  # noqa: E402
from lms.practice.totals import rebuild_practice_totals  # noqa: E402

TRAINEES = int(os.environ.get("BENCH_CERTIFICATES", 1000))
PDF_RUNS = 30
FIXTURE_COURSES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "courses"


def bench_app(url):
    config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False,
                                                 "ARGON2_PROFILE": "CHEAPEST"})
    return create_app(config)


def populate(trainees):
    """The fixture course and a cohort of `trainees` who all meet its certificate rules; returns (cohort, admin)."""
    result = sync_curriculum(FIXTURE_COURSES)
    assert result.ok, result.problems
    course = db.session.scalar(select(Course))
    admin = create_user("admin@example.org", "Админ", ["admin", "mentor"])
    cohort = create_cohort(course, "Группа")
    assign_mentor(cohort, admin)
    site = save_partner(None, "Центр", "centre")
    required = db.session.scalars(select(Assignment).where(
        Assignment.course_id == course.id, Assignment.key.in_(course.certificate["required_assignments"]))).all()
    db.session.flush()
    now, today = utcnow(), local_today()
    # Bulk rows for speed: the shapes the services write, already passed and approved.
    db.session.execute(insert(User), [{"email": f"t{i}@example.org", "name": f"Слушатель Номер {i}", "active": True,
                                       "session_version": 1, "created_at": now} for i in range(trainees)])
    ids = db.session.scalars(select(User.id).where(User.email.like("t%@example.org")).order_by(User.id)).all()
    db.session.execute(insert(UserRole), [{"user_id": i, "role": "trainee"} for i in ids])
    db.session.execute(insert(Enrolment), [{"trainee_id": i, "cohort_id": cohort.id, "enrolled_at": now}
                                           for i in ids])
    db.session.execute(insert(Submission), [
        {"assignment_id": a.id, "trainee_id": i, "attempt": 1, "status": "passed", "score": a.spec["max_score"],
         "answer_markdown": "", "answer_html": "", "feedback_markdown": "", "feedback_html": "",
         "created_at": now, "submitted_at": now, "graded_at": now, "version": 1} for i in ids for a in required])
    db.session.execute(insert(PracticeEntry), [
        {"trainee_id": i, "cohort_id": cohort.id, "site_id": site.id, "date": today - timedelta(days=d + 1),
         "minutes": 300, "activity_type": kind, "participants": 0, "status": "approved", "created_at": now,
         "description_markdown": "", "description_html": "", "reflection_markdown": "", "reflection_html": "",
         "mentor_comment_markdown": "", "mentor_comment_html": "", "version": 1}
        for i in ids for d, kind in enumerate(("workshop_class", "partner_meeting"))])
    rebuild_practice_totals()  # the rows above went past the reviews that keep the totals
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return cohort, admin


def measure(url, progress=None):
    """Fill the empty database at url, time S8 and S9, drop the tables again; returns the results."""
    app = bench_app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        try:
            cohort, admin = populate(TRAINEES)
            with QueryCounter(db.engine) as queries:
                started = time.perf_counter()
                issued = issue_certificates_for_cohort(cohort, admin, progress=progress)
                db.session.commit()
                bulk_ms = (time.perf_counter() - started) * 1000
            if len(issued) != TRAINEES:
                raise RuntimeError(f"S9 issued {len(issued)} certificates, not {TRAINEES}: trainees were not eligible")
            codes = [certificate.code for certificate in issued]
            db.session.remove()  # the PDFs load their certificate afresh, as a request does

            def one_pdf(code):
                certificate = find_certificate(code)
                return certificate_pdf(certificate, verify_url(certificate))

            for code in codes[-3:]:  # warm-up: first imports, font files into the page cache
                one_pdf(code)
            timings = []
            for code in codes[:PDF_RUNS]:
                started = time.perf_counter()
                one_pdf(code)
                timings.append((time.perf_counter() - started) * 1000)
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
    return {
        "S8 certificate PDF": {"ms": round(statistics.median(timings), 1), "best_ms": round(min(timings), 1),
                               "target_ms": 50},
        "S9 bulk issue of 1,000 certificates": {"ms": round(bulk_ms), "target_ms": 60000, "certificates": len(issued),
                                                "queries": queries.count},
    }


def main():
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

    def progress(done, total):
        if done == total or done % 250 == 0:
            print(f"  {done}/{total} checked", file=sys.stderr)

    results = measure(url, progress=progress)
    pdf, bulk = results["S8 certificate PDF"], results["S9 bulk issue of 1,000 certificates"]
    print(f"bulk issue: {bulk['certificates']} certificates in {bulk['ms'] / 1000:.2f} s "
          f"({bulk['ms'] / max(bulk['certificates'], 1):.1f} ms each, {bulk['queries']} queries)")
    print(f"certificate PDF: median {pdf['ms']:.1f} ms, best {pdf['best_ms']:.1f} ms ({PDF_RUNS} certificates)")


if __name__ == "__main__":
    main()
