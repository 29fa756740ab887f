"""Against a real `kb serve` (gunicorn + gevent): racing saves and Socket.IO presence."""

import re
import threading
import time

import pytest
import requests
import socketio

from tests.conftest import PASSWORD

pytestmark = pytest.mark.server

BODY = "".join(f"Строка {n}: ход занятия.\n" for n in range(1, 11))


def add_users(server, *people: tuple[str, str]) -> list[str]:
    """Editors added straight into the running server's database; returns API tokens."""
    from kb import create_app
    from kb.accounts import service as accounts
    from kb.database import db

    config = {"KB_DATA_DIR": server.data_dir, "KB_ASYNC_MODE": "threading"}
    if server.env.get("KB_DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = server.env["KB_DATABASE_URL"]
    app = create_app(config)
    with app.app_context():
        tokens = [
            accounts.create_token(accounts.create_user(email, name, "editor", PASSWORD), "test")
            for email, name in people
        ]
        db.session.remove()
        db.engine.dispose()
    return tokens


def login(server, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(server.url + "/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = session.post(
        server.url + "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf},
        timeout=10,
    )
    assert response.status_code in (200, 302) and session.cookies
    return session


def test_racing_saves_never_both_win(live_server):
    tokens = add_users(
        live_server, ("anna@example.org", "Анна Петрова"), ("olga@example.org", "Ольга Смирнова")
    )
    headers = [{"Authorization": f"Bearer {t}"} for t in tokens]
    url = live_server.url + "/api/v1/pages/Гонка"
    created = requests.put(url, json={"body": BODY, "base_revision": None}, headers=headers[0])
    assert created.status_code == 201

    rounds = 6
    for round_number in range(rounds):
        current = requests.get(url, timeout=10).json()
        base, text = current["revision"], current["body"]
        lines = text.splitlines(keepends=True)
        # Both people edit the SAME line: exactly one may be stored, the other must conflict.
        edits = [
            "".join(lines[:4] + [f"Анна, раунд {round_number}\n"] + lines[5:]),
            "".join(lines[:4] + [f"Ольга, раунд {round_number}\n"] + lines[5:]),
        ]
        barrier = threading.Barrier(2)
        results: list = [None, None]

        def save(i: int, body=None, base=base, edits=edits, barrier=barrier, results=results):
            barrier.wait()
            results[i] = requests.put(
                url, json={"body": edits[i], "base_revision": base}, headers=headers[i], timeout=30
            )

        threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 409], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200).json()
        loser = next(r for r in results if r.status_code == 409).json()
        assert winner["revision"] == base + 1 and not winner["merged"]
        assert loser["current_revision"] == base + 1 and "<<<<<<<" in loser["body_with_conflicts"]

    # Non-overlapping concurrent edits: both stored, one of them merged.
    current = requests.get(url, timeout=10).json()
    base, lines = current["revision"], current["body"].splitlines(keepends=True)
    edits = [
        "".join(["Начало от Анны\n"] + lines[1:]),
        "".join(lines[:-1] + ["Конец от Ольги\n"]),
    ]
    barrier = threading.Barrier(2)
    results = [None, None]

    def save_both(i: int):
        barrier.wait()
        results[i] = requests.put(
            url, json={"body": edits[i], "base_revision": base}, headers=headers[i], timeout=30
        )

    threads = [threading.Thread(target=save_both, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [200, 200]
    assert sorted(r.json()["merged"] for r in results) == [False, True]
    final = requests.get(url, timeout=10).json()
    assert final["revision"] == base + 2
    assert final["body"].startswith("Начало от Анны") and "Конец от Ольги" in final["body"]
    revisions = requests.get(url + "/revisions", timeout=10).json()["revisions"]
    assert [r["revision"] for r in revisions] == list(range(final["revision"], 0, -1))


def test_presence_with_two_socketio_clients(live_server):
    add_users(
        live_server, ("anna@example.org", "Анна Петрова"), ("olga@example.org", "Ольга Смирнова")
    )
    sessions = [login(live_server, e) for e in ("anna@example.org", "olga@example.org")]
    cookies = ["; ".join(f"{c.name}={c.value}" for c in session.cookies) for session in sessions]
    seen: list[dict] = []
    got = threading.Event()

    viewer = socketio.Client(reconnection=False)
    editor = socketio.Client(reconnection=False)
    guest = socketio.Client(reconnection=False)
    other = socketio.Client(reconnection=False)  # in another page's room all along
    sentinel = socketio.Client(reconnection=False)
    other_seen: list[dict] = []
    other.on("presence", other_seen.append, namespace="/pages")

    @viewer.on("presence", namespace="/pages")
    def on_presence(data):
        seen.append(data)
        got.set()

    def wait_for(predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(predicate(state) for state in seen):
                return True
            got.wait(0.2)
            got.clear()
        return False

    try:
        other.connect(live_server.url, namespaces=["/pages"], transports=["websocket"],
                      wait_timeout=10)  # fmt: skip
        other.call("join", {"slug": "Другая_страница"}, namespace="/pages", timeout=10)
        viewer.connect(live_server.url, headers={"Cookie": cookies[1]}, namespaces=["/pages"],
                       transports=["websocket"], wait_timeout=10)  # fmt: skip
        state = viewer.call("join", {"slug": "Общая_страница", "editing": False},
                            namespace="/pages", timeout=10)  # fmt: skip
        assert state["editors"] == [] and state["viewers"] == 1

        editor.connect(live_server.url, headers={"Cookie": cookies[0]}, namespaces=["/pages"],
                       transports=["websocket"], wait_timeout=10)  # fmt: skip
        editor.call("join", {"slug": "Общая_страница", "editing": True}, namespace="/pages",
                    timeout=10)  # fmt: skip
        assert wait_for(lambda s: [e["name"] for e in s["editors"]] == ["Анна Петрова"])
        names = [e for s in seen for e in s["editors"]]
        assert names[-1]["organization"] is None

        seen.clear()
        editor.call("editing", {"editing": False}, namespace="/pages", timeout=10)
        assert wait_for(lambda s: s["editors"] == [] and s["viewers"] == 2)
        editor.call("editing", {"editing": True}, namespace="/pages", timeout=10)
        assert wait_for(lambda s: len(s["editors"]) == 1)

        seen.clear()
        editor.disconnect()
        assert wait_for(lambda s: s["editors"] == [] and s["viewers"] == 1)

        # A guest (public read) may watch but cannot claim to be editing.
        guest.connect(live_server.url, namespaces=["/pages"], transports=["websocket"],
                      wait_timeout=10)  # fmt: skip
        state = guest.call("join", {"slug": "Общая_страница", "editing": True},
                           namespace="/pages", timeout=10)  # fmt: skip
        assert state["editors"] == [] and state["viewers"] == 2
        assert "error" in guest.call("join", {"slug": "../x"}, namespace="/pages", timeout=10)

        # Another page's room heard none of it: a sentinel joins that page, and by the time
        # its presence arrives there, nothing about Общая_страница had come before it.
        sentinel.connect(live_server.url, namespaces=["/pages"], transports=["websocket"],
                         wait_timeout=10)  # fmt: skip
        sentinel.call("join", {"slug": "Другая_страница"}, namespace="/pages", timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(s["viewers"] == 2 for s in other_seen):
            time.sleep(0.05)
        assert [s["viewers"] for s in other_seen] == [1, 2], other_seen  # its own, the sentinel
        assert all(s["slug"] == "Другая_страница" and s["editors"] == [] for s in other_seen)
    finally:
        for client in (viewer, editor, guest, other, sentinel):
            if client.connected:
                client.disconnect()
