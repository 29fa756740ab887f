"""Production serving: fingerprinted static files, compression, SQL per page view, gunicorn."""

import gzip
import hashlib
import io
import os
import re

import brotli
import pytest
import requests

from kb import create_app
from kb.accounts import service as accounts
from kb.assets import IMMUTABLE, StaticFingerprints
from kb.database import db
from kb.pages import attachments as files
from kb.pages import cache as page_cache
from kb.pages import service as wiki
from kb.serve import add_bench_endpoint, server_options
from tests.conftest import LiveServer

STATIC_URL = re.compile(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]{12})"')


def static_urls(html: str) -> dict[str, str]:
    return dict(STATIC_URL.findall(html))


def fetch(client, path: str, **headers):
    """GET a file response and close it (send_file keeps the file open until then)."""
    response = client.get(path, headers=headers)
    response.get_data()
    response.close()
    return response


# ---------------------------------------------------------------- static files


def test_templates_link_fingerprinted_static_files(client):
    urls = static_urls(client.get("/").get_data(as_text=True))
    assert "/static/css/kb.css" in urls
    response = fetch(client, "/static/css/kb.css")
    assert urls["/static/css/kb.css"] == hashlib.sha256(response.get_data()).hexdigest()[:12]


def test_fingerprinted_request_is_cached_for_a_year(client, auth, users):
    urls = static_urls(client.get("/").get_data(as_text=True))
    for path, version in urls.items():
        response = fetch(client, f"{path}?v={version}")
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == IMMUTABLE
    # Signed in, pages are private and never stored; fingerprinted files still are.
    auth.login(users["editor"])
    assert client.get("/").headers["Cache-Control"] == "private, no-store"
    response = fetch(client, f"/static/css/kb.css?v={urls['/static/css/kb.css']}")
    assert response.headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize("query", ["", "?v=000000000000", "?v=old"])
def test_unversioned_or_stale_request_is_revalidated(client, query):
    response = fetch(client, f"/static/css/kb.css{query}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert "immutable" not in response.headers["Cache-Control"]


def test_fingerprint_changes_with_content(tmp_path):
    (tmp_path / "css").mkdir()
    sheet = tmp_path / "css" / "a.css"
    sheet.write_text("body { color: red }")
    watched = StaticFingerprints(tmp_path, watch=True)
    first = watched("css/a.css")
    assert first and len(first) == 12
    sheet.write_text("body { color: blue }")
    os.utime(sheet, (1, 1))
    assert watched("css/a.css") not in (None, first)
    assert watched("missing.css") is None
    assert watched("../outside.css") is None


# ---------------------------------------------------------------- compression


def test_html_is_compressed_for_clients_that_accept_it(client):
    plain = client.get("/").get_data()
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert gzip.decompress(response.get_data()) == plain
    assert len(response.get_data()) < len(plain)
    assert "Content-Encoding" not in client.get("/").headers


@pytest.mark.parametrize("path", ["/static/css/kb.css", "/static/js/kb.js"])
def test_css_and_js_are_compressed(client, path):
    plain = fetch(client, path).get_data()
    response = fetch(client, path, **{"Accept-Encoding": "br"})
    assert response.headers["Content-Encoding"] == "br"
    assert brotli.decompress(response.get_data()) == plain


def test_json_api_is_compressed(client, users):
    response = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"


# ---------------------------------------------------------------- SQL per page view


def build_page(app, users, *, links: int, attachments: int, versions: int, tags: int) -> str:
    """A page with a given number of wikilinks/backlinks, files, versions and tags."""
    with app.app_context():
        editor = accounts.get_user(users["editor"])
        admin = accounts.get_user(users["admin"])
        body = "Текст страницы. " + " ".join(f"[[Страница {i}]]" for i in range(links))
        result = wiki.put_page(
            "Робототехника",
            title="Робототехника",
            body=body + " [[Нет такой страницы]]",
            author=editor,
            tags=[f"тег-{i}" for i in range(tags)],
            base_revision=None,
        )
        wiki.put_page(result.slug, title=None, body=body + " Правка.", author=admin,
                      base_revision=1)  # fmt: skip
        for i in range(links):
            wiki.put_page(f"Страница_{i}", title=f"Страница {i}", author=editor,
                          body="Ссылка на [[Робототехника]]", base_revision=None)  # fmt: skip
        page = wiki.find_page(result.slug)
        for i in range(attachments):
            for v in range(versions):
                files.add_attachment(page, f"файл {i}.txt", io.BytesIO(f"{i} {v}".encode()),
                                     editor if v % 2 else admin)  # fmt: skip
        db.session.commit()
        return result.slug


@pytest.mark.parametrize("who", [None, "reader", "admin"])
def test_page_view_runs_a_fixed_small_number_of_queries(app, client, auth, users, who,
                                                        count_statements, monkeypatch):  # fmt: skip
    """No N+1: the count does not grow with links, backlinks, tags, files and versions."""
    monkeypatch.setattr(page_cache, "VERSION_TTL", 0.0)  # a guest's view asks the log each time
    small = build_page(app, users, links=1, attachments=1, versions=1, tags=1)
    big = build_page_big(app, users)
    if who:
        auth.login(users[who])
    count_statements.clear()
    assert client.get(f"/wiki/{small}").status_code == 200
    few = len(count_statements)
    count_statements.clear()
    assert client.get(f"/wiki/{big}").status_code == 200
    many = len(count_statements)
    assert many == few, count_statements
    # BEGIN; the page with its space and last author; its tags; which linked pages exist
    # today; files; their versions with uploaders; backlinks; the first revision with its
    # author — plus, signed in, the user and the consulting centre's unread count; for a
    # guest, the change log's last id that keeps the rendered view (kb/pages/cache.py).
    assert few <= (10 if who else 9), "\n".join(count_statements)
    count_statements.clear()
    assert client.get(f"/wiki/{big}").status_code == 200
    again = len(count_statements)
    # Signed in: rendered again; a guest: from the cache (BEGIN on SQLite and the log's last
    # id, or nothing at all within VERSION_TTL of the last look).
    assert again == many if who else again <= 2, "\n".join(count_statements)


def build_page_big(app, users) -> str:
    with app.app_context():
        editor = accounts.get_user(users["editor"])
        admin = accounts.get_user(users["admin"])
        body = "Большая страница. " + " ".join(f"[[Большая {i}]]" for i in range(6))
        result = wiki.put_page("Большая", title="Большая", body=body + " [[Нет такой]]",
                               author=editor, tags=[f"метка-{i}" for i in range(5)],
                               base_revision=None)  # fmt: skip
        wiki.put_page(result.slug, title=None, body=body + " Правка.", author=admin,
                      base_revision=1)  # fmt: skip
        for i in range(6):
            wiki.put_page(f"Большая_{i}", title=f"Большая {i}", author=editor,
                          body="Ссылка на [[Большая]]", base_revision=None)  # fmt: skip
        page = wiki.find_page(result.slug)
        for i in range(4):
            for v in range(3):
                files.add_attachment(page, f"документ {i}.txt",
                                     io.BytesIO(f"{i} {v}".encode()),
                                     editor if v % 2 else admin)  # fmt: skip
        db.session.commit()
        return result.slug


# ---------------------------------------------------------------- gunicorn


def test_server_options_use_gevent_and_configured_connections():
    options = server_options("127.0.0.1", 5000, 2, 4000)
    assert options["worker_class"] == "gevent"
    assert options["workers"] == 2
    assert options["worker_connections"] == 4000
    assert options["backlog"] >= 4000
    assert options["control_socket_disable"] is True


def test_bench_endpoint_exists_only_when_added(app, client, app_config):
    assert client.get("/bench/ping").status_code == 404
    bench = create_app(app_config)
    add_bench_endpoint(bench)
    assert bench.test_client().get("/bench/ping").get_data(as_text=True) == "pong"
    with bench.app_context():
        db.engine.dispose()


@pytest.mark.server
def test_kb_serve_compresses_caches_and_answers_websockets(tmp_path, database_url):
    import socketio

    server = LiveServer(tmp_path / "live", database_url, {"KB_BENCH": "1"}).start()
    try:
        assert requests.get(server.url + "/bench/ping", timeout=5).text == "pong"
        response = requests.get(server.url + "/", headers={"Accept-Encoding": "gzip"}, timeout=5)
        assert response.headers["Content-Encoding"] == "gzip"
        path, version = next(iter(static_urls(response.text).items()))
        cached = requests.get(f"{server.url}{path}?v={version}", timeout=5)
        assert cached.headers["Cache-Control"] == IMMUTABLE
        client = socketio.Client(reconnection=False)
        client.connect(server.url, namespaces=["/board"], transports=["websocket"], wait_timeout=10)
        assert client.transport() == "websocket"
        client.disconnect()
    finally:
        server.stop()
