"""`flask lms backup`: a consistent copy taken while the application writes, and restored."""
import shutil
import sqlite3
import subprocess
import threading
import uuid

import pytest
from sqlalchemy import create_engine, func, make_url, select, text

from lms.auth.models import User
from lms.auth.services import create_user
from lms.extensions import db


def test_sqlite_backup_during_writes_restores_intact(app_factory, tmp_path):
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'live.sqlite3'}")
    for i in range(200):
        create_user(f"before{i}@example.org", f"До {i}", ["trainee"])
    db.session.commit()
    stop = threading.Event()

    def keep_writing():
        with app.app_context():
            n = 0
            while not stop.is_set():
                create_user(f"during{n}@example.org", f"Во время {n}", ["trainee"])
                db.session.commit()
                n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        result = app.test_cli_runner().invoke(args=["lms", "backup", str(tmp_path / "backup.sqlite3")])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert "pages copied" in result.output and "Backup written" in result.output
    restored = sqlite3.connect(tmp_path / "backup.sqlite3")
    assert restored.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    count = restored.execute("SELECT count(*) FROM users").fetchone()[0]
    emails = {row[0] for row in restored.execute("SELECT email FROM users")}
    assert count >= 200 and {f"before{i}@example.org" for i in range(200)} <= emails
    restored.close()


def test_postgresql_backup_restores_with_the_same_row_counts(app, tmp_path):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        pytest.skip("runs on PostgreSQL (TEST_DATABASE_URL)")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.fail("pg_dump and pg_restore are needed (Debian: postgresql-client)")
    for i in range(50):
        create_user(f"user{i}@example.org", f"Пользователь {i}", ["trainee"])
    db.session.commit()
    dump = tmp_path / "backup.dump"
    result = app.test_cli_runner().invoke(args=["lms", "backup", str(dump)])
    assert result.exit_code == 0, result.output
    name = f"lms_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        target = url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={target}", str(dump)], check=True)
        restored = create_engine(url.set(database=name))
        with restored.connect() as conn:
            assert conn.execute(select(func.count()).select_from(User.__table__)).scalar() == 50
        restored.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_backup_of_an_in_memory_database_is_explained(app_factory, tmp_path):
    app = app_factory(SQLALCHEMY_DATABASE_URI="sqlite://")
    result = app.test_cli_runner().invoke(args=["lms", "backup", str(tmp_path / "never.sqlite3")])
    assert result.exit_code == 1 and "in-memory" in result.output
