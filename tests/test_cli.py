"""The command line from the design contract: create-user and demo (sync-courses is in test_curriculum)."""
import re

from sqlalchemy import func, select

from lms.auth.models import User, find_user_by_email
from lms.learning.models import Cohort, Enrolment
from tests.conftest import login, post


def count(model):
    from lms.extensions import db

    return db.session.scalar(select(func.count()).select_from(model))


def test_create_user_with_password_from_stdin(runner, client):
    result = runner.invoke(args=["lms", "create-user", "Boss@Example.org", "--name", "Начальник",
                                 "--role", "admin", "--role", "mentor", "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    user = find_user_by_email("boss@example.org")
    assert user.roles == {"admin", "mentor"} and user.name == "Начальник"
    assert login(client, "boss@example.org", "a long enough password").status_code == 302


def test_create_user_without_password_prints_a_working_link(runner, client):
    result = runner.invoke(args=["lms", "create-user", "new@example.org", "--name", "Новая", "--role", "trainee"])
    assert result.exit_code == 0, result.output
    link = re.search(r"http://localhost(/set-password/\S+)", result.output).group(1)
    assert client.get(link).status_code == 200
    assert post(client, link, {"password": "my own password", "confirm": "my own password"}).status_code == 302


def test_create_user_bad_input_changes_nothing(runner):
    runner.invoke(args=["lms", "create-user", "a@example.org", "--name", "А", "--role", "trainee"])
    duplicate = runner.invoke(args=["lms", "create-user", "A@example.org", "--name", "Б", "--role", "mentor"])
    assert duplicate.exit_code == 1 and "уже есть" in duplicate.output
    bad_role = runner.invoke(args=["lms", "create-user", "b@example.org", "--name", "Б", "--role", "boss"])
    assert bad_role.exit_code == 2
    bad_email = runner.invoke(args=["lms", "create-user", "not-an-email", "--name", "Б", "--role", "trainee"])
    assert bad_email.exit_code == 1 and "Введите правильный адрес" in bad_email.output
    short = runner.invoke(args=["lms", "create-user", "c@example.org", "--name", "В", "--role", "trainee",
                                "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "не короче 10 символов" in short.output
    assert count(User) == 1


def test_demo_is_idempotent_and_prints_working_accounts(runner, course, client):
    first = runner.invoke(args=["lms", "demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["lms", "demo"])
    assert second.exit_code == 0, second.output
    accounts = re.findall(r"^(trainee|mentor|admin) (\S+@\S+) (\S+)$", first.output, re.M)
    assert [a[0] for a in accounts] == ["admin", "mentor", "trainee", "trainee", "trainee"]
    assert re.findall(r"^(trainee|mentor|admin) (\S+@\S+) (\S+)$", second.output, re.M) == accounts
    assert count(User) == 5 and count(Cohort) == 1 and count(Enrolment) == 3
    role, email, password = accounts[2]
    assert login(client, email, password).status_code == 302
    assert "Пройдено модулей: 1 из 3" in client.get("/").get_data(as_text=True)


def test_demo_if_no_users_leaves_a_real_installation_alone(runner, course, make_user):
    make_user(["admin"])
    result = runner.invoke(args=["lms", "demo", "--if-no-users"])
    assert result.exit_code == 0 and "already has users" in result.output
    assert "Demo accounts" not in result.output
    assert count(User) == 1


def test_demo_if_no_users_reprints_existing_demo_accounts(runner, course):
    first = runner.invoke(args=["lms", "demo", "--if-no-users"])
    again = runner.invoke(args=["lms", "demo", "--if-no-users"])
    assert "nothing was created" in again.output
    accounts = re.findall(r"^(?:trainee|mentor|admin) \S+@\S+ \S+$", first.output, re.M)
    assert len(accounts) == 5
    assert re.findall(r"^(?:trainee|mentor|admin) \S+@\S+ \S+$", again.output, re.M) == accounts


def test_demo_needs_a_synced_course(runner):
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 1 and "sync-courses" in result.output
