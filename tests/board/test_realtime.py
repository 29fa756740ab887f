"""The /board Socket.IO protocol with several real clients against a real `kb serve`."""

import re
import threading
import time

import pytest
import requests
import socketio

from tests.conftest import PASSWORD

pytestmark = pytest.mark.server

EVENTS = (
    "post:created",
    "post:updated",
    "post:deleted",
    "poll:updated",
    "board:updated",
    "presence",
)
NS = "/board"


class Peer:
    """A python-socketio client that records every board event it receives."""

    def __init__(self, url: str, cookie: str | None = None, headers: dict | None = None):
        self.client = socketio.Client(reconnection=False)
        self.events: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        for name in EVENTS:
            self.client.on(name, self._recorder(name), namespace=NS)
        headers = {**({"Cookie": cookie} if cookie else {}), **(headers or {})}
        self.client.connect(url, namespaces=[NS], transports=["websocket"], headers=headers)

    def _recorder(self, name):
        def record(data):
            with self.lock:
                self.events.append((name, data))

        return record

    def call(self, event: str, data: dict | None = None) -> dict:
        return self.client.call(event, data or {}, namespace=NS, timeout=10)

    def changes(self) -> list[tuple[str, dict]]:
        with self.lock:
            return [(n, d) for n, d in self.events if n != "presence"]

    def wait_for(self, predicate, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for name, data in self.events:
                    if predicate(name, data):
                        return data
            time.sleep(0.02)
        raise AssertionError(f"no matching event; got {self.changes()}")

    def close(self) -> None:
        self.client.disconnect()


def login_cookie(server, email: str) -> str:
    session = requests.Session()
    page = session.get(server.url + "/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = session.post(
        server.url + "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf},
        allow_redirects=False,
    )
    assert answer.status_code == 302
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())


@pytest.fixture
def live(live_server):
    """The live server with an editor (moderator) and one board; yields (server, code, cookie)."""
    added = live_server.run_cli(
        "user", "add", "lead@example.org", "--name", "Ведущая", "--role", "editor",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    token = live_server.run_cli("token", "create", "lead@example.org").stdout.strip()
    made = requests.post(
        live_server.url + "/api/v1/boards",
        json={"title": "Живая доска", "columns": ["Отзывы", "Вопросы"]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    peers: list[Peer] = []

    def connect(cookie=None, headers=None) -> Peer:
        peer = Peer(live_server.url, cookie, headers)
        peers.append(peer)
        return peer

    yield live_server, made.json()["code"], login_cookie(live_server, "lead@example.org"), connect
    for peer in peers:
        try:
            peer.close()
        except Exception:  # noqa: BLE001 - already disconnected
            pass


def test_join_post_like_comment_poll_and_limits(live):
    server, code, cookie, connect = live
    anna, olga, lead = connect(), connect(), connect(cookie)

    unknown = anna.call("join", {"code": "ZZZZZZ", "name": "Анна"})
    assert unknown["ok"] is False and "не найдена" in unknown["error"]
    long_name = anna.call("join", {"code": code, "name": "Я" * 61})
    assert long_name["ok"] is False and "60" in long_name["error"]
    assert anna.call("post:create", {"text": "до входа"})["ok"] is False

    joined = anna.call("join", {"code": code, "name": "Анна"})
    assert joined["ok"] and joined["token"] and joined["seq"] == 0
    assert joined["posts"] == [] and joined["polls"] == [] and joined["moderator"] is False
    assert olga.call("join", {"code": code.lower(), "name": "Ольга"})["ok"]
    boss = lead.call("join", {"code": code})
    assert boss["moderator"] is True and boss["participant"]["name"].startswith("Ведущая")

    made = anna.call("post:create", {"text": "Спасибо! https://example.org/материалы"})
    assert made["ok"] and made["seq"] == 1
    post_id = made["post"]["id"]
    for peer in (anna, olga, lead):
        event = peer.wait_for(lambda n, d: n == "post:created")
        assert event["seq"] == 1 and event["post"]["text"].startswith("Спасибо!")

    assert olga.call("post:like", {"post_id": post_id, "like": True})["liked"] is True
    twice = olga.call("post:like", {"post_id": post_id, "like": True})
    assert twice["ok"] is False and "уже" in twice["error"]
    anna.wait_for(lambda n, d: n == "post:updated" and d["post"]["likes"] == 1)
    commented = olga.call("post:comment", {"post_id": post_id, "text": "Согласна"})
    assert commented["post"]["comments"][0]["author"] == "Ольга"

    too_long = anna.call("post:create", {"text": "я" * 1001})
    assert too_long["ok"] is False and "1000" in too_long["error"]
    assert anna.call("post:create", {"text": "   "})["ok"] is False
    assert olga.call("post:edit", {"post_id": post_id, "text": "чужое"})["ok"] is False

    poll = lead.call(
        "poll:create", {"question": "Продолжим?", "kind": "single", "options": ["Да", "Нет"]}
    )["poll"]
    assert lead.call("poll:open", {"poll_id": poll["id"]})["poll"]["status"] == "open"
    anna.wait_for(lambda n, d: n == "poll:updated" and d["poll"]["status"] == "open")
    yes = poll["options"][0]["id"]
    assert anna.call("poll:vote", {"poll_id": poll["id"], "choices": [yes]})["ok"]
    again = anna.call("poll:vote", {"poll_id": poll["id"], "choices": [yes]})
    assert again["ok"] is False and "уже ответили" in again["error"]
    olga.wait_for(lambda n, d: n == "poll:updated" and d["poll"]["voters"] == 1)

    assert lead.call("board:lock", {"locked": True})["board"]["locked"] is True
    olga.wait_for(lambda n, d: n == "board:updated" and d["board"]["locked"])
    locked = olga.call("post:create", {"text": "после закрытия"})
    assert locked["ok"] is False and "закрыта" in locked["error"]
    assert olga.call("post:like", {"post_id": post_id})["ok"] is False
    assert lead.call("board:lock", {"locked": False})["ok"]

    # rate limit: 10 a minute by default; other participants are not affected
    results = [olga.call("post:create", {"text": f"поток {i}"})["ok"] for i in range(11)]
    assert results == [True] * 10 + [False]
    assert anna.call("post:create", {"text": "я не задета"})["ok"]

    seqs = [d["seq"] for n, d in lead.changes()]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))  # in order, none twice
    presence = anna.wait_for(lambda n, d: n == "presence" and d["online"] == 3)
    assert presence["online"] == 3


def test_an_api_token_in_the_handshake_signs_in(live):
    """An integration (a chat relay, the fan-out benchmark's host) connects with its API
    token: it is the token's user, the board's moderator, whom the post limit spares."""
    server, code, cookie, connect = live
    token = server.run_cli("token", "create", "lead@example.org").stdout.strip()
    lead = connect(headers={"Authorization": f"Bearer {token}"})
    assert lead.call("join", {"code": code})["moderator"] is True
    for number in range(12):  # above KB_BOARD_POSTS_PER_MINUTE (10) of a participant
        assert lead.call("post:create", {"text": f"объявление {number}"})["ok"], number
    # a junk token is nobody (and the session cookie beside it does not count either)
    junk = connect(cookie, headers={"Authorization": "Bearer junk"})
    assert junk.call("join", {"code": code, "name": "Гость"})["moderator"] is False


def test_moderation_visibility(live):
    server, code, cookie, connect = live
    lead, anna, olga, wall = connect(cookie), connect(), connect(), connect(cookie)
    assert lead.call("join", {"code": code})["moderator"]
    assert wall.call("join", {"code": code, "wall": True})["moderator"] is False
    assert lead.call("board:update", {"moderated": True})["board"]["moderated"] is True
    anna.call("join", {"code": code, "name": "Анна"})
    olga.call("join", {"code": code, "name": "Ольга"})

    pending = anna.call("post:create", {"text": "секрет до одобрения"})
    assert pending["post"]["status"] == "pending"
    lead.wait_for(lambda n, d: n == "post:created" and d["post"]["status"] == "pending")
    visible = olga.call("post:create", {"text": "не пройдёт модерацию"})  # also pending
    spam_id = visible["post"]["id"]
    lead.wait_for(lambda n, d: n == "post:created" and d["post"]["id"] == spam_id)
    assert lead.call("post:moderate", {"post_id": spam_id, "action": "hide"})["ok"]
    assert (
        olga.call("post:moderate", {"post_id": pending["post"]["id"], "action": "approve"})["ok"]
        is False
    )  # participants do not moderate

    assert lead.call("post:moderate", {"post_id": pending["post"]["id"], "action": "approve"})["ok"]
    olga.wait_for(lambda n, d: n == "post:created" and d["post"]["id"] == pending["post"]["id"])
    wall.wait_for(lambda n, d: n == "post:created" and d["post"]["id"] == pending["post"]["id"])
    # a sentinel after everything above: once it has arrived (one connection delivers in
    # order), whatever was going to reach a client has reached it
    assert lead.call("board:lock", {"locked": True})["ok"]
    assert lead.call("board:lock", {"locked": False})["ok"]
    for peer in (anna, olga, wall):
        peer.wait_for(lambda n, d: n == "board:updated" and d["board"]["locked"] is False)

    def texts(peer):
        return [d["post"]["text"] for _n, d in peer.changes() if "post" in d]

    # hidden and pending posts never reach other participants or the wall, only moderators
    assert "не пройдёт модерацию" not in texts(anna) + texts(wall)
    assert texts(olga).count("секрет до одобрения") == 1  # once: when approved
    assert texts(olga).count("не пройдёт модерацию") == 1  # her own, while pending
    assert all(d["post"]["status"] == "visible" for _n, d in wall.changes() if "post" in d)
    assert "не пройдёт модерацию" in texts(lead)
    # a fresh join shows participants only published posts (and their own pending ones)
    fresh = connect()
    state = fresh.call("join", {"code": code, "name": "Новый"})
    assert [p["text"] for p in state["posts"]] == ["секрет до одобрения"]
    assert {p["status"] for p in lead.call("join", {"code": code})["posts"]} == {
        "visible",
        "hidden",
    }


def test_reconnect_with_since_gets_exactly_what_was_missed(live):
    server, code, cookie, connect = live
    lead, anna, olga = connect(cookie), connect(), connect()
    lead.call("join", {"code": code})
    first = anna.call("join", {"code": code, "name": "Анна"})
    olga.call("join", {"code": code, "name": "Ольга"})
    mine = anna.call("post:create", {"text": "моя запись"})["post"]
    anna.wait_for(lambda n, d: n == "post:created")
    seen = anna.changes()[-1][1]["seq"]
    token = first["token"]
    anna.close()

    other = olga.call("post:create", {"text": "пока Анны нет"})["post"]
    olga.call("post:like", {"post_id": mine["id"]})
    lead.call("post:moderate", {"post_id": other["id"], "action": "pin"})
    lead.call("post:moderate", {"post_id": mine["id"], "action": "hide"})
    olga.call("post:comment", {"post_id": other["id"], "text": "дополню"})
    lead.wait_for(lambda n, d: n == "post:updated" and d["post"]["comments"])

    back = connect()
    replay = back.call("join", {"code": code, "token": token, "since": seen})
    assert (
        replay["ok"]
        and "posts" not in replay
        and replay["participant"]["key"] == mine["author_key"]
    )
    events = replay["events"]
    assert [e["seq"] for e in events] == sorted({e["seq"] for e in events})
    assert all(e["seq"] > seen for e in events) and events[-1]["seq"] == replay["seq"]
    names = [e["name"] for e in events]
    assert names == ["post:created", "post:updated", "post:updated", "post:deleted", "post:updated"]
    assert replay["my_likes"] == []

    # applying the missed events to what Anna had gives the fresh state
    posts = {mine["id"]: mine}
    for event in events:
        data = event["data"]
        if event["name"] == "post:deleted":
            posts.pop(data["post_id"], None)
        else:
            posts[data["post"]["id"]] = data["post"]
    fresh = connect().call("join", {"code": code, "token": token})
    assert sorted(posts.values(), key=lambda p: p["id"]) == fresh["posts"]
    assert back.call("join", {"code": code, "token": token, "since": replay["seq"]})["events"] == []
    assert back.call("join", {"code": code, "token": token, "since": "x"})["ok"] is False
