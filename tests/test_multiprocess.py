"""Several `kb serve` processes on one database and one Redis message queue.

Each process has its own data dir (so its own search index): nothing but the database and
Redis is shared, as on several machines.
"""

import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import socketio

from tests.conftest import PASSWORD, LiveServer, need
from tests.services import RedisServer

pytestmark = pytest.mark.serial  # several servers and Redis: timed alone, not beside others

LIVE_TIMEOUT = 10  # seconds; a loaded 2-core CI machine, the normal case is well under one


@pytest.fixture
def redis_server():
    need(shutil.which("redis-server") is not None, "redis-server (Debian package) is missing")
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def two_servers(tmp_path, database_url, redis_server):
    shared_url = database_url or f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    env = {
        "KB_MESSAGE_QUEUE": redis_server.url,
        "KB_SECRET_KEY": "same-on-every-node",
        "KB_BOARD_POSTS_PER_MINUTE": "100",
    }
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(LiveServer(tmp_path / name, shared_url, env).start())
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def editor_token(two_servers) -> str:
    first = two_servers[0]
    result = first.run_cli(
        "user",
        "add",
        "editor@example.org",
        "--name",
        "Редактор",
        "--role",
        "editor",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    result = first.run_cli("token", "create", "editor@example.org")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def api(server: LiveServer, token: str, method: str, path: str, **kwargs):
    return requests.request(
        method,
        server.url + "/api/v1" + path,
        timeout=30,
        headers={"Authorization": f"Bearer {token}"},
        **kwargs,
    )


class Participant:
    def __init__(self, server: LiveServer, code: str, name: str):
        self.received: list[dict] = []
        self.arrived = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.online: list[int] = []
        self.client.on("post:created", self._on_post, namespace="/board")
        self.client.on("presence", self._on_presence, namespace="/board")
        self.client.connect(
            server.url, namespaces=["/board"], transports=["websocket"], wait_timeout=10
        )
        ack = self.client.call("join", {"code": code, "name": name}, namespace="/board", timeout=10)
        assert ack["ok"], ack
        self.joined_online = ack["online"]

    def _on_presence(self, data):
        with self.arrived:
            self.online.append(data["online"])
            self.arrived.notify_all()

    def wait_for_online(self, count: int) -> None:
        deadline = time.monotonic() + LIVE_TIMEOUT
        with self.arrived:
            while not self.online or self.online[-1] != count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"online never became {count}: {self.online}"
                self.arrived.wait(remaining)

    def _on_post(self, data):
        with self.arrived:
            self.received.append(data)
            self.arrived.notify_all()

    def post(self, text: str) -> dict:
        ack = self.client.call("post:create", {"text": text}, namespace="/board", timeout=10)
        assert ack["ok"], ack
        return ack

    def wait_for(self, text: str) -> dict:
        deadline = time.monotonic() + LIVE_TIMEOUT
        with self.arrived:
            while True:
                for event in self.received:
                    if event["post"]["text"] == text:
                        return event
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"{text!r} did not arrive; got {self.received}"
                self.arrived.wait(remaining)

    def close(self):
        self.client.disconnect()


def test_participants_on_different_processes_see_each_other(two_servers, editor_token):
    first, second = two_servers
    response = api(
        first, editor_token, "POST", "/boards", json={"title": "Семинар для двух серверов"}
    )
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    alice, boris = Participant(first, code, "Алиса"), Participant(second, code, "Борис")
    try:
        # Both processes count both participants (presence is shared through Redis).
        assert (alice.joined_online, boris.joined_online) == (1, 2)
        alice.wait_for_online(2)
        boris.wait_for_online(2)
        alice.post("Привет с первого сервера")
        boris.wait_for("Привет с первого сервера")
        boris.post("Ответ со второго сервера")
        alice.wait_for("Ответ со второго сервера")

        # A burst from both processes at once: seq stays gap-free and in commit order.
        with ThreadPoolExecutor(max_workers=2) as pool:
            acks = list(
                pool.map(lambda n: (alice if n % 2 else boris).post(f"Отзыв №{n}"), range(20))
            )
        seqs = sorted(ack["seq"] for ack in acks)
        assert seqs == list(range(seqs[0], seqs[0] + 20))
        for n in range(20):
            alice.wait_for(f"Отзыв №{n}")
            boris.wait_for(f"Отзыв №{n}")
        for participant in (alice, boris):
            seen = [event["seq"] for event in participant.received]
            assert len(seen) == len(set(seen)) == 22
        boris.close()
        alice.wait_for_online(1)
    finally:
        alice.close()
        boris.close()
    state = api(second, editor_token, "GET", f"/boards/{code}").json()
    assert len(state["posts"]) == 22


def test_page_saved_on_one_process_is_found_on_the_other(two_servers, editor_token):
    first, second = two_servers
    word = "кванторобот" + uuid.uuid4().hex[:6]
    response = api(
        first,
        editor_token,
        "PUT",
        "/pages/Межсерверная_страница",
        json={"body": f"Занятие про {word} в старшей группе.", "base_revision": None},
    )
    assert response.status_code == 201, response.text
    saved_at = time.monotonic()
    while True:
        found = api(second, editor_token, "GET", "/search", params={"q": word}).json()
        if found["total"]:
            break
        assert time.monotonic() - saved_at < LIVE_TIMEOUT, "not found on the other node"
        time.sleep(0.05)
    assert found["results"][0]["slug"] == "Межсерверная_страница"


def test_racing_saves_on_two_processes_never_both_win(two_servers, editor_token):
    first, second = two_servers
    slug = "Гонка_правок"
    response = api(
        first,
        editor_token,
        "PUT",
        f"/pages/{slug}",
        json={"body": "Первая строка\nВторая строка\n", "base_revision": None},
    )
    assert response.status_code == 201
    base = response.json()["revision"]

    def save(n: int):
        server = two_servers[n % 2]
        return api(
            server,
            editor_token,
            "PUT",
            f"/pages/{slug}",
            json={"body": f"Правка номер {n}\nВторая строка\n", "base_revision": base},
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(save, range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1, [r.text for r in responses]
    assert statuses.count(409) == 7
    revisions = api(second, editor_token, "GET", f"/pages/{slug}/revisions").json()
    assert len(revisions["revisions"]) == 2


def login_cookie(server: LiveServer, email: str) -> str:
    session = requests.Session()
    page = session.get(server.url + "/login", timeout=30).text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = session.post(
        server.url + "/login",
        timeout=30,
        allow_redirects=False,
        data={"email": email, "password": PASSWORD, "csrf_token": csrf},
    )
    assert response.status_code == 302
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def test_page_presence_is_shared_between_processes(two_servers, editor_token):
    first, second = two_servers
    api(
        first,
        editor_token,
        "PUT",
        "/pages/Общий_конспект",
        json={"body": "Текст", "base_revision": None},
    )
    updates: list[dict] = []
    changed = threading.Event()
    viewer = socketio.Client(reconnection=False)

    @viewer.on("presence", namespace="/pages")
    def on_presence(state):
        updates.append(state)
        changed.set()

    def wait_for(predicate) -> None:
        deadline = time.monotonic() + LIVE_TIMEOUT
        while not any(predicate(state) for state in updates):
            assert time.monotonic() < deadline, updates
            changed.wait(0.2)
            changed.clear()

    editor = socketio.Client(reconnection=False)
    try:
        viewer.connect(second.url, namespaces=["/pages"], transports=["websocket"], wait_timeout=10)
        viewer.call("join", {"slug": "Общий_конспект"}, namespace="/pages", timeout=10)
        editor.connect(
            first.url,
            namespaces=["/pages"],
            transports=["websocket"],
            wait_timeout=10,
            headers={"Cookie": login_cookie(first, "editor@example.org")},
        )
        state = editor.call(
            "join", {"slug": "Общий_конспект", "editing": True}, namespace="/pages", timeout=10
        )
        assert state["viewers"] == 2  # the viewer on the other process is counted
        wait_for(lambda s: [e["name"] for e in s["editors"]] == ["Редактор"])
        editor.disconnect()
        wait_for(lambda s: s["editors"] == [] and s["viewers"] == 1)
    finally:
        for client in (editor, viewer):
            if client.connected:
                client.disconnect()


def test_survey_live_counts_reach_organizers_on_another_process(two_servers, editor_token):
    """The organizer's results page is served by one process, the respondent by the other."""
    from tests.surveys.conftest import DEFINITION
    from tests.surveys.test_http import answers_for

    first, second = two_servers
    anonymous = {**DEFINITION, "anonymous": True}  # guests answer, as many as come
    created = api(first, editor_token, "POST", "/surveys", json=anonymous)
    assert created.status_code == 201, created.text
    survey_id = created.json()["id"]
    assert api(first, editor_token, "POST", f"/surveys/{survey_id}/waves", json={}).ok
    counts: list[dict] = []
    arrived = threading.Event()
    organizer = socketio.Client(reconnection=False)

    @organizer.on("response", namespace="/surveys")
    def on_response(data):
        counts.append(data)
        arrived.set()

    try:
        organizer.connect(
            second.url,
            namespaces=["/surveys"],
            transports=["websocket"],
            wait_timeout=10,
            headers={"Cookie": login_cookie(second, "editor@example.org")},
        )
        ack = organizer.call("watch", {"survey_id": survey_id}, namespace="/surveys", timeout=10)
        assert ack == {"ok": True, "total": 0}
        for n in range(1, 3):
            body = {
                "answers": answers_for(created.json()),
                "idempotency_key": uuid.uuid4().hex,
                "code": created.json()["code"],  # the survey link's code, as a phone has it
                "device_id": uuid.uuid4().hex,  # two phones
            }
            sent = requests.post(
                f"{first.url}/api/v1/surveys/{survey_id}/responses", json=body, timeout=30
            )
            assert sent.status_code in (200, 201), sent.text
            deadline = time.monotonic() + LIVE_TIMEOUT
            while not any(c["total"] == n for c in counts):
                assert time.monotonic() < deadline, f"count {n} never arrived: {counts}"
                arrived.wait(0.2)
                arrived.clear()
        assert counts[-1] == {"survey_id": survey_id, "wave": 1, "wave_count": 2, "total": 2}
    finally:
        if organizer.connected:
            organizer.disconnect()
