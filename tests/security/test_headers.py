"""Security headers on every HTML route, cookie flags, CSRF everywhere, Socket.IO origins."""

import pytest
import requests
import socketio
import websocket

from kb import create_app
from kb.database import db, upgrade_database
from tests.conftest import PASSWORD, csrf_token
from tests.security.matrix import routes, url_for_rule
from tests.security.test_authz import EXPECTED, Worlds


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def check_headers(response, where: str) -> None:
    csp = response.headers.get("Content-Security-Policy")
    assert csp, f"{where}: no CSP"
    directives = csp_directives(csp)
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts is not None, where
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, where
    assert "data:" not in scripts and "*" not in scripts, where
    if directives.get("default-src") == ["'none'"]:  # downloads: nothing at all may run
        assert "sandbox" in directives, where
    else:
        assert directives.get("object-src") == ["'none'"], where
        assert directives.get("frame-ancestors") in (["'none'"], ["'self'"]), where
        assert "base-uri" in directives, where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") in ("same-origin", "no-referrer"), where


def test_every_html_route_sends_the_security_headers(module_app, role_clients):
    world = Worlds(module_app).get()
    seen_html = 0
    for key, policy in sorted(EXPECTED.items()):
        method, rule = key.split(" ", 1)
        if method != "GET":
            continue
        role = "owner" if policy in ("owner", "author+methodists") else "admin"
        response = role_clients[role].open("GET", url_for_rule(rule, world))
        response.close()
        if response.mimetype == "text/html":
            seen_html += 1
        check_headers(response, key)
    assert seen_html > 40
    # error pages and JSON errors too
    for path in ("/no-such-page", "/api/v1/no-such", "/wiki/" + "нет" * 3):
        check_headers(role_clients["guest"].open("GET", path), path)


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_flags(tmp_path, database_url, secure):
    config = {"TESTING": True, "KB_DATA_DIR": tmp_path / "d", "KB_ASYNC_MODE": "threading"}
    config["KB_SECURE_COOKIES"] = secure
    if database_url:
        config["SQLALCHEMY_DATABASE_URI"] = database_url
    app = create_app(config)
    from kb.accounts import service as accounts

    with app.app_context():
        upgrade_database()
        accounts.create_user("a@example.org", "А", "admin", PASSWORD)
    client = app.test_client()
    answer = client.post(
        "/login",
        data={
            "email": "a@example.org",
            "password": PASSWORD,
            "csrf_token": csrf_token(client),
            "remember": "1",
        },
    )
    assert answer.status_code == 302
    cookies = [c for c in answer.headers.getlist("Set-Cookie")]
    names = {c.split("=", 1)[0]: c.lower() for c in cookies}
    for name in ("session", "remember_token"):
        flags = names[name]
        assert "httponly" in flags and "samesite=lax" in flags, flags
        assert ("; secure" in flags) is secure, flags
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _without_csrf(client, method: str, path: str, api: bool, **headers):
    kwargs = {"json": {}} if api else {"data": {}}
    return client.open(path, method=method, headers=headers, **kwargs)


def test_every_state_changing_route_needs_the_csrf_token(module_app, role_clients):
    """Session-cookie requests without the token are refused before anything happens."""
    world = Worlds(module_app).get()
    checked = 0
    for key in routes(module_app):
        method, rule = key.split(" ", 1)
        if method == "GET":
            continue
        for role in ("admin", "guest"):
            path = url_for_rule(rule, world)
            answer = _without_csrf(
                role_clients[role].client, method, path, rule.startswith("/api/")
            )
            assert answer.status_code == 400, (key, role, answer.status_code)
            assert "CSRF" in answer.get_data(as_text=True), (key, role)
            checked += 1
    assert checked > 150


def test_bearer_tokens_need_no_csrf_token(module_app, role_clients):
    from kb.accounts import service as accounts

    world = Worlds(module_app).get()
    with module_app.app_context():
        token = accounts.create_token(accounts.get_user("admin@example.org"), "csrf test")
        db.session.remove()
    client = module_app.test_client()  # no cookie at all
    for key in routes(module_app):
        method, rule = key.split(" ", 1)
        if method == "GET" or not rule.startswith("/api/"):
            continue
        answer = _without_csrf(
            client, method, url_for_rule(rule, world), True, Authorization=f"Bearer {token}"
        )
        assert "CSRF" not in answer.get_data(as_text=True), key
        assert answer.status_code not in (401, 403), key
        world = Worlds(module_app).get() if answer.status_code < 300 else world


@pytest.mark.server
def test_socketio_refuses_foreign_origins(live_server):
    """A page on another site cannot open the board's socket with the visitor's cookies."""
    host = live_server.url.split("//", 1)[1]
    for origin in ("http://evil.example", "null", f"http://{host}.evil.example"):
        polling = requests.get(
            live_server.url + "/socket.io/?EIO=4&transport=polling",
            headers={"Origin": origin},
            timeout=5,
        )
        assert polling.status_code == 400, origin
        with pytest.raises(websocket.WebSocketBadStatusException):
            websocket.create_connection(
                f"ws://{host}/socket.io/?EIO=4&transport=websocket", origin=origin, timeout=5
            )
    # the same origin (what the browser sends from our own pages) is let in
    same = requests.get(
        live_server.url + "/socket.io/?EIO=4&transport=polling",
        headers={"Origin": live_server.url},
        timeout=5,
    )
    assert same.status_code == 200
    for transport in ("websocket", "polling"):
        own = socketio.Client(reconnection=False)
        own.connect(live_server.url, namespaces=["/board"], transports=[transport], wait_timeout=5)
        assert own.connected
        own.disconnect()


def test_405_names_the_allowed_methods(client):
    """Found by schemathesis: our error handler dropped werkzeug's Allow header."""
    answer = client.open("/api/v1/search", method="TRACE")
    assert answer.status_code == 405
    assert set(answer.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


def test_huge_ids_are_not_found_not_server_errors(client, users, auth):
    """Found by schemathesis: ids past 64 bits overflowed the database driver (500)."""
    auth.login(users["admin"])
    for path in (
        "/api/v1/surveys/27451355043950010368",
        "/api/v1/surveys/2147483648/results",
        "/api/v1/consult/questions/99999999999999999999999",
        "/surveys/27451355043950010368/results",
        "/seminars/99999999999999999999",
        "/files/99999999999999999999/x.txt",
    ):
        assert client.get(path).status_code == 404, path
    token = auth.csrf()
    answer = client.post(
        "/api/v1/surveys/27451355043950010368/waves",
        json={"title": "x"},
        headers={"X-CSRFToken": token},
    )
    assert answer.status_code == 404
