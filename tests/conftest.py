"""Shared fixtures: a real app on a temporary data dir, clients, users per role, a live server."""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kb import create_app
from kb.accounts import service as accounts
from kb.database import db, upgrade_database

IN_CI = os.environ.get("CI", "").lower() == "true"
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


@pytest.fixture
def app_config(tmp_path) -> dict:
    return {"TESTING": True, "KB_DATA_DIR": tmp_path / "data", "KB_ASYNC_MODE": "threading"}


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kb_command() -> list[str]:
    return [sys.executable, "-c", "from kb.cli import main; main()"]


class LiveServer:
    """A real `kb serve` process (gunicorn + gevent) on a free port."""

    def __init__(self, data_dir: Path, extra_env: dict | None = None):
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
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kb serve exited: {self.log_path.read_text()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("kb serve did not start in 30 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def live_server(tmp_path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "live").start()
    yield server
    server.stop()
