"""`flask --app wsgi lms ...`: the command line from the design contract."""
import hashlib
import hmac
import sys
from datetime import time, timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from lms.auth.models import ROLES, User, find_user_by_email
from lms.auth.services import AccountError, check_password, create_user, issue_password_link
from lms.backup import BackupError, backup_database
from lms.bench_data import SIZES, generate_dataset
from lms.certificates.services import issue_certificates_for_cohort
from lms.clock import local_today, utcnow
from lms.curriculum.loader import load_curriculum, quiz_cues
from lms.curriculum.models import Assignment, Course, Module
from lms.curriculum.services import sync_curriculum
from lms.extensions import db
from lms.learning.models import Cohort
from lms.learning.services import assign_mentor, create_cohort, enrol_trainee, mark_module_done
from lms.mail import mail_configured
from lms.notifications.sending import send_notifications
from lms.notifications.services import notify_admins, path_for
from lms.partners.services import save_partner, set_partner_published
from lms.placements.evaluations import remind_supervisors
from lms.practice.models import PracticeEntry, PracticeSite
from lms.practice.services import EntryData, review_practice_entry, save_practice_entry
from lms.schedule.models import CohortSession
from lms.schedule.reminders import make_reminders
from lms.schedule.services import SessionData, record_attendance, schedule_sessions, set_cohort_deadline

lms_cli = AppGroup("lms", help="Manage the LMS: users, curriculum, demo data.")

DEMO_ACCOUNTS = (
    ("admin", "admin@example.org", "Администратор Демо"),
    ("mentor", "mentor@example.org", "Марина Наставникова"),
    ("trainee", "trainee1@example.org", "Анна Соседова"),
    ("trainee", "trainee2@example.org", "Борис Дворов"),
    ("trainee", "trainee3@example.org", "Вера Районова"),
)
DEMO_COHORT = "Демо-группа"
# The seed's partners, in the Filyovsky Park district (coordinates near the streets named); the first is where the
# demo practice and sessions happen. (name, kind, address, latitude, longitude, hosts practice, what it offers)
DISTRICT = "Филёвский Парк"
DEMO_SITES = (
    ("Соседский центр «Филёвский Парк» (пилотный)", "centre", "Москва, ул. Олеко Дундича, 35", 55.7406, 37.4869,
     True, "Гостиная для соседей, травяной сад во дворе, занятия для детей и встречи жителей."),
    ("Открытая столярная мастерская «Делай Вещь»", "business", "Москва, Багратионовский проезд, 5", 55.7447, 37.5006,
     True, "Мастерская выходного дня и уличный фестиваль деревообработки."),
    ("Библиотека № 213", "library", "Москва, ул. Большая Филёвская, 21", 55.7462, 37.5073, True,
     "Читальный зал, клуб для мам с детьми, площадка для встреч соседей."),
    ("Архитектурная студия «Материальная культура»", "ngo", "Москва, Филёвский бульвар, 10", 55.7561, 37.4944,
     True, "Проектирование дворов вместе с жителями."),
    ("Строительный магазин «Всё для ремонта»", "business", "Москва, ул. Барклая, 8", 55.7414, 37.5029, False,
     "Материалы и инструменты для соседских проектов."),
    ("Компания «Филёвские технологии»", "business", "Москва, ул. Сеславинская, 3", 55.7382, 37.4797, False,
     "Волонтёры из сотрудников и помощь с цифровыми инструментами."),
    ("Университет: кафедра городского развития", "university", "Москва, Филёвский бульвар, 40", 55.7527, 37.4789,
     True, "Студенты-исследователи и открытые лекции о городе."),
    ("Совет дома на ул. Олеко Дундича", "residents", "Москва, ул. Олеко Дундича, 17", 55.7429, 37.4920, False,
     "Инициативная группа жителей: субботники, раздельный сбор."),
)


@lms_cli.command("sync-courses")
@click.option("--check", is_flag=True, help="Validate only; change nothing.")
def sync_courses_command(check):
    """Validate every course in LMS_COURSES_DIR and load it in one transaction."""
    courses_dir = current_app.config["LMS_COURSES_DIR"]
    result = sync_curriculum(courses_dir, progress=click.echo)
    for problem in result.problems:
        click.echo(str(problem), err=True)
    if not result.ok or check:
        db.session.rollback()
    else:
        db.session.commit()
    if not result.ok:
        if not check:
            notify_admins("sync_failed", path_for("admin.curriculum"), problems=len(result.problems))
            db.session.commit()
        click.echo(f"{len(result.problems)} problem(s); nothing was changed.", err=True)
        sys.exit(1)
    if check:
        _report_quiz_cues(courses_dir)
        click.echo(f"Check passed: {courses_dir} is valid ({len(result.changed)} item(s) would change).")
    else:
        click.echo(f"Synced {courses_dir}: {len(result.changed)} item(s) changed.")


@lms_cli.command("build-course-files")
@click.argument("course_slug")
def build_course_files_command(course_slug):
    """Make the .docx and .pdf of every model document in courses/<course>/files/sources/ into files/."""
    from lms.curriculum.documents import build_course_files  # python-docx takes 90 ms to import: only when asked
    folder = Path(current_app.config["LMS_COURSES_DIR"]) / course_slug / "files"
    if not (folder / "sources").is_dir():
        raise click.ClickException(f"{folder / 'sources'} does not exist: nothing to build.")
    names = build_course_files(folder / "sources", folder, report=click.echo)
    click.echo(f"{len(names)} document(s) built in {folder}; run `flask lms sync-courses` to offer the new files.")


def _report_quiz_cues(courses_dir):
    """The two shares that show whether quiz keys can be guessed by length or position, with a warning when off."""
    sources, _problems = load_curriculum(courses_dir, render=False)
    for course in sources:
        cues = quiz_cues(course)
        click.echo(f"{course.slug}: {cues}")
        for warning in cues.warnings():
            click.echo(f"warning: {course.slug}: {warning}", err=True)


@lms_cli.command("create-user")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(email, name, roles, password_stdin):
    """Create a user; without a password, print a one-time link to set one."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        user = create_user(email, name, roles, password=password)
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    link = issue_password_link(user) if password is None else None
    db.session.commit()
    click.echo(f"Created {user.email} ({', '.join(sorted(user.roles))}).")
    if link:
        click.echo(f"Set-password link (valid 7 days, single use): {link}")


def demo_password(email):
    """Derived from the installation's secret key, so reruns print the same password and nobody
    without the key can guess it."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), email.encode(), hashlib.sha256)
    return "demo-" + digest.hexdigest()[:12]


@lms_cli.command("demo")
@click.option("--if-no-users", is_flag=True, help="Create nothing when the database already has users.")
def demo_command(if_no_users):
    """Create the demo cohort, mentor, trainees and sample work (idempotent)."""
    if if_no_users and db.session.scalar(select(func.count()).select_from(User)):
        click.echo("The database already has users; nothing was created.")
        _print_demo_accounts()
        return
    course = db.session.scalar(select(Course).order_by((Course.slug == "community-manager").desc(),
                                                       Course.title))
    if course is None:
        raise click.ClickException("No course is synced yet: run `flask lms sync-courses` first.")
    users = {}
    for role, email, name in DEMO_ACCOUNTS:
        user = find_user_by_email(email) or create_user(email, name, [role], password=demo_password(email))
        users.setdefault(role, []).append(user)
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == DEMO_COHORT,
                                                    Cohort.course_id == course.id))
    if cohort is None:
        start = local_today() - timedelta(days=35)
        cohort = create_cohort(course, DEMO_COHORT, starts_on=start, ends_on=start + timedelta(days=180))
    assign_mentor(cohort, users["mentor"][0])
    for trainee in users["trainee"]:
        enrol_trainee(cohort, trainee)
    first_module = db.session.scalar(select(Module).where(Module.course_id == course.id)
                                     .order_by(Module.position))
    if first_module is not None:
        mark_module_done(users["trainee"][0], first_module)
    sites = _demo_sites()
    _demo_practice(users["trainee"][0], users["mentor"][0], cohort, sites[0])
    _demo_schedule(cohort, users["mentor"][0], users["trainee"], sites)
    db.session.commit()
    click.echo(f"Demo cohort '{DEMO_COHORT}' on course '{course.title}'.")
    _print_demo_accounts()


def _demo_sites():
    """The demo partners, published on the map; a site an older demo made without coordinates gets them."""
    sites = []
    for name, kind, address, latitude, longitude, hosts, offer in DEMO_SITES:
        site = db.session.scalar(select(PracticeSite).where(PracticeSite.name == name))
        if site is None or not site.on_map:
            site = save_partner(None, name, kind, partner=site, address=address, district=DISTRICT,
                                latitude=latitude, longitude=longitude, active=hosts, offer=offer)
            set_partner_published(site, True, None)
        sites.append(site)
    return sites


def _demo_practice(trainee, mentor, cohort, site):
    """An approved and a waiting practice-log entry for the first demo trainee, once."""
    if db.session.scalar(select(PracticeEntry.id).where(PracticeEntry.trainee_id == trainee.id).limit(1)):
        return
    today = local_today()
    approved = save_practice_entry(trainee, EntryData(
        cohort=cohort, site=site, date=today - timedelta(days=7), start_time=time(10), end_time=time(13),
        activity_type="workshop_class", audiences={"children_teens": 8, "parents_on_leave": 5},
        description="Провела занятие в мастерской: скворечники с детьми.",
        reflection="Сработало деление на пары «родитель — ребёнок». В следующий раз подготовлю заготовки заранее."),
        submit=True)
    review_practice_entry(approved, mentor, "approve", "Хорошая рефлексия.", approved.version)
    save_practice_entry(trainee, EntryData(
        cohort=cohort, site=site, date=today - timedelta(days=2), duration_minutes=90,
        activity_type="outreach_survey", audiences={"pensioners": 12},
        description="Опрос жителей у подъездов о пожеланиях к центру.",
        reflection="Пенсионеры охотно отвечали утром; вечером людей почти не было."), submit=True)


def _demo_schedule(cohort, mentor, trainees, sites):
    """An opening intensive, fortnightly seminars, a supervision meeting and an excursion to a partner, with
    attendance taken for what has passed and due dates for the course's work; once."""
    if cohort.starts_on is None or db.session.scalar(select(CohortSession.id).where(
            CohortSession.cohort_id == cohort.id).limit(1)):
        return
    start = cohort.starts_on
    plan = [
        (SessionData("seminar", "Установочный интенсив, день 1", start, time(10), time(17), sites[0]), "none", 1),
        (SessionData("seminar", "Установочный интенсив, день 2", start + timedelta(days=1), time(10), time(17),
                     sites[0]), "none", 1),
        (SessionData("seminar", "Семинар группы", start + timedelta(days=8), time(18, 30), time(20, 30), sites[0]),
         "fortnightly", 8),
        (SessionData("supervision", "Супервизия практики", start + timedelta(days=24), time(19), time(20, 30),
                     None, online_url="https://meet.example.org/supervision"), "none", 1),
        (SessionData("excursion", "Выезд к партнёру", start + timedelta(days=44), time(11), time(14),
                     sites[-1]), "none", 1),
    ]
    sessions = [s for data, repeat, count in plan for s in schedule_sessions(cohort, mentor, data, repeat, count)]
    marks = ("present", "present", "late", "absent", "excused")
    now = utcnow()
    for n, session in enumerate(s for s in sessions if s.starts_at <= now):
        record_attendance(session, mentor, {t.id: marks[(n + i) % len(marks)] for i, t in enumerate(trainees)})
    assignments = db.session.scalars(select(Assignment).where(Assignment.course_id == cohort.course_id,
                                                              Assignment.retired.is_(False))
                                     .order_by(Assignment.id)).all()
    for n, assignment in enumerate(assignments):
        set_cohort_deadline(cohort, assignment, mentor, start + timedelta(days=14 * (n + 1)), None)


def _print_demo_accounts():
    """One line per existing demo account: `<role> <email> <password>`."""
    lines = []
    for role, email, _name in DEMO_ACCOUNTS:
        user = find_user_by_email(email)
        if user is not None:
            password = demo_password(email)
            shown = password if check_password(user, password) else "(password changed by its owner)"
            lines.append(f"{role} {email} {shown}")
    if lines:
        click.echo("Demo accounts (role e-mail password):")
        click.echo("\n".join(lines))


@lms_cli.command("issue-certificates")
@click.option("--cohort", "cohort_id", type=int, required=True, help="Cohort id.")
@click.option("--actor", "actor_email", required=True, help="E-mail of the administrator issuing them.")
def issue_certificates_command(cohort_id, actor_email):
    """Issue certificates to every eligible trainee of a cohort, in one transaction."""
    cohort = db.session.get(Cohort, cohort_id)
    actor = find_user_by_email(actor_email)
    if cohort is None:
        raise click.ClickException(f"No cohort with id {cohort_id}.")
    if actor is None or not actor.is_admin:
        raise click.ClickException(f"{actor_email} is not an administrator.")

    def progress(done, total):
        if done == total or done % 50 == 0:
            click.echo(f"{done}/{total} checked")

    issued = issue_certificates_for_cohort(cohort, actor, progress=progress)
    db.session.commit()
    click.echo(f"Issued {len(issued)} certificate(s) in cohort '{cohort.name}'.")


@lms_cli.command("send-notifications")
def send_notifications_command():
    """Send the e-mail that is due (at once and digests) and exit: run it every minute from cron or a timer."""
    reminded = make_reminders(utcnow())  # in the app even when e-mail is off
    db.session.commit()
    if reminded:
        click.echo(f"Reminders made: {reminded}.")
    if not mail_configured():
        click.echo("E-mail is off (MAIL_SERVER is not set): notifications appear in the app only.")
        return
    supervisors = remind_supervisors(local_today())  # site supervisors have no account: by e-mail only
    db.session.commit()
    if supervisors:
        click.echo(f"Site supervisors reminded of evaluations: {supervisors}.")
    result = send_notifications(progress=lambda done, total: click.echo(f"Sent {done} of {total} e-mails"))
    click.echo(f"Composed {result.composed}, sent {result.sent}, to retry {result.retrying}, "
               f"undelivered {result.failed}, dropped {result.dropped}.")


@lms_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup_command(path):
    """Write a consistent copy of the database to PATH while the application runs."""
    def progress(done, total):
        click.echo(f"{done}/{total} pages copied")

    try:
        kind = backup_database(current_app.config["SQLALCHEMY_DATABASE_URI"], path, progress=progress)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup written to {path} ({'SQLite database file' if kind == 'sqlite' else 'pg_dump custom format'}).")


@lms_cli.command("bench-data")
@click.option("--size", type=click.Choice(sorted(SIZES)), default="S", show_default=True)
@click.option("--yes", is_flag=True, help="Add the data even though the database already has users.")
def bench_data_command(size, yes):
    """Add a generated programme for benchmarks (S: 100 trainees … L: 10,000 trainees, 1M practice entries)."""
    if not yes and db.session.scalar(select(func.count()).select_from(User)):
        raise click.ClickException("The database already has users; use a separate database, or pass --yes.")
    generated = generate_dataset(size, progress=click.echo)
    click.echo(f"Generated size {size}: {generated.trainees} trainees, {generated.mentors} mentors, "
               f"{generated.entries} practice entries, {generated.submissions} submissions.")
