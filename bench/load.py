"""Pages under load against bare-Flask baselines: gunicorn pinned to core 0, wrk on core 1.

B0 a bare Flask hello world, B1 the sign-in page (base layout, no database); S1 a module page, S2 the trainee
dashboard, S4 the mentor's grading queue, on a generated programme (BENCH_SIZE, default S). Needs Debian's wrk
(`apt-get install wrk`); writes bench/results/http-<size>.json. First cut of issue 8's suite: full-load
throughput and wrk's latency percentiles (not yet at 50% of saturation).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from config import TestConfig  # noqa: E402
from lms import create_app  # noqa: E402
from lms.auth.services import create_user  # noqa: E402
from lms.bench_data import generate_dataset  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.learning.models import Cohort  # noqa: E402
from lms.learning.services import assign_mentor, enrol_trainee  # noqa: E402

SIZE = os.environ.get("BENCH_SIZE", "S")
DURATION = os.environ.get("BENCH_DURATION", "8s")
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", 16))
SECRET = "bench-secret"
PASSWORD = "bench password 1"
HELLO = "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef hello():\n    return 'Hello'\n"


def prepare(url):
    config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False,
                                                 "SECRET_KEY": SECRET})
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
        generate_dataset(SIZE)
        cohort = db.session.scalar(select(Cohort).order_by(Cohort.id))
        trainee = create_user("bench-trainee@example.org", "Слушатель Замеров", ["trainee"], password=PASSWORD)
        mentor = create_user("bench-mentor@example.org", "Наставник Замеров", ["mentor"], password=PASSWORD)
        enrol_trainee(cohort, trainee)
        assign_mentor(cohort, mentor)
        db.session.commit()
        emails = [trainee.email, mentor.email]
    # Sign in outside the app context above: each request then gets its own `g` (and CSRF token), as in production.
    cookies = {}
    for email in emails:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        cookies[email] = client.get_cookie("session").value
    return cookies


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(target, env, cwd):
    port = free_port()
    command = ["taskset", "-c", "0", str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", "2",
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", target]
    process = subprocess.Popen(command, cwd=cwd, env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except OSError as error:
            if getattr(error, "code", None):
                break
            time.sleep(0.1)
    return process, f"http://127.0.0.1:{port}"


def wrk(url, cookie=None):
    command = ["taskset", "-c", "1", "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", url]
    if cookie:
        command[5:5] = ["-H", f"Cookie: session={cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {p: _ms(m) for p, m in re.findall(r"^\s+(50|90|99)%\s+([\d.]+\w+)$", output, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rps, "p50_ms": latency.get("50"), "p90_ms": latency.get("90"), "p99_ms": latency.get("99"),
            "non_2xx": int(errors.group(1)) if errors else 0}


def _ms(value):
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return round(float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)


def main():
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    folder = Path(tempfile.mkdtemp())
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"
    cookies = prepare(url)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "LMS_BASE_URL": "http://127.0.0.1"}
    (folder / "hello.py").write_text(HELLO)
    results = {}
    hello, hello_url = start_gunicorn("hello:app", env, folder)
    try:
        results["B0 bare Flask"] = wrk(hello_url + "/")
    finally:
        hello.terminate()
        hello.wait()
    app, app_url = start_gunicorn("wsgi:app", env, ROOT)
    trainee, mentor = cookies["bench-trainee@example.org"], cookies["bench-mentor@example.org"]
    try:
        results["B1 sign-in page"] = wrk(app_url + "/login")
        results["S1 module page"] = wrk(app_url + "/courses/bench-course/module-1", trainee)
        results["S2 trainee dashboard"] = wrk(app_url + "/", trainee)
        results["S4 grading queue"] = wrk(app_url + "/mentor/queue", mentor)
    finally:
        app.terminate()
        app.wait()
    base = results["B0 bare Flask"]["rps"]
    print(f"size {SIZE}, {db_name(url)}, wrk {CONNECTIONS} connections for {DURATION}, "
          "gunicorn 2 sync workers on core 0")
    print(f"{'scenario':24} {'req/s':>8} {'vs B0':>6} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'non-2xx':>7}")
    for name, r in results.items():
        print(f"{name:24} {r['rps']:8.0f} {r['rps'] / base:6.2f} {r['p50_ms']:7.2f} {r['p90_ms']:7.2f} "
              f"{r['p99_ms']:7.2f} {r['non_2xx']:7d}")
    out = ROOT / "bench" / "results" / f"http-{SIZE}-{db_name(url)}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"size": SIZE, "database": db_name(url), "results": results}, indent=2,
                              ensure_ascii=False))


def db_name(url):
    return "postgresql" if url.startswith("postgresql") else "sqlite"


if __name__ == "__main__":
    main()
