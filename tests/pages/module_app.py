"""One app for a whole test module, for tests that only read what it was built with."""

import uuid
from contextlib import contextmanager

from kb import create_app
from kb.accounts import service as accounts
from kb.database import db, upgrade_database
from kb.pages import service as pages
from tests.conftest import PASSWORD, Auth

ROLES = ("guest", "reader", "editor", "admin")


@contextmanager
def module_app(tmp_path_factory, postgres, name: str):
    """A migrated app (SQLite, or a fresh PostgreSQL database under KB_TEST_DATABASE) with
    the spaces «Общее» and «Растим_инженеров» and a user per role: yields (app, tokens),
    tokens being bearer headers by role."""
    config = {
        "TESTING": True,
        "KB_DATA_DIR": tmp_path_factory.mktemp(name) / "data",
        "KB_ASYNC_MODE": "threading",
    }
    if postgres is not None:
        database = f"kb_{uuid.uuid4().hex[:16]}"
        postgres.execute(f"CREATE DATABASE {database} TEMPLATE kb_template")
        config["SQLALCHEMY_DATABASE_URI"] = postgres.url(database)
    app = create_app(config)
    with app.app_context():
        upgrade_database()
        org = accounts.save_organization("МАДОУ «Сказка»", "Сказка", "kindergarten", "Когалым")
        tokens = {}
        for role in ("admin", "editor", "reader"):
            user = accounts.create_user(f"{role}@example.org", f"Тест {role}", role, PASSWORD, org)
            tokens[role] = {"Authorization": f"Bearer {accounts.create_token(user, 'test')}"}
        pages.create_space("Общее", "Общие материалы", is_default=True)
        pages.create_space("Растим_инженеров", "Растим инженеров")
    try:
        yield app, tokens
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def signed_in_clients(app) -> dict:
    """A test client per role of ROLES, signed in through the login form."""
    clients = {}
    for role in ROLES:
        clients[role] = app.test_client()
        if role != "guest":
            login = Auth(clients[role]).login(f"{role}@example.org")
            assert login.status_code == 302, role
    return clients
