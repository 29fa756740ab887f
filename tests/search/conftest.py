"""Search fixtures: an app with people from two organizations, spaces, and helpers."""

from dataclasses import dataclass

import pytest

from kb.accounts import service as accounts
from kb.database import db
from kb.pages import service as pages
from kb.search import service as search

PASSWORD = "correct-horse-42"


@dataclass
class World:
    """Ids and emails of what the fixture created (ORM objects stay inside app contexts)."""

    editor: str
    other_editor: str
    admin: str
    reader: str


def user(email: str):
    return accounts.get_user(email)


def add_page(title, body, email="anna@example.org", *, space=None, tags=()):
    """Create a page through the wiki service (which records the search change)."""
    space_obj = pages.get_space(space) if space else None
    return pages.save_page(title, body, user(email), space=space_obj, tags=list(tags))


def make_world(app) -> World:
    with app.app_context():
        skazka = accounts.save_organization("МАДОУ «Сказка»", "Сказка", "kindergarten", "Когалым")
        cyber = accounts.save_organization("Центр «CYBERKID»", "CYBERKID", "center", "Когалым")
        accounts.create_user("anna@example.org", "Анна Петрова", "editor", PASSWORD, skazka)
        accounts.create_user("irina@example.org", "Ирина Кузнецова", "editor", PASSWORD, cyber)
        accounts.create_user("boss@example.org", "Организатор", "admin", PASSWORD, skazka)
        accounts.create_user("parent@example.org", "Мария Иванова", "reader", PASSWORD)
        pages.create_space("Общее", "Общие материалы", is_default=True)
        pages.create_space("Растим_инженеров", "Растим инженеров")
        pages.create_space("Наураша", "Наураша в стране Наурандии")
        db.session.commit()
    return World("anna@example.org", "irina@example.org", "boss@example.org", "parent@example.org")


@pytest.fixture
def world(app) -> World:
    return make_world(app)


@pytest.fixture(scope="module")
def corpus_app(tmp_path_factory):
    """One app per module with the corpus indexed: for tests that only read."""
    from kb import create_app
    from kb.database import upgrade_database
    from tests.search.corpus import PAGES

    app = create_app(
        {
            "TESTING": True,
            "KB_DATA_DIR": tmp_path_factory.mktemp("corpus") / "data",
            "KB_ASYNC_MODE": "threading",
        }
    )
    with app.app_context():
        upgrade_database()
    make_world(app)
    with app.app_context():
        for title, body, author, space, tags in PAGES:
            add_page(title, body, author, space=space, tags=tags)
        catch_up()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def corpus(corpus_app):
    with corpus_app.app_context():
        yield corpus_app


@pytest.fixture
def ctx(app, world):
    """An app context for the test body (the test's own session)."""
    with app.app_context():
        yield app


def titles(results) -> list[str]:
    return [hit.title for hit in results.hits]


def catch_up() -> int:
    """Commit the test's own transaction (it may hold SQLite's write lock), then index."""
    db.session.commit()
    return search.catch_up()
