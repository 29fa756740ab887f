"""Consulting-centre fixtures: the centre's people, a real SMTP server and its inbox."""

import time

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


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    from tests.services import free_port

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
