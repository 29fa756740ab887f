"""Login, logout, throttling, CSRF, roles, API tokens and the admin pages."""

import pytest

from kb.accounts import service as accounts
from tests.conftest import PASSWORD, csrf_token


def test_login_and_logout(client, auth, users):
    response = auth.login(users["editor"])
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Тест editor" in page and "Выйти" in page
    assert auth.logout().status_code == 302
    assert "Войти" in client.get("/").get_data(as_text=True)


def test_wrong_password_is_refused_in_russian(client, auth, users):
    response = auth.login(users["editor"], "not-the-password")
    assert response.status_code == 401
    assert "Неверный адрес или пароль" in response.get_data(as_text=True)


def test_deactivated_user_cannot_log_in(auth, users):
    response = auth.login(users["deactivated"])
    assert response.status_code == 401


def test_login_redirects_only_to_local_paths(client, users):
    token = csrf_token(client)
    form = {"email": users["reader"], "password": PASSWORD, "csrf_token": token}
    response = client.post("/login?next=https://evil.example/", data=form)
    assert response.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    form["csrf_token"] = csrf_token(client)
    response = client.post("/login?next=/account", data=form)
    assert response.headers["Location"] == "/account"


def test_a_guest_sent_to_sign_in_comes_back_to_the_page(client, users):
    """A guest following an edit link got a bare 401 with no way on."""
    from html import unescape
    from urllib.parse import unquote

    response = client.get("/wiki/Пчёлки/edit?template=1")
    assert response.status_code == 401
    page = unescape(response.get_data(as_text=True))
    assert "Нужно войти" in page
    link = page.split('class="button primary" href="')[1].split('"')[0]
    assert unquote(link) == "/login?next=/wiki/Пчёлки/edit?template=1"
    form = {"email": users["editor"], "password": PASSWORD, "csrf_token": csrf_token(client)}
    signed_in = client.post(link, data=form)
    assert unquote(signed_in.headers["Location"]) == "/wiki/Пчёлки/edit?template=1"
    assert client.get(signed_in.headers["Location"]).status_code == 200


def test_login_is_throttled_after_repeated_failures(client, auth, users):
    statuses = [auth.login(users["editor"], f"wrong-{i}").status_code for i in range(6)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    response = auth.login(users["editor"])
    assert response.status_code == 429
    assert "Слишком много попыток" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_rejected(client, users):
    response = client.post("/login", data={"email": users["editor"], "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_cookie_authenticated_api_call_needs_csrf(client, auth, users):
    auth.login(users["editor"])
    assert client.post("/account/tokens", data={"label": "x"}).status_code == 400


@pytest.mark.parametrize("path", ["/admin/users", "/admin/organizations"])
@pytest.mark.parametrize(
    ("role", "status"),
    [
        (None, 401),
        ("reader", 403),
        ("editor", 403),
        ("admin", 200),
    ],
)
def test_admin_pages_need_admin_role(client, auth, users, path, role, status):
    if role:
        auth.login(users[role])
    assert client.get(path).status_code == status


def test_account_page_needs_login(client):
    response = client.get("/account")
    assert response.status_code == 401
    assert "Нужно войти" in response.get_data(as_text=True)


def test_admin_adds_user_with_password(client, auth, users, app):
    auth.login(users["admin"])
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": auth.csrf("/admin/users"),
            "mode": "password",
            "email": "New.Teacher@Example.org",
            "name": "Новая Учительница",
            "role": "editor",
            "password": "long-enough-1",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = accounts.get_user("new.teacher@example.org")
        assert user.role == "editor"


def test_admin_add_user_errors_are_clear(client, auth, users, app):
    auth.login(users["admin"])
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": auth.csrf("/admin/users"),
            "mode": "password",
            "email": users["editor"],
            "name": "Дубль",
            "role": "editor",
            "password": "long-enough-1",
        },
    )
    assert response.status_code == 409
    assert "уже есть" in response.get_data(as_text=True)
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": auth.csrf("/admin/users"),
            "mode": "password",
            "email": "x@example.org",
            "name": "Кто-то",
            "role": "king",
            "password": "long-enough-1",
        },
    )
    assert response.status_code == 422
    assert "Неизвестная роль" in response.get_data(as_text=True)


def test_invitation_lets_a_person_set_a_password(client, auth, users, app):
    auth.login(users["admin"])
    page = client.post(
        "/admin/users",
        data={
            "csrf_token": auth.csrf("/admin/users"),
            "mode": "invite",
            "email": "invited@example.org",
            "name": "Приглашённая",
            "role": "editor",
        },
    ).get_data(as_text=True)
    link = page.split('id="invite-link" class="token" readonly value="')[1].split('"')[0]
    path = link.split("localhost", 1)[1]
    auth.logout()
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={"csrf_token": token, "password": "brand-new-pass", "password2": "brand-new-pass"},
    )
    assert response.status_code == 302
    assert "Приглашённая" in client.get("/").get_data(as_text=True)
    auth.logout()
    assert client.get(path).status_code == 404  # used once only


def test_admin_changes_role_and_deactivates(client, auth, users, app):
    with app.app_context():
        target = accounts.get_user(users["reader"])
        target_id = target.id
    auth.login(users["admin"])
    token = auth.csrf("/admin/users")
    client.post(
        f"/admin/users/{target_id}", data={"csrf_token": token, "action": "role", "role": "editor"}
    )
    client.post(f"/admin/users/{target_id}", data={"csrf_token": token, "action": "deactivate"})
    with app.app_context():
        target = accounts.get_user(users["reader"])
        assert target.role == "editor" and not target.active


def test_deactivated_user_session_ends(client, auth, users, app):
    auth.login(users["editor"])
    assert client.get("/account").status_code == 200
    with app.app_context():
        accounts.set_active(accounts.get_user(users["editor"]), False)
    assert client.get("/account").status_code == 401


def test_admin_manages_organizations(client, auth, users, app):
    auth.login(users["admin"])
    token = auth.csrf("/admin/organizations")
    response = client.post(
        "/admin/organizations",
        data={
            "csrf_token": token,
            "name": "МАОУ «СОШ №8»",
            "short_name": "СОШ №8",
            "kind": "school",
            "city": "Когалым",
        },
    )
    assert response.status_code == 302
    page = client.get("/admin/organizations").get_data(as_text=True)
    assert "СОШ №8" in page
    response = client.post(
        "/admin/organizations",
        data={"csrf_token": token, "name": "Другая", "short_name": "СОШ №8", "kind": "school"},
    )
    assert "уже есть" in response.get_data(as_text=True)


def test_api_token_authenticates_and_can_be_revoked(client, app, users, token_for):
    token = token_for("editor")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/account", headers=headers).status_code == 200
    # Bearer requests need no CSRF token: a browser never attaches them by itself.
    assert client.post("/account/tokens", headers=headers, data={"label": "x"}).status_code == 200
    with app.app_context():
        user = accounts.get_user(users["editor"])
        for api_token in accounts.list_tokens(user):
            accounts.revoke_token(user, api_token.id)
    response = client.get("/account", headers=headers)
    assert response.status_code == 401


def test_tokens_are_stored_hashed(app, users):
    with app.app_context():
        user = accounts.get_user(users["editor"])
        token = accounts.create_token(user)
        stored = accounts.list_tokens(user)[0].token_hash
        assert token not in stored and len(stored) == 64


def test_deactivated_users_tokens_stop_working(client, app, users, token_for):
    token = token_for("editor")
    with app.app_context():
        accounts.set_active(accounts.get_user(users["editor"]), False)
    response = client.get("/account", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_bad_bearer_token_on_api_gets_json_error(client):
    response = client.get("/healthz", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]


def test_passwords_are_hashed(app, users):
    with app.app_context():
        user = accounts.get_user(users["editor"])
        assert PASSWORD not in user.password_hash
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
