"""App factory, configuration, database tuning, health, headers, languages, error pages."""

import threading

import pytest
import sqlalchemy as sa

from kb import create_app
from kb.database import db, upgrade_database
from tests.conftest import TEST_DATABASE


def test_home_page_is_russian(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="ru">' in page
    assert "Главная" in page and "Поиск" in page


def test_english_can_be_switched_on(client):
    page = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Home" in page and "Sign in" in page
    # The choice is remembered in a cookie.
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "ok" and data["db"] == "ok"


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_no_inline_scripts_on_pages(client, auth, users):
    auth.login(users["admin"])
    for path in ("/", "/login", "/account", "/admin/users", "/admin/organizations"):
        page = client.get(path).get_data(as_text=True)
        for chunk in page.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), f"inline script on {path}"


def test_error_pages_are_russian(client):
    response = client.get("/no-such-place")
    assert response.status_code == 404
    assert "Страница не найдена" in response.get_data(as_text=True)


def test_api_errors_are_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Страница не найдена."}


def test_session_cookie_flags(client, auth, users):
    response = auth.login(users["editor"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("KB_SECRET_KEY", raising=False)
    first = create_app({"KB_DATA_DIR": tmp_path, "KB_ASYNC_MODE": "threading"})
    second = create_app({"KB_DATA_DIR": tmp_path, "KB_ASYNC_MODE": "threading"})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_configuration(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("KB_PUBLIC_READ", "off")
    monkeypatch.setenv("KB_SECRET_KEY", "s3cret")
    monkeypatch.setenv("KB_PORT", "5123")
    app = create_app({"KB_ASYNC_MODE": "threading"})
    assert app.config["KB_PUBLIC_READ"] is False
    assert app.config["SECRET_KEY"] == "s3cret"
    assert app.config["KB_PORT"] == 5123
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("/d/kb.sqlite3")
    for sub in ("index", "uploads"):
        assert (tmp_path / "d" / sub).is_dir()


@pytest.mark.skipif(TEST_DATABASE != "sqlite", reason="SQLite pragmas; PostgreSQL run")
def test_sqlite_is_tuned_for_concurrency(app):
    with app.app_context():
        connection = db.session.connection()
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
        # durability: an acknowledged save survives a power loss (2 = FULL, 1 = NORMAL)
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2


def test_init_is_idempotent(app):
    with app.app_context():
        upgrade_database()
        upgrade_database()
        tables = sa.inspect(db.engine).get_table_names()
    assert {"users", "organizations", "api_tokens", "pages", "revisions"} <= set(tables)


def test_concurrent_writers_never_see_database_is_locked(app, users):
    """Many threads writing at once wait for each other instead of failing."""
    from kb.accounts import service as accounts
    from kb.database import mark_write_transaction

    errors = []

    def write(n: int) -> None:
        with app.app_context():
            try:
                mark_write_transaction()
                for i in range(10):
                    user = accounts.get_user(users["editor"])
                    accounts.create_token(user, f"t{n}-{i}")
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        user = accounts.get_user(users["editor"])
        assert len(accounts.list_tokens(user)) == 80


def test_healthz_reports_the_message_queue(app_config):
    import shutil

    from tests.conftest import need
    from tests.services import RedisServer

    def dispose(app) -> None:
        with app.app_context():
            db.engine.dispose()

    app = create_app(app_config)
    assert app.test_client().get("/healthz").get_json()["message_queue"] == "off"
    dispose(app)
    need(shutil.which("redis-server") is not None, "redis-server is not installed")
    server = RedisServer().start()
    app = create_app({**app_config, "KB_MESSAGE_QUEUE": server.url})
    try:
        assert app.test_client().get("/healthz").get_json()["message_queue"] == "ok"
        server.stop()
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["message_queue"] == "error"
    finally:
        server.stop()
        dispose(app)
