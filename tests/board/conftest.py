"""Board fixtures: an app context, users as objects, a recorder of broadcasts."""

import pytest

from kb.accounts import service as accounts
from kb.board import service as boards
from kb.extensions import socketio


@pytest.fixture
def ctx(app, users):
    """An application context with the standard users; yields a dict of User objects."""
    with app.app_context():
        yield {role: accounts.get_user(email) for role, email in users.items()}


@pytest.fixture
def emitted(monkeypatch):
    """Every broadcast as (event, payload, rooms), in sending order."""
    sent: list[tuple[str, dict, list[str]]] = []

    def record(event, data, to=None, namespace=None, **_kwargs):
        sent.append((event, data, list(to) if isinstance(to, list) else [to]))

    monkeypatch.setattr(socketio, "emit", record)
    return sent


@pytest.fixture
def board(ctx):
    return boards.create_board(
        ctx["editor"], "Семинар «Робототехника»", columns=["Плюсы", "Вопросы"]
    )


def guest(board, name="Гость"):
    return boards.join_board(board.code, name=name).participant
