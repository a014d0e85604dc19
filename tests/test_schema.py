"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, make_url, text

from lms.auth.services import create_user
from lms.clock import local_today
from lms.curriculum.models import Course
from lms.curriculum.services import sync_curriculum
from lms.extensions import db
from lms.learning.services import assign_mentor, create_cohort, enrol_trainee
from lms.partners.services import save_partner
from lms.practice.services import EntryData, review_practice_entry, save_practice_entry
from lms.reports.services import programme_report
from tests.conftest import FIXTURE_COURSES, practice_totals_agree


@pytest.fixture
def empty_database_url(app, tmp_path):
    """A URL of a brand-new empty database of the kind the suite runs on."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    name = f"lms_migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_match_the_models(app_factory, empty_database_url):
    app = app_factory(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        db.drop_all()  # the factory created tables from the models; start from nothing
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        db.session.remove()
        db.engine.dispose()
    assert diff == []


def test_migration_0007_totals_the_practice_approved_before_it(app_factory, empty_database_url):
    """Practice approved before the totals existed counts in the programme report from the upgrade on."""
    app = app_factory(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        db.drop_all()
        upgrade()
        assert sync_curriculum(FIXTURE_COURSES).ok
        cohort = create_cohort(db.session.scalar(db.select(Course)), "Группа 1")
        mentor = create_user("mentor@example.org", "Марина", ["mentor"])
        assign_mentor(cohort, mentor)
        site = save_partner(None, "Центр", "centre")
        for n, (minutes, audiences) in enumerate(((60, {"pensioners": 5}), (90, {"youth": 3, "adults": 4}))):
            trainee = create_user(f"trainee{n}@example.org", f"Слушатель {n}", ["trainee"])
            enrol_trainee(cohort, trainee)
            entry = save_practice_entry(trainee, EntryData(
                cohort=cohort, site=site, date=local_today(), duration_minutes=minutes, activity_type="workshop_class",
                audiences=audiences, description="Описание", reflection="Итоги"), submit=True)
            review_practice_entry(entry, mentor, "approve", "", entry.version)
        db.session.commit()
        downgrade(revision="0006")
        upgrade()
        assert programme_report(local_today(), local_today()).approved_minutes == 150
        assert practice_totals_agree()
        db.session.remove()
        db.engine.dispose()
