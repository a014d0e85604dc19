"""Certificate timings: one PDF, and a bulk issue of 500 certificates in one transaction.

Run with `make bench`; prints one line per measurement. Uses a temporary SQLite database (or
BENCH_DATABASE_URL) and the fixture course.
"""
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from config import TestConfig  # noqa: E402
from lms import create_app  # noqa: E402
from lms.auth.services import create_user  # noqa: E402
from lms.certificates.credentials import verify_url  # noqa: E402
from lms.certificates.pdf import certificate_pdf  # noqa: E402
from lms.certificates.services import issue_certificates_for_cohort  # noqa: E402
from lms.clock import local_today  # noqa: E402
from lms.curriculum.models import Assignment, Course  # noqa: E402
from lms.curriculum.services import sync_curriculum  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.grading.models import Submission  # noqa: E402
from lms.learning.services import assign_mentor, create_cohort, enrol_trainee  # noqa: E402
from lms.practice.models import PracticeEntry  # noqa: E402
from lms.practice.services import save_practice_site  # noqa: E402

TRAINEES = int(os.environ.get("BENCH_CERTIFICATES", 500))


def main():
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False,
                                                 "ARGON2_PROFILE": "CHEAPEST"})
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
        sync_curriculum(Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "courses")
        course = db.session.scalar(select(Course))
        admin = create_user("admin@example.org", "Админ", ["admin", "mentor"])
        cohort = create_cohort(course, "Группа")
        assign_mentor(cohort, admin)
        site = save_practice_site(None, "Центр", "centre")
        required = db.session.scalars(select(Assignment).where(Assignment.key.in_(
            course.certificate["required_assignments"]))).all()
        now = local_today()
        for i in range(TRAINEES):
            trainee = create_user(f"t{i}@example.org", f"Слушатель Номер {i}", ["trainee"])
            enrol_trainee(cohort, trainee)
            # Bulk rows for speed: the shapes the services write, already approved and passed.
            db.session.add_all([Submission(assignment_id=a.id, trainee_id=trainee.id, attempt=1, status="passed",
                                           score=a.spec["max_score"]) for a in required])
            db.session.add_all([PracticeEntry(trainee_id=trainee.id, cohort=cohort, site=site,
                                              date=now - timedelta(days=d + 1), minutes=300, activity_type=kind,
                                              status="approved") for d, kind in enumerate(
                                                  ("workshop_class", "partner_meeting"))])
        db.session.commit()

        started = time.perf_counter()
        issued = issue_certificates_for_cohort(cohort, admin)
        db.session.commit()
        bulk = time.perf_counter() - started
        each = bulk / max(len(issued), 1) * 1000
        print(f"bulk issue: {len(issued)} certificates in {bulk:.2f} s ({each:.1f} ms each)")

        certificate = issued[0]
        timings = []
        for _ in range(30):
            started = time.perf_counter()
            certificate_pdf(certificate, verify_url(certificate))
            timings.append((time.perf_counter() - started) * 1000)
        print(f"certificate PDF: median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms (30 runs)")


if __name__ == "__main__":
    main()
