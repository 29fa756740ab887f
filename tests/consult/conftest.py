"""Consulting-centre fixtures: the centre's people (the SMTP server is in tests/conftest.py)."""

import pytest

from kb.accounts import service as accounts
from kb.consult import service


@pytest.fixture
def ctx(app):
    with app.test_request_context("/"):
        yield app


@pytest.fixture
def people(ctx):
    org = accounts.save_organization("МАДОУ «Радуга»", "Радуга", "kindergarten", "Когалым")
    made = {
        "admin": accounts.create_user("boss@example.org", "Организатор", "admin", None),
        "methodist": accounts.create_user("m@example.org", "Методист Ирина", "editor", None),
        "teacher": accounts.create_user("t@example.org", "Педагог Анна", "editor", None, org),
        "colleague": accounts.create_user("c@example.org", "Педагог Вера", "reader", None, org),
    }
    service.set_methodist(made["methodist"], True, actor=made["admin"])
    return made
