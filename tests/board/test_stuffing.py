"""Issue 14: a seminar board cannot be stuffed (fake participants, votes, likes, names).

Scripted stuffing attempts over HTTP (the Flask test client, one "attacker" address) and over
Socket.IO (real clients against a real `kb serve`), each followed by what a real attendee
can still do. Also the board contract of issue 13: `column` by id or title, numbers in range.
"""

import pytest
import requests

from kb.board import service as boards
from kb.errors import DomainError, InvalidInput, RateLimited
from tests.board.conftest import guest
from tests.conftest import PASSWORD, LiveServer

ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
ATTENDEE = {"REMOTE_ADDR": "198.51.100.20"}
SCHOOL = {"REMOTE_ADDR": "192.0.2.1"}  # a school network: everybody behind one NAT address
TOO_BIG = 2**31


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api_board(client, token_for):
    """A board with two columns and an open single-choice poll; yields (code, editor, poll)."""
    editor = bearer(token_for("editor"))
    made = client.post(
        "/api/v1/boards", json={"title": "Семинар", "columns": ["Идеи", "Вопросы"]}, headers=editor
    )
    assert made.status_code == 201, made.json
    code = made.json["code"]
    poll = client.post(
        f"/api/v1/boards/{code}/polls",
        json={"question": "Продолжим?", "kind": "single", "options": ["Да", "Нет"], "open": True},
        headers=editor,
    ).json["poll"]
    return code, editor, poll


def _participants(app, code: str) -> int:
    with app.app_context():
        return boards.participant_count(boards.get_board(code))


def _votes(client, code: str) -> list[int]:
    polls = client.get(f"/api/v1/boards/{code}/polls").json["polls"]
    return [o["votes"] for o in polls[0]["options"]]


# ------------------------------------------------------------------ HTTP


def test_http_join_and_vote_flood_from_one_address_is_capped(app, client, api_board):
    code, _editor, poll = api_board
    app.config["KB_BOARD_JOINS_PER_MINUTE"] = 5
    yes = poll["options"][0]["id"]
    statuses = []
    for i in range(40):  # the script of issue 14: join without a token, vote, repeat
        joined = client.post(
            f"/api/v1/boards/{code}/join", json={"name": f"Бот {i}"}, environ_base=ATTACKER
        )
        statuses.append(joined.status_code)
        if joined.status_code == 200:
            client.post(
                f"/api/v1/boards/{code}/polls/{poll['id']}/vote",
                json={"choices": [yes]},
                headers={"X-Board-Token": joined.json["token"]},
                environ_base=ATTACKER,
            )
    assert statuses == [200] * 5 + [429] * 35
    refused = client.post(f"/api/v1/boards/{code}/join", json={}, environ_base=ATTACKER)
    assert refused.status_code == 429 and "адреса" in refused.json["error"]
    assert _participants(app, code) == 5 and _votes(client, code) == [5, 0]

    # a real attendee elsewhere joins and votes; re-joining with the token does not reset it
    anna = client.post(f"/api/v1/boards/{code}/join", json={"name": "Анна"}, environ_base=ATTENDEE)
    assert anna.status_code == 200
    token = {"X-Board-Token": anna.json["token"]}
    vote_url = f"/api/v1/boards/{code}/polls/{poll['id']}/vote"
    no = poll["options"][1]["id"]
    assert client.post(vote_url, json={"choices": [no]}, headers=token).status_code == 200
    back = client.post(
        f"/api/v1/boards/{code}/join", json={"token": anna.json["token"]}, environ_base=ATTACKER
    )
    assert back.json["participant"] == anna.json["participant"]  # returning is not counted
    again = client.post(vote_url, json={"choices": [no]}, headers=token)
    assert again.status_code == 409 and "уже ответили" in again.json["error"]
    assert _participants(app, code) == 6 and _votes(client, code) == [5, 1]


def test_sixty_attendees_behind_one_school_address_join_and_vote(app, client, api_board):
    code, _editor, poll = api_board  # default limits
    for i in range(60):
        joined = client.post(
            f"/api/v1/boards/{code}/join", json={"name": f"Педагог {i}"}, environ_base=SCHOOL
        )
        assert joined.status_code == 200, joined.json
        voted = client.post(
            f"/api/v1/boards/{code}/polls/{poll['id']}/vote",
            json={"choices": [poll["options"][i % 2]["id"]]},
            headers={"X-Board-Token": joined.json["token"]},
            environ_base=SCHOOL,
        )
        assert voted.status_code == 200, voted.json
    assert _participants(app, code) == 60 and _votes(client, code) == [30, 30]


def test_vote_flood_per_address_is_capped_even_with_old_participants(app, client, api_board):
    code, _editor, poll = api_board
    tokens = [
        client.post(f"/api/v1/boards/{code}/join", json={}, environ_base=ATTACKER).json["token"]
        for _i in range(6)
    ]  # made over "several minutes": the join limit is lowered only now
    app.config["KB_BOARD_JOINS_PER_MINUTE"] = 4
    statuses = [
        client.post(
            f"/api/v1/boards/{code}/polls/{poll['id']}/vote",
            json={"choices": [poll["options"][0]["id"]]},
            headers={"X-Board-Token": token},
            environ_base=ATTACKER,
        ).status_code
        for token in tokens
    ]
    assert statuses == [200] * 4 + [429] * 2 and _votes(client, code) == [4, 0]


def test_name_override_only_for_moderators_and_token_integrations(client, api_board, token_for):
    code, editor, _poll = api_board
    anna = client.post(f"/api/v1/boards/{code}/join", json={"name": "Анна"}).json
    posts = f"/api/v1/boards/{code}/posts"
    token = {"X-Board-Token": anna["token"]}
    forged = client.post(
        posts, json={"text": "всё отменяется", "name": "Тест (ведущий)"}, headers=token
    )
    assert forged.status_code == 403 and "имя" in forged.json["error"]
    own = client.post(posts, json={"text": "моя запись", "name": "Анна"}, headers=token)
    assert own.status_code == 201 and own.json["post"]["author"] == "Анна"
    plain = client.post(posts, json={"text": "без имени"}, headers=token)
    assert plain.json["post"]["author"] == "Анна"
    relay = client.post(
        posts, json={"text": "из чата", "name": "Ирина (чат)"}, headers=bearer(token_for("reader"))
    )
    assert relay.status_code == 201 and relay.json["post"]["author"] == "Ирина (чат)"
    host = client.post(posts, json={"text": "объявление", "name": "Ведущая"}, headers=editor)
    assert host.status_code == 201 and host.json["post"]["author"] == "Ведущая"


def test_post_column_by_id_title_or_none(client, api_board):
    code, editor, _poll = api_board
    columns = client.get(f"/api/v1/boards/{code}").json["board"]["columns"]
    anna = {"X-Board-Token": client.post(f"/api/v1/boards/{code}/join", json={}).json["token"]}
    posts = f"/api/v1/boards/{code}/posts"

    def column_of(body):
        answer = client.post(posts, json={"text": "т", **body}, headers=anna)
        assert answer.status_code == 201, answer.json
        return answer.json["post"]["column"]

    assert column_of({}) == columns[0]["id"]
    assert column_of({"column": None}) == columns[0]["id"]
    assert column_of({"column": "Вопросы"}) == columns[1]["id"]
    assert column_of({"column": columns[1]["id"]}) == columns[1]["id"]
    assert column_of({"column": str(columns[1]["id"])}) == columns[1]["id"]
    for bad in ("Нет такой", TOO_BIG, -1, 2**63, "99999999999", 1.5, True, [1]):
        answer = client.post(posts, json={"text": "т", "column": bad}, headers=anna)
        assert answer.status_code == 422, (bad, answer.status_code)


def test_numbers_out_of_range_are_422_never_500(client, api_board, token_for):
    code, editor, poll = api_board
    anna = {"X-Board-Token": client.post(f"/api/v1/boards/{code}/join", json={}).json["token"]}
    vote = f"/api/v1/boards/{code}/polls/{poll['id']}/vote"
    for bad in (TOO_BIG, -1, 2**70, "-3", "1e9999"):
        answer = client.post(vote, json={"choices": [bad]}, headers=anna)
        assert answer.status_code == 422 and "2147483647" in answer.json["error"], bad
    made = client.post(f"/api/v1/boards/{code}/posts", json={"text": "т"}, headers=anna).json[
        "post"
    ]
    move = client.post(
        f"/api/v1/boards/{code}/posts/{made['id']}/moderate",
        json={"action": "move", "column": TOO_BIG},
        headers=editor,
    )
    assert move.status_code == 422
    columns = client.patch(
        f"/api/v1/boards/{code}", json={"columns": [{"id": -5, "title": "x"}]}, headers=editor
    )
    assert columns.status_code == 422
    seminar = client.post(
        "/api/v1/boards", json={"title": "x", "seminar_id": TOO_BIG}, headers=editor
    )
    assert seminar.status_code == 422
    for path in (f"posts/{TOO_BIG}/like", f"polls/{TOO_BIG}/vote", f"posts/{2**64}/comments"):
        assert client.post(f"/api/v1/boards/{code}/{path}", json={}, headers=anna).status_code in (
            404,
            405,
        )


def test_numbers_out_of_range_in_the_service(ctx, board):
    anna = guest(board)
    checks = [
        lambda: boards.events_since(board, TOO_BIG),
        lambda: boards.events_since(board, -1),
        lambda: boards.like_post(board, anna, TOO_BIG),
        lambda: boards.delete_comment(board, anna, -2),
        lambda: boards.vote(board, anna, 2**40, [1]),
        lambda: boards.create_post(board, anna, "т", column=-7),
    ]
    for check in checks:
        with pytest.raises(InvalidInput):
            check()


# ------------------------------------------------------------------ likes


def test_like_toggles_are_limited_and_refusals_not_broadcast(ctx, board, emitted):
    anna, olga = guest(board, "Анна"), guest(board, "Ольга")
    post = boards.create_post(board, anna, "идея")
    for i in range(boards.LIKE_TOGGLES_PER_POST):
        assert boards.like_post(board, olga, post.id)[1] is (i % 2 == 0)
    sent, seq = len(emitted), board.seq
    with pytest.raises(RateLimited, match="не больше"):
        boards.like_post(board, olga, post.id)
    with pytest.raises(DomainError):  # a no-op (already in that state) is refused too
        boards.like_post(board, olga, post.id, like=True)
    assert len(emitted) == sent and board.seq == seq  # nothing stored, nothing sent
    other = boards.create_post(board, anna, "другая идея")
    assert boards.like_post(board, olga, other.id)[1] is True  # other posts are not blocked
    assert boards.like_post(board, anna, post.id)[1] is True  # nor other participants


def test_like_changes_per_minute_are_limited(app, ctx, board):
    app.config["KB_BOARD_LIKES_PER_MINUTE"] = 3
    anna, olga = guest(board, "Анна"), guest(board, "Ольга")
    posts = [boards.create_post(board, anna, f"идея {i}") for i in range(4)]
    for post in posts[:3]:
        boards.like_post(board, olga, post.id)
    with pytest.raises(RateLimited, match="3"):
        boards.like_post(board, olga, posts[3].id)
    assert boards.like_post(board, anna, posts[3].id)[1]


# ------------------------------------------------------------------ Socket.IO


@pytest.fixture
def stuffed(tmp_path, database_url):
    """A real server with 5 new participants a minute per address, an editor and a board."""
    from tests.board.test_realtime import Peer, login_cookie

    server = LiveServer(tmp_path / "live", database_url, {"KB_BOARD_JOINS_PER_MINUTE": "5"})
    server.start()
    peers: list[Peer] = []
    try:
        added = server.run_cli(
            "user", "add", "lead@example.org", "--name", "Ведущая", "--role", "editor",
            "--password-stdin", stdin=PASSWORD + "\n",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        token = server.run_cli("token", "create", "lead@example.org").stdout.strip()
        made = requests.post(
            server.url + "/api/v1/boards",
            json={"title": "Живая доска", "columns": ["Отзывы", "Вопросы"]},
            headers=bearer(token),
            timeout=10,
        )
        assert made.status_code == 201, made.text

        def connect(cookie=None) -> Peer:
            peer = Peer(server.url, cookie)
            peers.append(peer)
            return peer

        yield server, made.json()["code"], login_cookie(server, "lead@example.org"), connect
    finally:
        for peer in peers:
            try:
                peer.close()
            except Exception:  # noqa: BLE001 - already disconnected
                pass
        server.stop()


def _browser_cookie(server, code: str) -> str:
    """The cookies a browser holds after opening the board page."""
    with requests.Session() as browser:
        assert browser.get(f"{server.url}/b/{code}", timeout=10).status_code == 200
        return "; ".join(f"{k}={v}" for k, v in browser.cookies.items())


def test_socketio_stuffing_attempt_leaves_poll_and_room_intact(stuffed):
    server, code, lead_cookie, connect = stuffed
    lead = connect(lead_cookie)
    assert lead.call("join", {"code": code})["moderator"]
    poll = lead.call(
        "poll:create", {"question": "Продолжим?", "kind": "single", "options": ["Да", "Нет"]}
    )["poll"]
    lead.call("poll:open", {"poll_id": poll["id"]})
    yes = poll["options"][0]["id"]

    # 1. a browser re-joins 40 times without its token: always the same participant, one vote
    browser = connect(_browser_cookie(server, code))
    keys, votes = set(), []
    for i in range(40):
        joined = browser.call("join", {"code": code, "name": f"Гость {i}"})
        assert joined["ok"], joined
        keys.add(joined["participant"]["key"])
        votes.append(browser.call("poll:vote", {"poll_id": poll["id"], "choices": [yes]})["ok"])
    assert len(keys) == 1 and votes == [True] + [False] * 39
    assert joined["participants"] == 2  # the moderator and this browser

    # 2. a script without cookies: new participants from one address stop at the limit
    bot = connect()
    answers = [bot.call("join", {"code": code, "name": f"Бот {i}"}) for i in range(40)]
    assert [a["ok"] for a in answers] == [True] * 4 + [False] * 36  # 5 with the browser
    assert "адреса" in answers[-1]["error"]
    state = lead.call("join", {"code": code})
    assert state["participants"] == 6
    assert [o["votes"] for o in state["polls"][0]["options"]] == [1, 0]

    # 3. a like toggled in a loop: refused after a few changes, refusals are not broadcast
    post = browser.call("post:create", {"text": "идея"})  # no column: the first one
    assert post["ok"] and post["post"]["column"] == state["board"]["columns"][0]["id"]
    returning = connect()
    assert returning.call("join", {"code": code, "token": answers[0]["token"]})["ok"]
    toggles = [returning.call("post:like", {"post_id": post["post"]["id"]}) for _i in range(30)]
    accepted = [t for t in toggles if t["ok"]]
    assert len(accepted) == boards.LIKE_TOGGLES_PER_POST
    assert "не больше" in toggles[-1]["error"]
    browser.wait_for(lambda n, d: n == "post:updated" and d["post"]["seq"] == accepted[-1]["seq"])
    updates = [d for n, d in browser.changes() if n == "post:updated"]
    assert len(updates) == boards.LIKE_TOGGLES_PER_POST

    # 4. legitimate use still works: columns by title, the moderator, a returning participant
    asked = browser.call("post:create", {"text": "вопрос", "column": "Вопросы"})
    assert asked["ok"] and asked["post"]["column"] == state["board"]["columns"][1]["id"]
    wrong = browser.call("post:create", {"text": "т", "column": TOO_BIG})
    assert wrong["ok"] is False and "2147483647" in wrong["error"]
    assert browser.call("join", {"code": code, "since": TOO_BIG})["ok"] is False
    assert lead.call("post:moderate", {"post_id": asked["post"]["id"], "action": "pin"})["ok"]


def test_seminar_form_ids_out_of_range_are_invalid_input(ctx):
    from kb.board import seminars
    from tests.board.test_http import _seminar_form

    for field, value in (("organization_id", "9" * 20), ("space_id", str(TOO_BIG))):
        with pytest.raises(InvalidInput):
            seminars.create_seminar(ctx["editor"], _seminar_form(**{field: value}))


def test_rate_limit_storage_is_never_used_inside_a_transaction(app, ctx, board, monkeypatch):
    """Talking to the counters' storage may yield (Redis; gevent): never with the write lock
    held, or 200 guests joining at once queue behind each other (tests/faults storm)."""
    from kb.database import db
    from kb.extensions import limiter

    strategy, seen = limiter.limiter, []

    def spy(real):
        def call(*args, **kwargs):
            seen.append(db.session().in_transaction())
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(strategy, "test", spy(strategy.test))
    monkeypatch.setattr(strategy, "hit", spy(strategy.hit))
    poll = boards.create_poll(board, ctx["editor"], "Продолжим?", "single", ["Да", "Нет"])
    boards.set_poll_status(board, ctx["editor"], poll.id, "open")
    with app.test_request_context("/", method="POST", environ_base=ATTENDEE):
        anna = boards.join_board(board.code, name="Анна").participant
        post = boards.create_post(board, anna, "идея")
        boards.like_post(board, anna, post.id)
        boards.vote(board, anna, poll.id, [poll.options[0].id])
    assert len(seen) == 2 * (2 + 3 + 1) and not any(seen)


def test_two_tabs_of_one_browser_joining_at_once_get_one_participant(app, ctx, board, monkeypatch):
    browser, real = boards.new_browser_id(), boards._check_limits

    def other_tab_joins_meanwhile(limits):
        real(limits)
        monkeypatch.setattr(boards, "_check_limits", real)
        boards.join_board(board.code, name="Вкладка 2", browser=browser)

    monkeypatch.setattr(boards, "_check_limits", other_tab_joins_meanwhile)
    with app.test_request_context("/", method="POST", environ_base=ATTENDEE):
        first = boards.join_board(board.code, name="Вкладка 1", browser=browser)
        again = boards.join_board(board.code, browser=browser)
    assert first.participant.key == again.participant.key and first.token == again.token
    assert boards.participant_count(board) == 1
