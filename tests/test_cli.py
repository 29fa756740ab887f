"""The `kb` command as a user runs it: real processes, exit codes and stderr."""

import os
import subprocess

import pytest

from kb import create_app
from kb.accounts import service
from kb.database import db
from tests.conftest import kb_command


@pytest.fixture
def kb(tmp_path, empty_database_url):
    env_dir = tmp_path / "data"

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "KB_DATA_DIR": str(env_dir)}
        env.pop("KB_DATABASE_URL", None)
        if empty_database_url:
            env["KB_DATABASE_URL"] = empty_database_url
        return subprocess.run(
            [*kb_command(), *args],
            env=env,
            input=stdin,
            text=True,
            capture_output=True,
            timeout=120,
        )

    apps = []

    def make_app():
        config = {"KB_DATA_DIR": env_dir, "KB_ASYNC_MODE": "threading"}
        if empty_database_url:
            config["SQLALCHEMY_DATABASE_URI"] = empty_database_url
        apps.append(create_app(config))
        return apps[-1]

    run.data_dir = env_dir
    run.app = make_app
    yield run
    for app in apps:  # close their connections now, not whenever they are collected
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def assert_one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]


def test_init_is_idempotent(kb):
    assert kb("init").returncode == 0
    second = kb("init")
    assert second.returncode == 0, second.stderr
    app = kb.app()
    with app.app_context():
        from kb.database import schema_is_current

        assert schema_is_current()


def test_user_add_and_token_create(kb):
    kb("init")
    result = kb(
        "user",
        "add",
        "Teacher@Example.org",
        "--name",
        "Анна Петрова",
        "--role",
        "editor",
        "--password-stdin",
        stdin="long-password\n",
    )
    assert result.returncode == 0, result.stderr
    token = kb("token", "create", "teacher@example.org")
    assert token.returncode == 0
    assert token.stdout.count("\n") == 1 and token.stdout.startswith("kb_")
    listing = kb("user", "list").stdout
    assert "teacher@example.org" in listing and "editor" in listing


def test_user_add_with_organization(kb):
    kb("init")
    kb("demo")
    result = kb(
        "user", "add", "new@example.org", "--name", "Новый", "--role", "reader", "--org", "Сказка"
    )
    assert result.returncode == 0, result.stderr
    assert "Сказка" in kb("user", "list").stdout


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ("user", "add", "a@example.org", "--name", "A", "--role", "king"),
            None,
            "Неизвестная роль",
        ),
        (
            ("user", "add", "a@example.org", "--name", "A", "--role", "editor", "--org", "Нет"),
            None,
            "не найдена",
        ),
        (("user", "add", "not-an-email", "--name", "A", "--role", "editor"), None, "Некорректный"),
        (
            ("user", "add", "a@example.org", "--name", "A", "--role", "editor", "--password-stdin"),
            "short\n",
            "не короче",
        ),
        (
            ("user", "add", "a@example.org", "--name", "A", "--role", "editor", "--password-stdin"),
            "",
            "пароль не передан",
        ),
        (("user", "add", "a@example.org", "--role", "editor"), None, "--name"),
        (("token", "create", "nobody@example.org"), None, "не найден"),
        (("frobnicate",), None, "frobnicate"),
        (("serve", "--port", "99999"), None, "99999"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(kb, args, stdin, message):
    kb("init")
    assert_one_line_error(kb(*args, stdin=stdin), message)


def test_duplicate_email_is_refused_and_nothing_changes(kb):
    kb("init")
    kb("user", "add", "a@example.org", "--name", "Первая", "--role", "editor")
    result = kb("user", "add", "A@example.org", "--name", "Вторая", "--role", "admin")
    assert_one_line_error(result, "уже есть")
    listing = kb("user", "list").stdout
    assert "Первая" in listing and "Вторая" not in listing


def test_token_for_deactivated_user_is_refused(kb, tmp_path):
    kb("init")
    kb("user", "add", "a@example.org", "--name", "A", "--role", "editor")
    app = kb.app()
    with app.app_context():
        service.set_active(service.get_user("a@example.org"), False)
    assert_one_line_error(kb("token", "create", "a@example.org"), "отключён")


def test_commands_before_init_fail_clearly(kb):
    assert_one_line_error(kb("demo"), "kb init")
    assert_one_line_error(
        kb("user", "add", "a@example.org", "--name", "A", "--role", "editor"), "kb init"
    )


def test_bad_environment_fails_clearly(kb, monkeypatch):
    monkeypatch.setenv("KB_PORT", "not-a-number")
    assert_one_line_error(kb("init"), "KB_PORT")


def test_demo_is_idempotent_and_prints_admin_login(kb):
    kb("init")
    first = kb("demo")
    assert first.returncode == 0, first.stderr
    assert "admin@example.org" in first.stdout
    password = first.stdout.strip().split("/")[-1].strip()
    listing = kb("user", "list").stdout
    second = kb("demo")
    assert second.returncode == 0
    assert password in second.stdout
    assert kb("user", "list").stdout == listing

    app = kb.app()
    with app.app_context():
        assert service.authenticate("admin@example.org", password) is not None
        assert len(service.list_organizations()) >= 5


def test_help_lists_commands(kb):
    result = kb("--help")
    assert result.returncode == 0
    for command in ("init", "serve", "user", "token", "demo"):
        assert command in result.stdout
