"""Shared fixtures: a real app on a temporary data dir, clients, users per role, a live server."""

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from kb import create_app
from kb.accounts import service as accounts
from kb.database import db, upgrade_database
from tests.services import PostgresCluster, free_port

IN_CI = os.environ.get("CI", "").lower() == "true"
# `make test` runs the suite twice: on SQLite, then with KB_TEST_DATABASE=postgresql.
TEST_DATABASE = os.environ.get("KB_TEST_DATABASE", "sqlite")
SHARED_DIR = Path(__file__).resolve().parent.parent.parent / "shared"
PASSWORD = "correct-horse-42"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def need(condition: bool, reason: str) -> None:
    """Skip when a service/browser/file is missing, but fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def shared_dir() -> Path:
    need(SHARED_DIR.is_dir(), f"{SHARED_DIR} is missing")
    return SHARED_DIR


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throwaway PostgreSQL cluster with a migrated template database `kb_template`."""
    try:
        cluster = PostgresCluster().start()
    except (FileNotFoundError, subprocess.CalledProcessError) as error:
        need(False, f"PostgreSQL (Debian package postgresql) is needed: {error}")
    try:
        cluster.execute("CREATE DATABASE kb_template")
        template_app = create_app(
            {
                "KB_DATA_DIR": Path(cluster.root) / "template-data",
                "SQLALCHEMY_DATABASE_URI": cluster.url("kb_template"),
                "KB_ASYNC_MODE": "threading",
            }
        )
        with template_app.app_context():
            upgrade_database()
            db.engine.dispose()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres(request):
    """The cluster when the suite runs on PostgreSQL (KB_TEST_DATABASE=postgresql), else None."""
    if TEST_DATABASE != "postgresql":
        return None
    return request.getfixturevalue("postgres_cluster")


@pytest.fixture
def database_url(postgres) -> str | None:
    """None on SQLite (the data dir holds it); a fresh migrated database on PostgreSQL."""
    if postgres is None:
        return None
    name = f"kb_{uuid.uuid4().hex[:16]}"
    postgres.execute(f"CREATE DATABASE {name} TEMPLATE kb_template")
    return postgres.url(name)


@pytest.fixture
def empty_database_url(postgres) -> str | None:
    """Like database_url, but an empty database (for testing `kb init` itself)."""
    if postgres is None:
        return None
    name = f"kb_{uuid.uuid4().hex[:16]}"
    postgres.execute(f"CREATE DATABASE {name}")
    return postgres.url(name)


@pytest.fixture
def app_config(tmp_path, database_url) -> dict:
    config = {"TESTING": True, "KB_DATA_DIR": tmp_path / "data", "KB_ASYNC_MODE": "threading"}
    if database_url:
        config["SQLALCHEMY_DATABASE_URI"] = database_url
    return config


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        upgrade_database()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def count_statements(app):
    """The SQL statements the app sends while the test runs (clear it before what you count)."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    yield statements
    sa.event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD):
        return self.client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": csrf_token(self.client)},
        )

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client, "/")})

    def csrf(self, path: str = "/") -> str:
        return csrf_token(self.client, path)


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


@pytest.fixture
def users(app) -> dict:
    """One active user per role plus a deactivated editor, all with PASSWORD."""
    with app.app_context():
        org = accounts.save_organization("МАДОУ «Сказка»", "Сказка", "kindergarten", "Когалым")
        made = {}
        for role in ("admin", "editor", "reader"):
            made[role] = accounts.create_user(
                f"{role}@example.org", f"Тест {role}", role, PASSWORD, org
            ).email
        gone = accounts.create_user("gone@example.org", "Ушедший педагог", "editor", PASSWORD)
        accounts.set_active(gone, False)
        made["deactivated"] = gone.email
    return made


@pytest.fixture
def token_for(app, users):
    def make(role: str) -> str:
        with app.app_context():
            return accounts.create_token(accounts.get_user(users[role]), "test")

    return make


def kb_command() -> list[str]:
    return [sys.executable, "-c", "from kb.cli import main; main()"]


class LiveServer:
    """A real `kb serve` process (gunicorn + gevent) on a free port."""

    def __init__(
        self, data_dir: Path, database_url: str | None = None, extra_env: dict | None = None
    ):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "KB_DATA_DIR": str(data_dir),
            "KB_PORT": str(self.port),
            "KB_HOST": "127.0.0.1",
            **(extra_env or {}),
        }
        self.env.pop("KB_DATABASE_URL", None)
        if database_url:
            self.env["KB_DATABASE_URL"] = database_url
        self.process: subprocess.Popen | None = None
        self.log_path = data_dir / "serve.log"

    def run_cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*kb_command(), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self) -> "LiveServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        result = self.run_cli("init")
        assert result.returncode == 0, result.stderr
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*kb_command(), "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kb serve exited: {self.log_path.read_text()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"kb serve did not answer /healthz in 60 s: {self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def live_server(tmp_path, database_url) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "live", database_url).start()
    yield server
    server.stop()


# ---------------------------------------------------------------- a real SMTP server


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def wait_for(inbox, count, timeout=10.0):
    deadline = time.monotonic() + timeout
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return inbox.messages
