"""Pages under load: gunicorn pinned to core 0, wrk on core 1, against bare-Flask baselines in the same run.

B0 a bare Flask hello world; B1 the base layout with no database (the floor of every page of ours); F0 a
signed-in request that does nothing (the floor of every signed-in page: the session, the user, the headers); S1 a
trainee reads a module; S2 the trainee's dashboard; S3 a trainee submits a practice-log entry (POST with CSRF); S4
the mentor's grading queue, first and deepest page; S5 the mentor grades (each request returns a different
waiting answer for revision); S12 and S13 a discussion thread and a reply; S16-S22 the pages added in issue 23's
round (the mentor's start page, the calendar, notifications, the discussion board, the partners' directory and a
partner's page, a placement). Each scenario runs twice: at full load (16 connections) for its throughput, then at
half that rate (wrk's delay() per connection) for latency percentiles. Also counted: SQL statements per request
(one request through the test client), peak RSS of the workers (VmHWM) and "database is locked" in the server's
log. Called by bench/run.py; needs Debian's wrk.
"""
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from flask import render_template
from queries import QueryCounter
from sqlalchemy import func, insert, select, text

from lms import create_app
from lms.auth.services import create_user
from lms.bench_data import generate_dataset
from lms.clock import local_today, utcnow
from lms.curriculum.models import Assignment, Course, Module
from lms.discussions.models import DiscussionPost
from lms.discussions.services import start_thread
from lms.extensions import db
from lms.grading.models import Submission
from lms.learning.models import Cohort, Enrolment
from lms.learning.services import assign_mentor, enrol_trainee
from lms.permissions import public, signed_in
from lms.placements.services import PlacementData, assign_placement
from lms.practice.models import PracticeSite

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"
PASSWORD = "bench password 1"
USER_AGENT = "lms-bench"
CONNECTIONS = 16
HALF_LOAD_CONNECTIONS = 4
WAITING_FOR_S5 = 1500
FLOOR_ROUNDS = 4  # B0 and F0 measured again, in turn, this many times (their median is reported)
THREAD_REPLIES = 200  # S12 opens a thread this long (its first page of 50)
HELLO = "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef hello():\n    return 'Hello'\n"
WORKER_MODELS = {
    "sync, 1 worker": ["--workers", "1"],
    "sync, 2 workers": ["--workers", "2"],
    "gthread, 2 workers x 4 threads": ["--workers", "2", "--worker-class", "gthread", "--threads", "4"],
}


def add_bench_pages(app):
    """B1: the base layout for a visitor, no database: what every page of ours costs at least. F0: a signed-in
    request that returns at once: what every signed-in page costs at least."""
    @public
    def base_layout():
        return render_template("base.html")

    @signed_in
    def signed_in_floor():
        return ""

    app.add_url_rule("/bench/base-layout", "bench_base_layout", base_layout)
    app.add_url_rule("/bench/signed-in", "bench_signed_in", signed_in_floor)
    return app


@dataclass
class Scenario:
    name: str
    path: str
    role: str | None = None  # who sends it: trainee, mentor or admin; None for a visitor
    cookie: str | None = None
    bodies: list | None = None  # POST scenarios: one form body per request, cycled through
    paths: list | None = None  # per-request paths (S5), matching bodies
    queries: int | None = None


def config_for(url):
    from config import TestConfig

    return type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False,
                                               "SECRET_KEY": SECRET, "WTF_CSRF_ENABLED": True})


def prepare(url, size, progress=print):
    """Fill the database with the generated programme plus the bench's own trainee, mentor and admin; sign them
    in and build each scenario's request. Returns the scenarios."""
    app = add_bench_pages(create_app(config_for(url)))
    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        generate_dataset(size, progress=lambda message: progress(f"  {message}"))
        progress(f"  dataset {size} generated in {time.perf_counter() - started:.1f} s")
        cohort = db.session.scalar(select(Cohort).order_by(Cohort.id))
        trainee = create_user("bench-trainee@example.org", "Слушатель Замеров", ["trainee"], password=PASSWORD)
        mentor = create_user("bench-mentor@example.org", "Наставник Замеров", ["mentor"], password=PASSWORD)
        admin = create_user("bench-admin@example.org", "Администратор Замеров", ["admin"], password=PASSWORD)
        enrol_trainee(cohort, trainee)
        assign_mentor(cohort, mentor)
        db.session.commit()
        waiting = _add_waiting_answers(cohort, WAITING_FOR_S5)
        course = db.session.get(Course, cohort.course_id)
        modules = db.session.scalars(select(Module.slug).where(Module.course_id == course.id)
                                     .order_by(Module.position)).all()
        module_path = f"/courses/{course.slug}/{modules[len(modules) // 2]}"
        site = db.session.scalar(select(PracticeSite).order_by(PracticeSite.id))
        partner_path = _publish_partners()
        placement = assign_placement(PlacementData(
            enrolment=db.session.scalar(select(Enrolment).filter_by(trainee_id=trainee.id)), site=site,
            starts_on=local_today() - timedelta(days=30), ends_on=local_today() + timedelta(days=30),
            planned_hours=40, supervisor_name="Ольга Руководитель", supervisor_email="olga@example.org"), mentor)
        db.session.commit()
        placement_path, site_id = f"/placements/{placement.id}", site.id
        board_path = f"/cohorts/{cohort.id}/discussions"
        thread = start_thread(cohort, trainee, "Обсуждение для замеров", "С чего начать?")
        db.session.add_all(DiscussionPost(thread_id=thread.id, author_id=trainee.id, body_markdown=f"Ответ {n}",
                                          body_html=f"<p>Ответ {n}</p>") for n in range(THREAD_REPLIES))
        thread.replies = THREAD_REPLIES
        db.session.commit()
        thread_path = f"/discussions/{thread.id}"
        if db.engine.dialect.name == "postgresql":  # as autovacuum leaves a settled database: statistics, and the
            db.session.commit()  # visibility map that lets an index-only scan skip the table
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        emails = {"trainee": trainee.email, "mentor": mentor.email, "admin": admin.email}
    clients = {role: _signed_in_client(app, email) for role, email in emails.items()}
    cookies = {role: client.get_cookie("session").value for role, client in clients.items()}
    deepest = _deepest_queue_page(clients["mentor"])
    entry = {"csrf_token": _token(clients["trainee"], "/practice/new"), "site": site_id,
             "date": local_today().isoformat(), "duration": 90, "activity_type": "event_organisation",
             "audience": "adults", "aud-adults": 12, "description": "Провёл встречу жителей двора.",
             "reflection": "Пришло больше людей, чем ожидалось.", "action": "submit"}
    grade_token = _token(clients["mentor"], f"/mentor/submissions/{waiting[0]}")
    grade = {"csrf_token": grade_token, "decision": "return", "feedback": "Раскройте, пожалуйста, второй пункт.",
             "version": 1}
    reply_body = {"csrf_token": _token(clients["trainee"], thread_path), "action": "reply",
                  "body": "Спасибо, попробую во дворе на Олеко Дундича."}
    scenarios = [
        Scenario("B1 base layout, no database", "/bench/base-layout"),
        Scenario("F0 signed-in floor", "/bench/signed-in", "trainee", cookies["trainee"]),
        Scenario("S1 module page", module_path, "trainee", cookies["trainee"]),
        Scenario("S2 trainee dashboard", "/", "trainee", cookies["trainee"]),
        Scenario("S3 submit a practice entry", "/practice/new", "trainee", cookies["trainee"],
                 bodies=[urlencode(entry)]),
        Scenario("S4 grading queue, page 1", "/mentor/queue", "mentor", cookies["mentor"]),
        Scenario("S4 grading queue, deepest page", deepest, "mentor", cookies["mentor"]),
        Scenario("S5 grade an answer", f"/mentor/submissions/{waiting[-1]}", "mentor", cookies["mentor"],
                 bodies=[urlencode(grade)], paths=[f"/mentor/submissions/{i}" for i in waiting[:-1]]),
        Scenario("S12 discussion thread, 200 replies", thread_path, "trainee", cookies["trainee"]),
        Scenario("S13 post a reply", thread_path, "trainee", cookies["trainee"], bodies=[urlencode(reply_body)]),
        Scenario("S16 mentor's start page", "/", "mentor", cookies["mentor"]),
        Scenario("S17 calendar", "/calendar", "trainee", cookies["trainee"]),
        Scenario("S18 notifications", "/notifications", "trainee", cookies["trainee"]),
        Scenario("S19 discussion board", board_path, "trainee", cookies["trainee"]),
        Scenario("S20 partners' directory", "/partners"),
        Scenario("S21 a partner's page", partner_path),
        Scenario("S22 a placement", placement_path, "trainee", cookies["trainee"]),
    ]
    with app.app_context():
        engine = db.engine
    for scenario in scenarios:  # each request in its own app context, as in production
        scenario.queries = _count_queries(engine, clients.get(scenario.role) or app.test_client(), scenario)
    engine.dispose()
    return scenarios


def _publish_partners():
    """The generated sites on the map (the directory shows published partners only); returns one's page."""
    sites = db.session.scalars(select(PracticeSite).order_by(PracticeSite.id)).all()
    for n, site in enumerate(sites):
        site.published, site.latitude, site.longitude = True, 55.73 + n / 1000, 37.45 + n / 1000
        site.offer_html = site.offer_html or "<p>Гостиная для соседей и мастерская.</p>"
    db.session.commit()
    return f"/partners/{sites[0].slug}"


def _add_waiting_answers(cohort, count):
    """Answers waiting in the bench mentor's queue, one per S5 request (a graded answer cannot be graded again)."""
    trainees = db.session.scalars(select(Enrolment.trainee_id).where(Enrolment.cohort_id == cohort.id)).all()
    texts = db.session.scalars(select(Assignment.id).where(Assignment.course_id == cohort.course_id,
                                                           Assignment.kind != "quiz")).all()
    start = db.session.scalar(select(func.coalesce(func.max(Submission.attempt), 0))) + 1
    first = db.session.scalar(select(func.coalesce(func.max(Submission.id), 0)))
    now = utcnow()
    db.session.execute(insert(Submission), [
        {"assignment_id": texts[n % len(texts)], "trainee_id": trainees[n % len(trainees)],
         "attempt": start + n // (len(texts) * len(trainees)), "status": "submitted",
         "answer_markdown": "Ответ", "answer_html": "<p>Ответ</p>", "feedback_markdown": "", "feedback_html": "",
         "submitted_at": now, "created_at": now, "version": 1} for n in range(count)])
    db.session.commit()
    return db.session.scalars(select(Submission.id).where(Submission.id > first).order_by(Submission.id)).all()


def _signed_in_client(app, email):
    """Sign in as a browser would, then open the start page so the session already holds its CSRF secret:
    the cookie wrk sends is then the one a browser would keep, and the server never rewrites it."""
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=USER_AGENT, REMOTE_ADDR="127.0.0.1")
    token = _token(client, "/login")
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code
    assert client.get("/").status_code == 200
    return client


def _token(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _deepest_queue_page(client):
    path = "/mentor/queue"
    while True:
        page = client.get(path).get_data(as_text=True)
        following = re.search(r'<a rel="next" href="([^"]+)"', page)
        if not following:
            return path
        path = following.group(1).replace("&amp;", "&")


def _count_queries(engine, client, scenario):
    """SQL statements for one request of the scenario (S5 counts on an answer of its own, not in wrk's list)."""
    with QueryCounter(engine) as queries:
        if scenario.bodies:
            response = client.post(scenario.path, data=scenario.bodies[0],
                                   content_type="application/x-www-form-urlencoded")
        else:
            response = client.get(scenario.path)
    assert response.status_code in (200, 302), (scenario.name, response.status_code)
    return queries.count


class Server:
    """gunicorn on core 0 with production settings (Config from the environment, debug off)."""

    def __init__(self, target, env, cwd, options):
        self.log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = ["taskset", "-c", "0", str(ROOT / ".venv" / "bin" / "gunicorn"), *options,
                   "--bind", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning", target]
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stderr=self.log)
        for _ in range(200):
            try:
                urllib.request.urlopen(self.url + "/", timeout=1)
                break
            except OSError as error:
                if getattr(error, "code", None):
                    break
                time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn did not start: {Path(self.log.name).read_text()}")

    def peak_rss_mb(self):
        """The largest peak resident set (VmHWM) among the workers."""
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        peaks = []
        for pid in children.split():
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
        return round(max(peaks), 1)

    def locked_errors(self):
        return Path(self.log.name).read_text().count("database is locked")

    def stop(self):
        self.process.terminate()
        self.process.wait()


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LUA = """
local paths = %(paths)s
local bodies = %(bodies)s
local pause = %(pause)s
local n = 0
wrk.headers["User-Agent"] = "%(agent)s"
%(cookie)s
if #bodies > 0 then
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
request = function()
  n = n + 1
  local k = (n - 1) %% math.max(#paths, 1) + 1
  if #bodies > 0 then
    return wrk.format(nil, paths[k], nil, bodies[(n - 1) %% #bodies + 1])
  end
  return wrk.format(nil, paths[k])
end
if pause > 0 then
  delay = function() return pause end
end
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format('RESULT {"requests": %%d, "seconds": %%.3f, "non_2xx_3xx": %%d, "socket_errors": %%d, '
    .. '"p50_ms": %%.2f, "p95_ms": %%.2f, "p99_ms": %%.2f}\\n', summary.requests, summary.duration / 1e6,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def _lua_list(values):
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


def wrk(base_url, scenario, duration, connections=CONNECTIONS, pause_ms=0):
    """One wrk run; its own Lua script reports percentiles (p95 included) and error counts as JSON."""
    paths = scenario.paths or [scenario.path]
    cookie = f'wrk.headers["Cookie"] = "session={scenario.cookie}"' if scenario.cookie else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % {"paths": _lua_list(paths), "bodies": _lua_list(scenario.bodies or []),
                            "pause": pause_ms, "agent": USER_AGENT, "cookie": cookie})
    command = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{duration}", "-s", script.name,
               base_url + paths[0]]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    result = json.loads(re.search(r"^RESULT (.*)$", output, re.M).group(1))
    result["rps"] = round(result["requests"] / result["seconds"], 1)
    return result


def measure_scenario(server, scenario, duration):
    """Full load for throughput, then half that rate for latency."""
    full = wrk(server.url, scenario, duration)
    if full["rps"] < 1:
        raise RuntimeError(f"{scenario.name}: under one request per second at full load")
    rate = full["rps"] / 2
    pause_ms = max(0, round(HALF_LOAD_CONNECTIONS * 1000 / rate - 1000 / full["rps"]))
    half = wrk(server.url, scenario, duration, connections=HALF_LOAD_CONNECTIONS, pause_ms=pause_ms)
    return {"rps": full["rps"], "half_load_rps": half["rps"], "p50_ms": half["p50_ms"], "p95_ms": half["p95_ms"],
            "p99_ms": half["p99_ms"], "full_load_p99_ms": full["p99_ms"],
            "errors": full["non_2xx_3xx"] + full["socket_errors"] + half["non_2xx_3xx"] + half["socket_errors"],
            "queries": scenario.queries, "peak_rss_mb": server.peak_rss_mb()}


def _measure_floor_again(results, *pairs, duration, rounds=FLOOR_ROUNDS):
    """B0 and F0 at full load in turn, `rounds` more times: on a shared machine one 3-second run of a page this
    light can be off by half, and F0's target is a ratio of the two. Each keeps the median of its runs."""
    for _ in range(rounds):
        for server, scenario in pairs:
            results[scenario.name].setdefault("rps_rounds", [results[scenario.name]["rps"]])
            results[scenario.name]["rps_rounds"].append(wrk(server.url, scenario, duration)["rps"])
    for _server, scenario in pairs:
        results[scenario.name]["rps"] = statistics.median(results[scenario.name]["rps_rounds"])


def server_env(url):
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "LMS_BASE_URL": "http://127.0.0.1",
            "LMS_POST_LIMIT": "1000000 per minute",  # S13 times a reply, not the limit on replies
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "bench")])}


def run_pages(url, size, duration="3s", progress=print):
    """Every page scenario against one database. Returns (results, chosen worker model, comparison)."""
    scenarios = prepare(url, size, progress)
    folder = Path(tempfile.mkdtemp())
    (folder / "hello.py").write_text(HELLO)
    (folder / "bench_app.py").write_text(
        "from load import add_bench_pages\nfrom wsgi import app\n\nadd_bench_pages(app)\n")
    env = server_env(url)
    by_name = {s.name: s for s in scenarios}
    comparison = {}
    for model, options in WORKER_MODELS.items():
        server = Server("bench_app:app", env, folder, options)
        try:
            comparison[model] = {name: wrk(server.url, by_name[name], duration)["rps"]
                                 for name in ("S1 module page", "S3 submit a practice entry")}
        finally:
            server.stop()
        progress(f"  {model}: " + ", ".join(f"{k} {v:.0f} req/s" for k, v in comparison[model].items()))
    chosen = max(comparison, key=lambda m: sum(comparison[m].values()))
    options = WORKER_MODELS[chosen]
    results = {}
    bare = Scenario("B0 bare Flask", "/")
    hello = Server("hello:app", env, folder, options)
    try:
        server = Server("bench_app:app", env, folder, options)
        try:
            results[bare.name] = measure_scenario(hello, bare, duration)
            for scenario in scenarios:
                results[scenario.name] = measure_scenario(server, scenario, duration)
                progress(f"  {scenario.name}: {results[scenario.name]['rps']:.0f} req/s")
            _measure_floor_again(results, (hello, bare), (server, by_name["F0 signed-in floor"]),
                                 duration=duration)
            progress(f"  B0 and F0 again, in turn: {results[bare.name]['rps_rounds']} and "
                     f"{results['F0 signed-in floor']['rps_rounds']} req/s")
            locked = server.locked_errors()
        finally:
            server.stop()
    finally:
        hello.stop()
    for name in ("S3 submit a practice entry", "S5 grade an answer", "S13 post a reply"):
        results[name]["database_locked"] = locked
    return results, chosen, comparison
