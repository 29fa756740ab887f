"""Fixtures for surveys: people in two organizations and a survey with every question kind."""

import uuid

import pytest

from kb.accounts import service as accounts
from kb.surveys import service as surveys


@pytest.fixture
def ctx(app):
    with app.test_request_context("/"):
        yield app


@pytest.fixture
def people(ctx) -> dict:
    """An admin, an editor who organizes surveys, and four teachers in two kindergartens."""
    north = accounts.save_organization("МАДОУ «Северок»", "Северок", "kindergarten", "Когалым")
    south = accounts.save_organization("МАДОУ «Южанка»", "Южанка", "kindergarten", "Когалым")
    made = {
        "admin": accounts.create_user("boss@example.org", "Организатор", "admin", None),
        "author": accounts.create_user("author@example.org", "Автор Опроса", "editor", None),
        "a": accounts.create_user("a@example.org", "Педагог А", "editor", None, north),
        "b": accounts.create_user("b@example.org", "Педагог Б", "editor", None, north),
        "c": accounts.create_user("c@example.org", "Педагог В", "editor", None, south),
        "d": accounts.create_user("d@example.org", "Педагог Г", "reader", None, south),
    }
    made["north"], made["south"] = north, south
    return made


DEFINITION = {
    "title": "Готовность к инженерному образованию",
    "description": "Ежегодная анкета педагогов сети.",
    "anonymous": False,
    "sections": [
        {
            "title": "Опыт",
            "questions": [
                {"kind": "single", "text": "Ведёте ли вы кружок?", "required": True,
                 "options": ["Да", "Нет", "Планирую"]},
                {"kind": "multiple", "text": "Какие наборы используете?", "required": False,
                 "options": ["Конструктор", "Робототехника", "Песочница"]},
            ],
        },
        {
            "title": "Самооценка",
            "questions": [
                {"kind": "scale", "text": "Насколько вы уверены?", "required": True,
                 "scale_max": 5, "label_min": "Совсем нет", "label_max": "Полностью"},
                {"kind": "short_text", "text": "Ваша должность", "required": False},
                {"kind": "long_text", "text": "Что вам нужно от сети?", "required": False},
            ],
        },
    ],
}  # fmt: skip


@pytest.fixture
def survey(people):
    return surveys.define_survey(people["author"], DEFINITION)


def questions(survey) -> dict:
    """Questions by kind, and each choice question's option ids by text."""
    ordered = surveys.ordered_questions(survey)
    found = {q.kind: q for q in ordered}
    return found


def option(question, text) -> int:
    return next(o.id for o in question.options if o.text == text)


def key() -> str:
    return uuid.uuid4().hex


def answer(survey, user, *, single="Да", multiple=(), scale=3, short=None, long=None, **kw):
    q = questions(survey)
    raw = {
        q["single"].id: option(q["single"], single) if single else None,
        q["multiple"].id: [option(q["multiple"], t) for t in multiple],
        q["scale"].id: scale,
    }
    if short is not None:
        raw[q["short_text"].id] = short
    if long is not None:
        raw[q["long_text"].id] = long
    return surveys.submit_response(
        survey, user=user, answers=raw, idempotency_key=kw.pop("idempotency_key", key()), **kw
    )
