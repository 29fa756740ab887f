"""A reconnect storm: hundreds of clients drop at once while the board keeps changing, then
all rejoin with `since` at the same moment; each ends with exactly the server's state."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import socketio

from tests.conftest import LiveServer
from tests.faults.conftest import add_editor

pytestmark = [pytest.mark.server, pytest.mark.serial]
NS = "/board"
CLIENTS = 200


class Viewer:
    """A board client keeping posts by id (newest `seq` wins) and the highest `seq` seen."""

    def __init__(self, url: str, code: str):
        self.url, self.code = url, code
        self.client = socketio.AsyncClient(reconnection=False)
        self.posts: dict[int, dict] = {}
        self.seq = 0
        self.replayed: list[int] = []
        self.client.on("post:created", self._live, namespace=NS)
        self.client.on("post:updated", self._live, namespace=NS)
        self.client.on("post:deleted", self._deleted, namespace=NS)

    def _apply(self, post: dict) -> None:
        known = self.posts.get(post["id"])
        if known is None or known["seq"] <= post["seq"]:
            self.posts[post["id"]] = post

    async def _live(self, data):
        self._apply(data["post"])
        self.seq = max(self.seq, data["seq"])

    async def _deleted(self, data):
        self.posts.pop(data["post_id"], None)
        self.seq = max(self.seq, data["seq"])

    async def join(self, since: int | None = None) -> None:
        await self.client.connect(self.url, namespaces=[NS], transports=["websocket"])
        payload = {"code": self.code, "name": "Зритель"}
        if since is not None:
            payload["since"] = since
        ack = await self.client.call("join", payload, namespace=NS, timeout=60)
        assert ack["ok"], ack
        if "events" in ack:
            seqs = [event["seq"] for event in ack["events"]]
            assert seqs == sorted(set(seqs)), "the replay repeats or reorders events"
            self.replayed = seqs
            for event in ack["events"]:
                if event["name"] in ("post:created", "post:updated"):
                    self._apply(event["data"]["post"])
                elif event["name"] == "post:deleted":
                    self.posts.pop(event["data"]["post_id"], None)
        else:
            self.posts = {}
            for post in ack["posts"]:
                self._apply(post)
        self.seq = max(self.seq, ack["seq"])

    async def drop(self) -> None:
        await self.client.disconnect()


def _changes(server, headers, code, count: int, tag: str) -> None:
    for n in range(count):
        answer = requests.post(
            f"{server.url}/api/v1/boards/{code}/posts",
            json={"text": f"{tag} {n}"},
            headers=headers,
            timeout=10,
        )
        assert answer.status_code == 201, answer.text


async def _storm(server, headers, code) -> list[Viewer]:
    viewers = [Viewer(server.url, code) for _ in range(CLIENTS)]
    for start in range(0, CLIENTS, 50):
        await asyncio.gather(*(v.join() for v in viewers[start : start + 50]))
    await asyncio.to_thread(_changes, server, headers, code, 10, "пока все здесь")
    await _everyone_has(viewers, "пока все здесь 9")
    await asyncio.gather(*(v.drop() for v in viewers))
    await asyncio.to_thread(_changes, server, headers, code, 30, "пока никого нет")
    # everybody at once, each with the highest seq it has
    for viewer in viewers:
        viewer.client = _fresh(viewer)
    await asyncio.gather(*(v.join(since=v.seq) for v in viewers))
    await asyncio.to_thread(_changes, server, headers, code, 5, "после возвращения")
    await _everyone_has(viewers, "после возвращения 4")
    await asyncio.gather(*(v.drop() for v in viewers))
    return viewers


async def _everyone_has(viewers: list[Viewer], text: str, timeout: float = 60.0) -> None:
    """Wait (generously: 2 cores, hundreds of clients) until every viewer holds the post;
    the exact-state checks come after, on what each viewer then has."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(any(p["text"] == text for p in v.posts.values()) for v in viewers):
            return
        await asyncio.sleep(0.1)
    missing = sum(not any(p["text"] == text for p in v.posts.values()) for v in viewers)
    raise AssertionError(f"{missing} of {len(viewers)} viewers never got «{text}»")


def _fresh(viewer: Viewer) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    client.on("post:created", viewer._live, namespace=NS)
    client.on("post:updated", viewer._live, namespace=NS)
    client.on("post:deleted", viewer._deleted, namespace=NS)
    return client


def test_reconnect_storm(tmp_path, database_url):
    # 200 guests from one address (localhost): lift the per-address join limits of issue 14
    many = {"KB_BOARD_JOINS_PER_MINUTE": "100000", "KB_BOARD_JOINS_PER_HOUR": "100000"}
    server = LiveServer(tmp_path / "live", database_url, many).start()
    try:
        headers = {"Authorization": f"Bearer {add_editor(server)}"}
        code = requests.post(
            server.url + "/api/v1/boards", json={"title": "Шторм"}, headers=headers, timeout=10
        ).json()["code"]
        # A thread of its own: the browser tests' Playwright keeps an event loop running in
        # this one for the whole session, and asyncio.run refuses to nest.
        with ThreadPoolExecutor(max_workers=1) as pool:
            viewers = pool.submit(asyncio.run, _storm(server, headers, code)).result()
        state = requests.get(f"{server.url}/api/v1/boards/{code}", timeout=10).json()
        truth = {post["id"]: (post["text"], post["seq"]) for post in state["posts"]}
        assert len(truth) == 45
        for viewer in viewers:
            mine = {pid: (post["text"], post["seq"]) for pid, post in viewer.posts.items()}
            assert mine == truth
            assert viewer.replayed, "the rejoin did not replay the missed changes"
    finally:
        server.stop()
