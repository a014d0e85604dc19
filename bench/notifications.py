"""S11: 10,000 due notifications e-mailed in one run of `flask lms send-notifications` (target: under 30 s).

10,000 trainees each have one notification due at once (a grade), so the run composes 10,000 messages in the
recipient's language (text and HTML) and sends them to a local SMTP sink (aiosmtpd, accepting everything) over
one connection, marking each sent in its own transaction. The command runs as cron runs it: a new process, timed
from start to exit. `measure(url)` fills the empty database at url, times the command, checks the sink got every
message, and drops the tables. `python bench/notifications.py` prints it for a temporary SQLite database or
BENCH_DATABASE_URL.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from config import TestConfig  # noqa: E402
from lms import create_app  # noqa: E402
from lms.auth.models import User  # noqa: E402
from lms.clock import utcnow  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.notifications.models import Notification, OutgoingEmail  # noqa: E402

EMAILS = int(os.environ.get("BENCH_EMAILS", 10_000))


class Sink:
    def __init__(self):
        self.received = 0

    async def handle_DATA(self, server, session, envelope):
        self.received += 1
        return "250 OK"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _populate():
    now = utcnow()
    db.session.execute(insert(User), [{"email": f"trainee{n}@example.org", "name": f"Слушатель {n}",
                                       "active": True, "session_version": 1, "created_at": now,
                                       "unread_notifications": 1} for n in range(EMAILS)])
    ids = db.session.scalars(select(User.id).order_by(User.id)).all()
    db.session.execute(insert(Notification), [
        {"user_id": user_id, "kind": "submission_passed", "params": {"title": "Эссе о районе", "score": 8},
         "url": "/courses/community-manager/01-intro/assignments/essay", "created_at": now, "email_due_at": now}
        for user_id in ids])
    db.session.commit()


def measure(url):
    app = create_app(type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False}))
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    with app.app_context():
        db.drop_all()
        db.create_all()
        try:
            _populate()
            env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "MAIL_SERVER": "127.0.0.1",
                   "MAIL_PORT": str(controller.port), "MAIL_USE_TLS": "false"}
            started = time.perf_counter()
            run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "lms", "send-notifications"],
                                 cwd=ROOT, env=env, capture_output=True, text=True)
            elapsed_ms = (time.perf_counter() - started) * 1000
            if run.returncode != 0:
                raise RuntimeError(f"send-notifications failed: {run.stdout}{run.stderr}")
            sent = db.session.scalar(select(func.count()).select_from(OutgoingEmail)
                                     .where(OutgoingEmail.status == "sent"))
            if sink.received != EMAILS or sent != EMAILS:
                raise RuntimeError(f"S11 delivered {sink.received} and marked {sent} sent, not {EMAILS}")
        finally:
            controller.stop()
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
    return {"S11 send 10,000 due e-mails": {"ms": round(elapsed_ms), "target_ms": 30000, "emails": EMAILS,
                                            "output": run.stdout.strip().splitlines()[-1]}}


if __name__ == "__main__":
    target = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/notifications.sqlite3"
    print(measure(target))
