# ruff: noqa: B023 - the lambdas given to fit() are called at once, inside the loop
"""Every payload of ../shared/security/*.txt in every user-controlled field stays inert.

Payloads are stored through the services in bulk (one object per payload where objects are
cheap, many payloads per object where a field is long), then the HTML pages that show them
are rendered by the real app and read with html5lib (`inert.dangers`). A page may contain
only our own `<script src="/static/...">` and JSON data blocks. A payload longer than a
field's limit is cut to the limit; one the service refuses is simply not stored (and then
cannot be rendered). JSON answers must be `application/json` with `nosniff`.
"""

import io
import json
import re
from collections.abc import Callable
from urllib.parse import quote

import pytest

from kb.accounts import service as accounts
from kb.board import seminars
from kb.board import service as boards
from kb.consult import service as consult
from kb.database import db
from kb.errors import DomainError
from kb.pages import attachments
from kb.pages import service as pages
from kb.pages.slugs import page_path, slug_for_title
from kb.search import service as search
from kb.surveys import service as surveys
from tests.security.inert import dangers

LIMITS = (None, 5000, 1000, 500, 300, 200, 100, 60, 40, 30)
SAFE = {"own-script", "data-script"}


def fit(store: Callable[[str], object], payload: str):
    """Store `payload`, cut to the first length the service accepts; None if refused."""
    for limit in LIMITS:
        if limit is not None and limit >= len(payload):
            continue
        text = payload if limit is None else payload[:limit]
        try:
            return store(text)
        except DomainError:
            db.session.rollback()
    return None


def assert_inert(client, path: str, context: str = "") -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    page = response.get_data(as_text=True)
    response.close()
    if response.mimetype == "application/json":
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        json.loads(page)
        return page
    found = {key: n for key, n in dangers(page).items() if key[0] not in SAFE}
    assert not found, f"{context} {path}: {found}"
    return page


def chunks(payloads: list[str], size: int) -> list[list[str]]:
    return [payloads[i : i + size] for i in range(0, len(payloads), size)]


@pytest.fixture(scope="module")
def people(module_app):
    with module_app.app_context():
        found = {
            role: accounts.get_user(f"{role}@example.org").id
            for role in ("admin", "editor", "reader", "owner")
        }
        db.session.remove()
    return found


def _user(role: str):
    return accounts.get_user(f"{role}@example.org")


def test_board_fields(module_app, role_clients, payloads):
    """Board title/description/columns, posts, comments, names, polls, word clouds."""
    codes = []
    with module_app.test_request_context("/"):
        owner = _user("owner")
        for number, group in enumerate(chunks(payloads, 100)):
            board = fit(
                lambda t: boards.create_board(owner, t, description=t, columns=[t[:100], "Б"]),
                group[0],
            ) or boards.create_board(owner, f"Доска {number}")
            poll = boards.create_poll(
                board, owner, group[1][:300], "single", ["Да", group[2][:200]]
            )
            boards.set_poll_status(board, owner, poll.id, "open")
            words = boards.create_poll(board, owner, group[3][:300], "words")
            boards.set_poll_status(board, owner, words.id, "open")
            for payload in group:
                joined = fit(lambda t: boards.join_board(board.code, name=t), payload)
                joined = joined or boards.join_board(board.code, name="Гость")
                post = fit(lambda t: boards.create_post(board, joined.participant, t), payload)
                if post is not None:
                    fit(
                        lambda t: boards.comment_post(board, joined.participant, post.id, t),
                        payload,
                    )
                fit(lambda t: boards.vote(board, joined.participant, words.id, words=[t]), payload)
            options = [p[:200] for p in group[4:16]]
            fit(lambda _t: boards.create_poll(board, owner, "Варианты", "multiple", options), "x")
            codes.append(board.code)
        db.session.remove()
    stored = 0
    for code in codes:
        for role in ("guest", "owner"):
            client = role_clients[role].client
            assert_inert(client, f"/b/{code}", role)
            assert_inert(client, f"/b/{code}/wall", role)
            state = assert_inert(client, f"/api/v1/boards/{code}", role)
        stored += len(json.loads(state)["posts"])
        assert_inert(role_clients["owner"].client, f"/b/{code}/settings")
        export = role_clients["owner"].client.get(f"/api/v1/boards/{code}/export.md")
        assert export.mimetype in ("text/markdown", "text/plain")
        assert "attachment" in export.headers.get("Content-Disposition", "")
    assert_inert(role_clients["owner"].client, "/boards")
    assert stored > len(payloads) * 0.9


def test_board_texts_round_trip_through_the_api(module_app, role_clients, payloads):
    """The JSON API stores and returns payloads as plain text, byte for byte."""
    owner = role_clients["owner"]
    made = owner.open("POST", "/api/v1/boards", json={"title": "Через API"}).get_json()
    code = made["code"]
    for payload in payloads[:40]:
        answer = owner.open("POST", f"/api/v1/boards/{code}/posts", json={"text": payload[:1000]})
        assert answer.status_code == 201, answer.get_data(as_text=True)
        assert answer.get_json()["post"]["text"] == payload[:1000].strip()
    assert_inert(role_clients["guest"].client, f"/b/{code}")


def test_seminar_fields(module_app, role_clients, payloads):
    ids = []
    with module_app.test_request_context("/"):
        owner = _user("owner")
        for payload in payloads:
            data = {"date": "2030-01-15", "start": "10:00", "end": "11:00"}
            seminar = fit(
                lambda t: seminars.create_seminar(
                    owner, {**data, "title": t, "description": t, "speakers": t}
                ),
                payload,
            )
            if seminar is not None:
                ids.append(seminar.id)
        for payload in payloads[:50]:  # meeting links: only http(s) is accepted at all
            fit(
                lambda t: seminars.create_seminar(
                    owner,
                    {
                        "date": "2030-01-16",
                        "start": "10:00",
                        "end": "11:00",
                        "title": "Ссылка",
                        "meeting_url": t,
                    },  # fmt: skip
                ),
                payload,
            )
        db.session.remove()
    assert len(ids) > 500
    client = role_clients["guest"].client
    assert_inert(client, "/seminars")
    for seminar_id in ids:
        assert_inert(client, f"/seminars/{seminar_id}")
    ics = client.get("/seminars.ics")
    assert ics.mimetype == "text/calendar"
    assert_inert(role_clients["owner"].client, f"/seminars/{ids[0]}/edit")


def test_survey_fields(module_app, role_clients, payloads):
    with module_app.test_request_context("/"):
        owner = _user("owner")
        survey_ids = []
        for group in chunks(payloads, 60):
            definition = {
                "title": group[0][:200],
                "description": "\n".join(group)[:5000],
                "anonymous": False,
                "sections": [
                    {
                        "title": group[1][:200],
                        "description": group[2][:1000],
                        "questions": [
                            {
                                "kind": "single",
                                "text": payload[:500],
                                "help": payload[:1000],
                                "required": False,
                                "options": [payload[:300], "Другое"],
                            }
                            for payload in group
                        ]
                        + [
                            {
                                "kind": "scale",
                                "text": "Оценка",
                                "scale_max": 5,
                                "label_min": group[3][:80],
                                "label_max": group[4][:80],
                            },
                            {"kind": "long_text", "text": "Отзыв"},
                        ],  # fmt: skip
                    }
                ],
            }
            survey = surveys.define_survey(owner, definition)
            surveys.open_wave(survey, owner, title=group[5][:200])
            text_question = surveys.ordered_questions(survey)[-1]
            surveys.submit_response(
                survey,
                user=owner,
                answers={str(text_question.id): "\n".join(group)[:5000]},
                idempotency_key=f"xss-survey-{survey.id:05d}",
            )
            survey_ids.append(survey.id)
        db.session.remove()
    owner_client = role_clients["owner"].client
    for survey_id in survey_ids:
        for path in ("", "/edit", "/preview", "/results", "/results/live", "/responses",
                     "/compare"):  # fmt: skip
            assert_inert(owner_client, f"/surveys/{survey_id}{path}")
        assert_inert(role_clients["reader"].client, f"/surveys/{survey_id}/respond")
    assert_inert(owner_client, "/surveys")


def test_survey_answers(module_app, role_clients, payloads):
    """Text answers of many respondents on the results and responses pages."""
    with module_app.test_request_context("/"):
        owner = _user("owner")
        survey = surveys.define_survey(
            owner,
            {
                "title": "Ответы",
                "anonymous": True,
                "sections": [
                    {
                        "title": "Р",
                        "questions": [
                            {"kind": "short_text", "text": "Коротко"},
                            {"kind": "long_text", "text": "Подробно"},
                        ],
                    }
                ],
            },  # fmt: skip
        )
        surveys.open_wave(survey, owner, title="Волна")
        short, long = surveys.ordered_questions(survey)
        for index, payload in enumerate(payloads):
            surveys.submit_response(
                survey,
                user=None,
                code=survey.code,
                answers={str(short.id): payload[:300], str(long.id): payload},
                idempotency_key=f"answer-{index:05d}",
                device_id=f"device-{index:05d}-{'x' * 20}",
            )
        survey_id = survey.id
        db.session.remove()
    client = role_clients["owner"].client
    for path in ("/results", "/results/live", "/responses", "/compare"):
        assert_inert(client, f"/surveys/{survey_id}{path}")


def test_consult_fields(module_app, role_clients, payloads):
    with module_app.test_request_context("/"):
        reader, admin = _user("reader"), _user("admin")
        ids = []
        for index, payload in enumerate(payloads):
            question = fit(lambda t: consult.ask(reader, title=t[:200], body=t), payload)
            if question is not None:
                if index % 10 == 0:
                    consult.answer(question, admin, body="\n\n".join(payloads[index : index + 10]))
                ids.append(question.id)
        db.session.remove()
    assert len(ids) > 500
    reader_client, admin_client = role_clients["reader"].client, role_clients["admin"].client
    assert_inert(reader_client, "/consult")
    assert_inert(reader_client, "/consult/notifications")
    assert_inert(admin_client, "/consult/notifications")
    for question_id in ids:
        assert_inert(reader_client, f"/consult/questions/{question_id}")
    assert_inert(reader_client, "/api/v1/consult/questions")


def test_wiki_fields(module_app, role_clients, payloads):
    """Page titles and tags (one page per payload, listed by space), bodies and attachment
    names (ten payloads per page), space names, history and diff, search results."""
    with module_app.test_request_context("/"):
        editor, admin = _user("editor"), _user("admin")
        if not any(s.is_default for s in pages.list_spaces()):
            pages.create_space("obshchee", "Общее", is_default=True)
        spaces, slugs, bodies = [], [], []
        for index, payload in enumerate(payloads):
            space = fit(
                lambda t: pages.create_space(f"xss-{index}", t[:200], t, actor=admin),
                payload,
            )
            if space is not None:
                spaces.append(space.slug)
        listing = [pages.create_space(f"list-{n}", f"Список {n}") for n in range(7)]
        for index, payload in enumerate(payloads):
            title = fit(pages.check_title, payload)
            if title is None or slug_for_title(title) in slugs:
                continue
            tags = fit(lambda t: pages.check_tags([t]), payload[:50])
            result = fit(
                lambda t: pages.put_page(
                    slug_for_title(t),
                    title=t,
                    body="текст",
                    author=editor,
                    space=listing[index % 7],
                    tags=tags,
                    base_revision=None,
                ),  # fmt: skip
                title,
            )
            if result is not None:
                slugs.append(result.slug)
        for number, group in enumerate(chunks(payloads, 10)):
            result = pages.put_page(
                f"xss_body_{number}", title=f"xss body {number}", author=editor,
                body="\n\n".join(group) + f" слово{number}", base_revision=None,
            )  # fmt: skip
            page = pages.get_page(result.slug)
            for payload in group:
                name = payload[:240] + ".txt"
                try:
                    attachments.add_attachment(page, name, io.BytesIO(b"text\n"), editor)
                except DomainError:
                    db.session.rollback()
            pages.put_page(
                result.slug, title=None, body="\n\n".join(reversed(group)) + " вторая версия",
                author=editor, base_revision=1,
            )  # fmt: skip
            bodies.append(result.slug)
        db.session.remove()
    assert len(slugs) > len(payloads) // 2 and len(spaces) > len(payloads) // 2
    client = role_clients["guest"].client
    for path in ["/", "/spaces", "/tags", "/recent"] + [f"/spaces/list-{n}" for n in range(7)]:
        assert_inert(client, path)
    for slug in bodies:
        for suffix in ("", "/history", "/diff?old=1&new=2"):
            assert_inert(client, page_path(slug) + suffix)
    for slug in slugs[::25]:
        assert_inert(client, page_path(slug))
    for space in spaces[::25]:
        assert_inert(client, f"/spaces/{quote(space, safe='')}")
    for payload in payloads[::25]:
        path = "/tags/" + quote(payload[:50].strip(), safe="")
        response = client.get(path)
        response.close()
        if response.status_code == 200:
            assert_inert(client, path)


def test_search_result_snippets(app, users, payloads):
    """Snippets are HTML (matches in <mark>): everything else in them must be escaped."""
    with app.test_request_context("/"):
        editor = accounts.get_user(users["editor"])
        pages.create_space("obshchee", "Общее", is_default=True)
        for number, group in enumerate(chunks(payloads, 10)):
            pages.put_page(
                f"snippet_{number}", title=f"snippet {number}", author=editor,
                body="\n\n".join(f"{p} искомое слово {p}" for p in group), base_revision=None,
                commit=False,
            )  # fmt: skip
        db.session.commit()
        search.catch_up()
        db.session.remove()
    client = app.test_client()
    found = client.get("/api/v1/search?q=искомое&per_page=50").get_json()
    assert found["total"] >= 60 and "<mark>" in found["results"][0]["snippet"]
    for query in ("искомое", "слово", "alert", "script", "javascript", "onerror", "img"):
        for number in range(1, 8):
            assert_inert(client, f"/search?q={query}&page={number}")
        assert_inert(client, f"/api/v1/search?q={query}&per_page=50")


def test_search_queries_echoed_back(module_app, role_clients, payloads):
    client = role_clients["guest"].client
    for payload in payloads:
        query = payload[:300]
        assert_inert(client, "/search?" + _query(q=query), payload)
        assert_inert(client, "/api/v1/search/suggest?" + _query(q=query), payload)
    for payload in payloads[::5]:
        assert_inert(client, "/search?" + _query(q="слово", space=payload, tag=payload), payload)


def _query(**params) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def test_payload_lists_are_dangerous_when_not_escaped(payloads):
    """The check itself can fail: pasted raw, most payloads are caught."""
    caught = sum(1 for p in payloads if dangers(f"<div>{p}</div>") or dangers(f'<a title="{p}">'))
    assert caught > len(payloads) // 2


def test_markdown_renderer_sanitizes_every_payload(payloads):
    from kb.pages.render import mark_missing_links, render_markdown

    for payload in payloads:
        html = render_markdown(payload, 1)
        assert not dangers(html), payload
        html = mark_missing_links(html, set())
        assert not dangers(html), payload
        assert not re.search(r"<script", html, re.I)
