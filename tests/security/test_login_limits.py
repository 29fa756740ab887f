"""Password guessing: failed sign-ins are limited per client address (the real one behind a
configured number of proxies) and slowed down per account with a growing delay, shared by
every process through the database; the owner gets in after the delay."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import requests
from werkzeug.http import parse_date

from kb import create_app
from kb.accounts import service as accounts
from kb.database import db, utcnow
from tests.conftest import CSRF_RE, PASSWORD, csrf_token

WRONG = "wrong-password-1"


@contextmanager
def app_with(app_config: dict, **overrides) -> Iterator:
    """Another app (another process, as far as the app can tell) on the same database."""
    app = create_app({**app_config, **overrides})
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def attempt(client, email: str, password: str, address: str | None = None):
    headers = {"X-Forwarded-For": address} if address else {}
    token = csrf_token(client)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, headers=headers
    )


def seconds_to_wait(retry_after: str) -> float:
    """Retry-After in either of its forms (RFC 9110): seconds or an HTTP date."""
    if retry_after.isdigit():
        return int(retry_after)
    return (parse_date(retry_after) - datetime.now(UTC)).total_seconds()


class Clock:
    """Moves the clock of the login delays forward, as if the person had waited."""

    def __init__(self, monkeypatch):
        self.offset = timedelta()
        monkeypatch.setattr(accounts, "utcnow", lambda: utcnow() + self.offset)

    def wait(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def test_behind_a_proxy_failures_count_per_real_address(app_config, users):
    # Behind nginx every request comes from 127.0.0.1; with KB_PROXIES=1 the address nginx
    # saw (the last one in X-Forwarded-For) is the client's.
    with app_with(app_config, KB_PROXIES=1, KB_LOGIN_LIMIT="3 per minute") as app:
        client = app.test_client()
        statuses = [
            attempt(client, f"guess{i}@example.org", WRONG, "203.0.113.5").status_code
            for i in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        # A spoofed first hop does not buy a fresh budget: nginx appends the real address.
        assert attempt(client, "x@example.org", WRONG, "10.9.9.9, 203.0.113.5").status_code == 429
        # Another person behind the same proxy is not affected.
        assert attempt(client, "y@example.org", WRONG, "198.51.100.7").status_code == 401
        assert attempt(client, users["editor"], PASSWORD, "198.51.100.8").status_code == 302


def test_without_proxies_forwarded_for_is_not_trusted(app_config, users):
    with app_with(app_config, KB_LOGIN_LIMIT="3 per minute") as app:
        client = app.test_client()
        statuses = [
            attempt(client, f"guess{i}@example.org", WRONG, f"192.0.2.{i}").status_code
            for i in range(4)
        ]
        assert statuses == [401, 401, 401, 429]


def test_password_spraying_from_one_address_is_limited(client, users):
    """30 different e-mails with one password: the address runs out of attempts (default)."""
    statuses = [attempt(client, f"user{i}@example.org", WRONG).status_code for i in range(30)]
    assert 429 in statuses
    first = statuses.index(429)
    assert set(statuses[:first]) == {401} and set(statuses[first:]) == {429}
    assert first == 10  # KB_LOGIN_LIMIT: 10 failed sign-ins per address per minute


def test_successful_logins_do_not_use_up_the_address(client, users, app):
    """A seminar hall behind one NAT address: many people signing in at once."""
    for _round in range(15):
        for role in ("admin", "editor", "reader"):
            assert attempt(client, users[role], PASSWORD).status_code == 302
            client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_owner_is_slowed_down_not_locked_out(app_config, users, clock):
    with app_with(app_config, KB_PROXIES=1) as app:
        client = app.test_client()
        for _ in range(5):  # an attacker elsewhere
            assert attempt(client, users["editor"], WRONG, "203.0.113.5").status_code == 401
        # The owner, from another address, with the right password, right away: wait.
        response = attempt(client, users["editor"], PASSWORD, "198.51.100.7")
        assert response.status_code == 429
        # Never earlier than the delay (Flask-Limiter may name its own, later, window end).
        assert seconds_to_wait(response.headers["Retry-After"]) >= 31
        text = response.get_data(as_text=True)
        assert "Слишком много попыток входа в эту учётную запись" in text
        assert re.search(r"Попробуйте снова в \d\d:\d\d:\d\d \(осталось ждать: 32 секунды\)", text)
        # After the delay the right password works.
        clock.wait(33)
        assert attempt(client, users["editor"], PASSWORD, "198.51.100.7").status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
        # A success starts the count over: the next mistake is an ordinary one.
        for _ in range(4):
            assert attempt(client, users["editor"], WRONG, "198.51.100.7").status_code == 401


def test_the_delay_grows_and_is_capped(app_config, users, clock):
    with app_with(app_config, KB_PROXIES=1) as app:
        client = app.test_client()
        for i in range(5):
            attempt(client, users["reader"], WRONG, f"203.0.113.{i}")
        for i, delay in enumerate([32, 64, 128, 256, 512, 900, 900]):
            clock.wait(delay - 2)
            # Still waiting: refused at once, the password unchecked (even the right one).
            assert attempt(client, users["reader"], PASSWORD, f"198.51.100.{i}").status_code == 429
            clock.wait(2)
            assert attempt(client, users["reader"], WRONG, f"192.0.2.{i}").status_code == 401
        text = attempt(client, users["reader"], PASSWORD).get_data(as_text=True)
        assert "осталось ждать: 15 минут" in text, text


@pytest.mark.server
def test_the_delay_is_shared_by_every_process(live_server, database_url):
    """Failures seen by one `kb serve` process slow down the account in every other one."""
    added = live_server.run_cli(
        "user", "add", "far@example.org", "--name", "Далёкий", "--role", "editor",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    with requests.Session() as browser:
        for _ in range(5):
            token = CSRF_RE.search(browser.get(live_server.url + "/login").text).group(1)
            answer = browser.post(
                live_server.url + "/login",
                data={"email": "far@example.org", "password": WRONG, "csrf_token": token},
                allow_redirects=False,
            )
            assert answer.status_code == 401
    config = {"TESTING": True, "KB_DATA_DIR": live_server.data_dir, "KB_ASYNC_MODE": "threading"}
    if database_url:
        config["SQLALCHEMY_DATABASE_URI"] = database_url
    with app_with(config) as other_process:
        response = attempt(other_process.test_client(), "far@example.org", PASSWORD)
        assert response.status_code == 429


def test_unknown_addresses_are_slowed_down_the_same_way(app_config, users):
    """No way to tell an existing account from a missing one by the delay."""
    with app_with(app_config, KB_PROXIES=1) as app:
        client = app.test_client()
        for n, email in enumerate((users["editor"], "nobody@example.org")):
            address = f"203.0.113.{n}"
            statuses = [attempt(client, email, WRONG, address).status_code for _ in range(6)]
            assert statuses == [401] * 5 + [429]


def test_changing_the_password_is_slowed_down_too(client, auth, users):
    auth.login(users["editor"])
    for _ in range(5):
        client.post(
            "/account/password",
            data={
                "csrf_token": auth.csrf("/account"),
                "current": WRONG,
                "password": "new-password-1",
                "password2": "new-password-1",
            },
        )
    response = client.post(
        "/account/password",
        data={
            "csrf_token": auth.csrf("/account"),
            "current": PASSWORD,
            "password": "new-password-1",
            "password2": "new-password-1",
        },
        follow_redirects=True,
    )
    assert "Слишком много попыток входа в эту учётную запись" in response.get_data(as_text=True)
