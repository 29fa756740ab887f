"""kill -9 of `kb serve` in the middle of a burst of page saves (API, Bearer) and board posts
(Socket.IO): after a restart every acknowledged save and post is there exactly once, and the
search index catches up."""

import os
import signal
import threading
import time

import pytest
import requests
import socketio

from tests.conftest import LiveServer
from tests.faults.conftest import add_editor, workers

pytestmark = [pytest.mark.server, pytest.mark.serial]
NS = "/board"


def test_kill_9_during_saves_and_posts(tmp_path, database_url):
    server = LiveServer(
        tmp_path / "live", database_url, {"KB_BOARD_POSTS_PER_MINUTE": "100000"}
    ).start()
    try:
        _burst_and_kill(server)
    finally:
        server.stop()


def _burst_and_kill(server: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {add_editor(server)}"}
    code = requests.post(
        server.url + "/api/v1/boards", json={"title": "Доска"}, headers=headers, timeout=10
    ).json()["code"]
    saved: dict[str, str] = {}  # acknowledged page saves: slug → body
    posted: list[str] = []  # acknowledged post texts
    lock = threading.Lock()
    stop = threading.Event()

    def save_pages(worker: int) -> None:
        n = 0
        while not stop.is_set():
            slug, body = f"Авария_{worker}_{n}", f"маяк{worker}x{n} текст страницы"
            try:
                answer = requests.put(
                    f"{server.url}/api/v1/pages/{slug}",
                    json={"title": slug.replace("_", " "), "body": body, "base_revision": None},
                    headers=headers,
                    timeout=5,
                )
            except Exception:  # noqa: BLE001 - the server was killed under us
                return
            if answer.status_code in (200, 201):
                with lock:
                    saved[slug] = body
            n += 1

    def post_cards(worker: int) -> None:
        client = socketio.Client(reconnection=False)
        try:
            client.connect(server.url, namespaces=[NS], transports=["websocket"], wait_timeout=5)
            joined = client.call("join", {"code": code, "name": f"Гость {worker}"}, namespace=NS)
            if not joined.get("ok"):
                return
            n = 0
            while not stop.is_set():
                text = f"пост {worker}-{n}"
                ack = client.call("post:create", {"text": text}, namespace=NS, timeout=5)
                if ack.get("ok"):
                    with lock:
                        posted.append(text)
                n += 1
        except Exception:  # noqa: BLE001 - the server was killed under us
            return
        finally:
            try:
                client.disconnect()
            except Exception:  # noqa: BLE001 - the server is gone
                pass

    threads = [threading.Thread(target=save_pages, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=post_cards, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until the burst is well under way
        with lock:
            if len(saved) >= 20 and len(posted) >= 40:
                break
        time.sleep(0.05)
    pids = [server.process.pid, *workers(server)]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    server.process.wait()
    stop.set()
    for thread in threads:
        thread.join(timeout=20)
    with lock:
        acknowledged_pages, acknowledged_posts = dict(saved), list(posted)
    assert len(acknowledged_pages) >= 20 and len(acknowledged_posts) >= 40

    server.start()
    for slug, body in acknowledged_pages.items():
        page = requests.get(f"{server.url}/api/v1/pages/{slug}", headers=headers, timeout=10)
        assert page.status_code == 200, slug
        assert page.json()["body"] == body
    listing = requests.get(server.url + "/api/v1/pages", headers=headers, timeout=10).json()
    slugs = [p["slug"] for p in listing["pages"]]
    # every page that made it, acknowledged or not, is whole: its one revision is there and
    # holds the text the page shows (a page row never survives without its revision)
    for slug in (s for s in slugs if s.startswith("Авария_")):
        page = requests.get(f"{server.url}/api/v1/pages/{slug}", headers=headers, timeout=10)
        revisions = requests.get(
            f"{server.url}/api/v1/pages/{slug}/revisions", headers=headers, timeout=10
        ).json()["revisions"]
        assert [r["revision"] for r in revisions] == [1], slug
        assert page.json()["revision"] == 1 and page.json()["body"].startswith("маяк"), slug
    state = requests.get(f"{server.url}/api/v1/boards/{code}", headers=headers, timeout=10).json()
    texts = [post["text"] for post in state["posts"]]
    assert len(texts) == len(set(texts)), "a post was stored twice"
    assert set(acknowledged_posts) <= set(texts), "an acknowledged post was lost"
    # the index catches up with everything that was committed, acknowledged or not
    burst = len([s for s in slugs if s.startswith("Авария_")])
    deadline = time.monotonic() + 60
    while True:
        found = requests.get(
            server.url + "/api/v1/search",
            params={"q": "текст страницы", "per_page": 1},
            headers=headers,
            timeout=10,
        ).json()["total"]
        if found == burst or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert found == burst
    health = requests.get(server.url + "/healthz", timeout=10).json()
    assert health["index"] == "ok"
