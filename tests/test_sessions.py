"""Ending sessions: a password change, a deactivation or «Выйти на всех устройствах» ends every
other session and remember-me cookie of the account; the remember cookie has a lifetime."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from kb import create_app
from kb.accounts import service as accounts
from kb.database import alembic_config, db, upgrade_database
from tests.conftest import PASSWORD, csrf_token

NEW_PASSWORD = "another-horse-43"


def login(client, email: str, password: str = PASSWORD, remember: bool = True):
    form = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    if remember:
        form["remember"] = "1"
    response = client.post("/login", data=form)
    assert response.status_code == 302, response.status_code
    return response


def copy_cookies(source, target, names=("session", "remember_token")) -> None:
    """What a thief (or a forgotten browser) holds: a copy of the cookies."""
    for name in names:
        cookie = source.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        target.set_cookie(name, cookie.value)


def change_password(client, current: str = PASSWORD, new: str = NEW_PASSWORD):
    return client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(client, "/account"),
            "current": current,
            "password": new,
            "password2": new,
        },
    )


def test_password_change_and_logout_end_old_cookies(app, client, users):
    login(client, users["editor"])
    stolen_session, stolen_remember = app.test_client(), app.test_client()
    copy_cookies(client, stolen_session, ["session"])
    copy_cookies(client, stolen_remember, ["remember_token"])
    assert stolen_session.get("/account").status_code == 200
    assert stolen_remember.get("/account").status_code == 200

    assert change_password(client).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    assert stolen_session.get("/account").status_code == 401
    assert stolen_remember.get("/account").status_code == 401


def test_password_change_keeps_this_browser_signed_in(app, client, users):
    login(client, users["editor"])
    other = app.test_client()
    login(other, users["editor"])
    assert change_password(client).status_code == 302
    assert "Пароль изменён" in client.get("/account").get_data(as_text=True)
    # The remember cookie of this browser was renewed, so it survives the session's end.
    remembered = app.test_client()
    copy_cookies(client, remembered, ["remember_token"])
    assert remembered.get("/account").status_code == 200
    assert other.get("/account").status_code == 401


def test_wrong_current_password_ends_nothing(app, client, users):
    login(client, users["editor"])
    other = app.test_client()
    login(other, users["editor"])
    response = change_password(client, current="not-my-password")
    assert response.status_code == 302
    assert other.get("/account").status_code == 200


def test_logout_everywhere(app, client, auth, users):
    login(client, users["reader"])
    other = app.test_client()
    login(other, users["reader"])
    remembered = app.test_client()
    copy_cookies(other, remembered, ["remember_token"])
    page = client.get("/account").get_data(as_text=True)
    assert "Выйти на всех устройствах" in page
    assert 'action="/account/logout-everywhere"' in page

    # Like every form, it needs the CSRF token.
    assert client.post("/account/logout-everywhere").status_code == 400
    assert other.get("/account").status_code == 200

    response = client.post(
        "/account/logout-everywhere", data={"csrf_token": csrf_token(client, "/account")}
    )
    assert response.status_code == 302
    assert "Вы вышли на всех устройствах" in client.get("/").get_data(as_text=True)
    for browser in (client, other, remembered):
        assert browser.get("/account").status_code == 401
    # Signing in again works as before.
    login(other, users["reader"])
    assert other.get("/account").status_code == 200


def test_logout_everywhere_needs_login(client):
    response = client.post(
        "/account/logout-everywhere", data={"csrf_token": csrf_token(client, "/login")}
    )
    assert response.status_code == 401


def test_deactivation_ends_sessions_for_good(app, client, users):
    login(client, users["editor"])
    remembered = app.test_client()
    copy_cookies(client, remembered, ["remember_token"])
    with app.app_context():
        editor = accounts.get_user(users["editor"])
        accounts.set_active(editor, False)
        accounts.set_active(editor, True)  # switched back on: the old cookies stay dead
    assert client.get("/account").status_code == 401
    assert remembered.get("/account").status_code == 401
    login(client, users["editor"])
    assert client.get("/account").status_code == 200


def test_admin_password_reset_ends_sessions(app, client, users):
    login(client, users["editor"])
    with app.app_context():
        accounts.set_password(accounts.get_user(users["editor"]), NEW_PASSWORD)
    assert client.get("/account").status_code == 401


def test_session_without_a_version_is_not_trusted(app, client, users):
    # Sessions signed before versions existed carry the bare user id: sign in again.
    with app.app_context():
        user_id = accounts.get_user(users["editor"]).id
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
    assert client.get("/account").status_code == 401


@pytest.mark.parametrize(("setting", "days"), [(None, 30), (7, 7)])
def test_remember_cookie_lifetime(app_config, users, setting, days):
    config = dict(app_config)
    if setting is not None:
        config["KB_REMEMBER_DAYS"] = setting
    app = create_app(config)
    try:
        client = app.test_client()
        before = datetime.now(UTC)
        login(client, users["editor"])
        expires = client.get_cookie("remember_token").expires
        assert expires is not None
        lifetime = expires - before
        assert timedelta(days=days, minutes=-1) < lifetime < timedelta(days=days, minutes=1)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_migration_keeps_existing_users_able_to_sign_in(tmp_path, empty_database_url):
    """`kb init` on a database of the previous release: users keep their passwords."""
    config = {"TESTING": True, "KB_DATA_DIR": tmp_path / "old", "KB_ASYNC_MODE": "threading"}
    if empty_database_url:
        config["SQLALCHEMY_DATABASE_URI"] = empty_database_url
    app = create_app(config)
    try:
        with app.app_context():
            command.upgrade(alembic_config(), "0004")
            from werkzeug.security import generate_password_hash

            db.session.execute(
                sa.text(
                    "INSERT INTO users (email, name, password_hash, role, active, created_at) "
                    "VALUES (:email, :name, :hash, 'editor', :active, :now)"
                ),
                {
                    "email": "old@example.org",
                    "name": "Старый пользователь",
                    "hash": generate_password_hash(PASSWORD),
                    "active": True,
                    "now": datetime(2026, 1, 1),
                },
            )
            db.session.commit()
            upgrade_database()
        client = app.test_client()
        login(client, "old@example.org")
        assert client.get("/account").status_code == 200
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
