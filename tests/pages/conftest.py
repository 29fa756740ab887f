"""Wiki fixtures: an app context with spaces and users, and small helpers."""

import pytest

from kb.accounts import service as accounts
from kb.database import db
from kb.pages import service as pages
from kb.pages.models import PageTemplate
from kb.search.models import SearchChange


@pytest.fixture
def ctx(app, users):
    """An application context with a default space, a club and the users of every role."""
    with app.test_request_context():
        pages.create_space("Общее", "Общие материалы", "Для всех", is_default=True)
        pages.create_space("Растим_инженеров", "Растим инженеров", "Клуб технического творчества")
        db.session.add(PageTemplate(name="Конспект занятия", body="## Цель\n\n## Ход занятия\n"))
        db.session.commit()
        yield {role: accounts.get_user(email) for role, email in users.items()}
        db.session.rollback()


@pytest.fixture
def seeded(app, users):
    """Spaces and a template in the database, without holding a context open."""
    with app.app_context():
        pages.create_space("Общее", "Общие материалы", "Для всех", is_default=True)
        pages.create_space("Растим_инженеров", "Растим инженеров", "Клуб технического творчества")
        db.session.add(PageTemplate(name="Конспект занятия", body="## Цель\n\n## Ход занятия\n"))
        db.session.commit()
    return users


def changes_for(entity: str, entity_id: int) -> int:
    return db.session.query(SearchChange).filter_by(entity=entity, entity_id=entity_id).count()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
