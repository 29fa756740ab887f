"""`kb serve` is a real production server: gunicorn + gevent, HTTP and Socket.IO WebSockets."""

import requests
import socketio

from tests.conftest import PASSWORD


def test_serve_answers_http_with_demo_content(live_server):
    result = live_server.run_cli("demo")
    assert result.returncode == 0, result.stderr
    home = requests.get(live_server.url + "/", timeout=10)
    assert home.status_code == 200
    assert home.headers["Server"].startswith("gunicorn")
    assert "Растим инженеров" in home.text
    health = requests.get(live_server.url + "/healthz", timeout=10).json()
    assert health["status"] == "ok" and health["db"] == "ok"


def test_serve_accepts_socketio_websockets(live_server):
    client = socketio.Client(reconnection=False)
    client.connect(live_server.url, transports=["websocket"], wait_timeout=10)
    try:
        assert client.transport() == "websocket"
    finally:
        client.disconnect()


def test_login_through_the_real_server(live_server):
    result = live_server.run_cli(
        "user",
        "add",
        "t@example.org",
        "--name",
        "Т",
        "--role",
        "editor",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    session = requests.Session()
    page = session.get(live_server.url + "/login", timeout=10).text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = session.post(
        live_server.url + "/login",
        timeout=10,
        allow_redirects=False,
        data={"email": "t@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert "Выйти" in session.get(live_server.url + "/", timeout=10).text
