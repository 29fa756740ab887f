"""Redis restarts during a seminar served by two `kb serve` processes sharing one database:
no acknowledged post is lost, and clients that rejoin with `since` catch up by `seq`."""

import threading
import time

import pytest
import requests
import socketio

from tests.conftest import LiveServer
from tests.faults.conftest import add_editor
from tests.services import RedisServer

pytestmark = [pytest.mark.server, pytest.mark.serial]
NS = "/board"


class Watcher:
    def __init__(self, url: str, code: str):
        self.url, self.code = url, code
        self.posts: dict[int, str] = {}
        self.seq = 0
        self.lock = threading.Lock()
        self.resynced = threading.Event()

    def _live(self, data):
        with self.lock:
            self.posts[data["post"]["id"]] = data["post"]["text"]
            self.seq = max(self.seq, data["seq"])

    def _resync(self, _data=None):
        """What the browser client does on `board:resync`: reload the whole state (events
        of its own process kept arriving during the outage, so its seq may be past the
        lost ones)."""

        def rejoin():
            ack = self.client.call(
                "join", {"code": self.code, "name": "Зритель"}, namespace=NS, timeout=20
            )
            self._merge(ack)
            self.resynced.set()

        threading.Thread(target=rejoin, daemon=True).start()

    def _merge(self, ack: dict) -> None:
        assert ack["ok"], ack
        with self.lock:
            if "events" in ack:
                for event in ack["events"]:
                    if event["name"] == "post:created":
                        self.posts[event["data"]["post"]["id"]] = event["data"]["post"]["text"]
            else:  # a full state; live events that raced past it are kept too
                self.posts.update({p["id"]: p["text"] for p in ack["posts"]})
            self.seq = max(self.seq, ack["seq"])

    def connect(self, since: int | None = None) -> None:
        self.client = socketio.Client(reconnection=False)
        self.client.on("post:created", self._live, namespace=NS)
        self.client.on("board:resync", self._resync, namespace=NS)
        self.client.connect(self.url, namespaces=[NS], transports=["websocket"], wait_timeout=10)
        payload = {"code": self.code, "name": "Зритель"}
        if since is not None:
            payload["since"] = since
        self._merge(self.client.call("join", payload, namespace=NS, timeout=20))

    def close(self) -> None:
        self.client.disconnect()


def _post(server, headers, code, text) -> bool:
    try:
        answer = requests.post(
            f"{server.url}/api/v1/boards/{code}/posts",
            json={"text": text},
            headers=headers,
            timeout=15,
        )
    except requests.RequestException:
        return False
    return answer.status_code == 201


def test_redis_restart_during_a_two_process_seminar(tmp_path, database_url):
    redis = RedisServer().start()
    env = {"KB_MESSAGE_QUEUE": redis.url}
    first = LiveServer(tmp_path / "shared", database_url, env).start()
    second = LiveServer(tmp_path / "shared", database_url, env)
    second.log_path = tmp_path / "second.log"
    second.start()
    watchers: list[Watcher] = []
    try:
        headers = {"Authorization": f"Bearer {add_editor(first)}"}
        code = requests.post(
            first.url + "/api/v1/boards", json={"title": "Два процесса"}, headers=headers,
            timeout=10,
        ).json()["code"]  # fmt: skip
        watchers = [Watcher(first.url, code), Watcher(second.url, code)]
        for watcher in watchers:
            watcher.connect()
        acknowledged = []
        for n in range(5):  # across processes through Redis
            text = f"до {n}"
            assert _post(first, headers, code, text)
            acknowledged.append(text)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(watchers[1].posts) < 5:
            time.sleep(0.1)
        assert sorted(watchers[1].posts.values()) == sorted(acknowledged)

        seq_before_outage = watchers[1].seq
        port = redis.port
        redis.stop()
        during = []
        for n in range(5):  # Redis is down: posts are still taken and stored
            text = f"без redis {n}"
            assert _post(second if n % 2 else first, headers, code, text), text
            during.append(text)
        acknowledged.extend(during)
        restarted = RedisServer()
        restarted.port = port
        redis = restarted.start()
        time.sleep(1)
        for n in range(5):
            text = f"после {n}"
            assert _post(second, headers, code, text)
            acknowledged.append(text)
        # each process, subscribed again, orders its clients to resync with `since`
        for watcher in watchers:
            assert watcher.resynced.wait(60), f"no resync order from {watcher.url}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
            set(acknowledged) <= set(w.posts.values()) for w in watchers
        ):
            time.sleep(0.1)
        for watcher in watchers:
            assert set(acknowledged) <= set(watcher.posts.values()), watcher.url
        # a browser that rejoins with `since` gets by replay exactly what came after it:
        # an empty client that last saw the board before the outage
        for watcher in watchers:
            watcher.close()
        for url in (first.url, second.url):
            late = Watcher(url, code)
            late.connect(since=seq_before_outage)
            try:
                assert sorted(late.posts.values()) == sorted(acknowledged[5:]), url
            finally:
                late.close()
        state = requests.get(f"{second.url}/api/v1/boards/{code}", timeout=10).json()
        texts = [post["text"] for post in state["posts"]]
        assert set(acknowledged) <= set(texts) and len(texts) == len(set(texts))
        for server in (first, second):
            health = requests.get(server.url + "/healthz", timeout=10).json()
            assert health["message_queue"] == "ok"
    finally:
        for watcher in watchers:
            try:
                watcher.close()
            except Exception:  # noqa: BLE001 - already closed
                pass
        second.stop()
        first.stop()
        redis.stop()
