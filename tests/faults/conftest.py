"""Fault fixtures: a live server with an editor's bearer token, helpers to find its workers."""

import gc
import warnings
from pathlib import Path

import pytest
import requests

from tests.conftest import PASSWORD, LiveServer


def add_editor(server: LiveServer, email: str = "lead@example.org", role: str = "admin") -> str:
    added = server.run_cli(
        "user", "add", email, "--name", "Ведущая", "--role", role, "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    return server.run_cli("token", "create", email).stdout.strip()


def workers(server: LiveServer) -> list[int]:
    """The gunicorn worker pids (children of the `kb serve` master)."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


@pytest.fixture
def served(tmp_path, database_url):
    """A started live server and an admin's bearer headers."""
    server = LiveServer(tmp_path / "live", database_url).start()
    token = add_editor(server)
    headers = {"Authorization": f"Bearer {token}"}
    made = requests.put(
        server.url + "/api/v1/pages/Главная",
        json={"title": "Главная", "body": "Начало", "base_revision": None},
        headers=headers,
        timeout=10,
    )
    assert made.status_code in (200, 201), made.text
    yield server, headers
    server.stop()


@pytest.fixture(autouse=True)
def collect_leftovers():
    """Finalize what a test left for the garbage collector (aiohttp sockets of dropped
    clients, werkzeug's spooled upload files of refused requests) inside the test itself,
    so their ResourceWarnings do not surface in whichever test happens to run next."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
