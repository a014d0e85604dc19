"""A consistent copy of the database while the application keeps running."""
import shutil
import sqlite3
import subprocess

from sqlalchemy import make_url


class BackupError(RuntimeError):
    """The backup could not be made; str() says why and what to do."""


def backup_database(database_url, target, progress=None):
    """SQLite: the online backup API (readers and writers go on). PostgreSQL: pg_dump in custom format."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise BackupError("an in-memory database cannot be backed up")
        source = sqlite3.connect(url.database)
        destination = sqlite3.connect(target)
        try:
            with destination:
                source.backup(destination, pages=256,
                              progress=(lambda _status, remaining, total: progress(total - remaining, total))
                              if progress else None)
        finally:
            destination.close()
            source.close()
        return "sqlite"
    if url.get_backend_name() == "postgresql":
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise BackupError("pg_dump is not installed: install the PostgreSQL client (Debian: postgresql-client) "
                              "or run pg_dump on the database server")
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        result = subprocess.run([pg_dump, "--format=custom", "--no-owner", f"--file={target}", plain],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        return "postgresql"
    raise BackupError(f"no backup method for {url.get_backend_name()}")
