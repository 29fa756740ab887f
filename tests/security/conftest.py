"""Security fixtures: one app per module with every role signed in, and the payload lists."""

import gc
import re
import uuid
import warnings

import pytest

from kb import create_app
from kb.accounts import service as accounts
from kb.database import db, upgrade_database
from tests.conftest import PASSWORD, csrf_token
from tests.security.inert import load_payloads
from tests.security.world import ensure_owner

META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
# From the least to the most privileged: denials come first, so they see an untouched world.
ROLES = ("guest", "participant", "deactivated", "reader", "editor", "owner", "admin")


@pytest.fixture(scope="module")
def module_app(tmp_path_factory, postgres):
    config = {
        "TESTING": True,
        "KB_DATA_DIR": tmp_path_factory.mktemp("security") / "data",
        "KB_ASYNC_MODE": "threading",
        "KB_LOGIN_LIMIT": "1000 per minute",
        "KB_LOGIN_DELAY_AFTER": 1000,  # POST /login is probed with a wrong password by every role
    }
    if postgres is not None:
        name = f"kb_{uuid.uuid4().hex[:16]}"
        postgres.execute(f"CREATE DATABASE {name} TEMPLATE kb_template")
        config["SQLALCHEMY_DATABASE_URI"] = postgres.url(name)
    app = create_app(config)
    with app.app_context():
        upgrade_database()
        org = accounts.save_organization("МАДОУ «Сказка»", "Сказка", "kindergarten", "Когалым")
        for role in ("admin", "editor", "reader"):
            accounts.create_user(f"{role}@example.org", f"Тест {role}", role, PASSWORD, org)
        accounts.create_user("gone@example.org", "Ушедший педагог", "editor", PASSWORD)
        ensure_owner(PASSWORD)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class RoleClient:
    """A test client acting as one role; `csrf` is its session's CSRF token."""

    def __init__(self, app, role: str):
        self.role = role
        self.client = app.test_client()
        self.board_token: str | None = None
        emails = {
            "reader": "reader@example.org",
            "editor": "editor@example.org",
            "admin": "admin@example.org",
            "owner": "owner@example.org",
            "deactivated": "gone@example.org",
        }
        if role == "deactivated":
            with app.app_context():
                accounts.set_active(accounts.get_user(emails[role]), True)
        if role in emails:
            answer = self.client.post(
                "/login",
                data={
                    "email": emails[role],
                    "password": PASSWORD,
                    "csrf_token": csrf_token(self.client),
                },
            )
            assert answer.status_code == 302, (role, answer.status_code)
        if role == "deactivated":  # signed in while active, switched off afterwards
            with app.app_context():
                accounts.set_active(accounts.get_user(emails[role]), False)
        page = self.client.get("/").get_data(as_text=True)
        self.csrf = META_CSRF.search(page).group(1)

    def open(self, method: str, path: str, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        if method not in ("GET", "HEAD"):
            headers.setdefault("X-CSRFToken", self.csrf)
        if self.board_token:
            headers.setdefault("X-Board-Token", self.board_token)
        return self.client.open(path, method=method, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def role_clients(module_app) -> dict[str, RoleClient]:
    return {role: RoleClient(module_app, role) for role in ROLES}


@pytest.fixture(scope="session")
def payloads() -> list[str]:
    from tests.conftest import SHARED_DIR, need

    need((SHARED_DIR / "security").is_dir(), f"{SHARED_DIR / 'security'} is missing")
    found = load_payloads(SHARED_DIR)
    assert len(found) > 500, "the payload lists look truncated"
    return found


@pytest.fixture(autouse=True)
def collect_leftovers():
    """Finalize what a test left for the garbage collector (aiohttp sockets of dropped
    clients, werkzeug's spooled upload files of refused requests) inside the test itself,
    so their ResourceWarnings do not surface in whichever test happens to run next."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
