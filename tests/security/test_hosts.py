"""Absolute links come from KB_BASE_URL, never from the request's Host header (issue 14).

A reader who sends `Host: kb-login.evil.example` must not make the site's e-mails, feeds,
calendars, QR codes or API answers point to that host: with KB_BASE_URL set, a request
with a foreign Host is refused (400), and every absolute link is built from KB_BASE_URL.
"""

import email
import email.policy
import io
import re
import xml.etree.ElementTree as ET

import pytest
import requests
import segno

from kb import create_app
from kb.accounts import service as accounts
from kb.board import seminars
from kb.consult import mail
from kb.consult import service as consult
from kb.database import db
from kb.pages import service as pages
from tests.conftest import LiveServer, csrf_token, wait_for
from tests.surveys.conftest import DEFINITION

BASE = "https://kb.example.org"
EVIL = "kb-login.evil.example"
ATOM = {"a": "http://www.w3.org/2005/Atom"}


@pytest.fixture
def app_config(app_config):
    # The test client speaks to "localhost": trusted here as an operator would trust it.
    return {**app_config, "KB_BASE_URL": BASE, "KB_TRUSTED_HOSTS": "localhost"}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def absolute_links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


def test_question_with_a_foreign_host_is_refused_and_mail_links_to_base_url(
    app, client, token_for, smtp_server
):
    controller, inbox = smtp_server
    app.config.update(KB_SMTP_HOST="127.0.0.1", KB_SMTP_PORT=controller.port,
                      KB_SMTP_FROM="kb@example.org")  # fmt: skip
    headers = bearer(token_for("editor"))
    refused = client.post(
        "/api/v1/consult/questions",
        json={"title": "Как начать кружок?"},
        headers={**headers, "Host": EVIL},
    )
    assert refused.status_code == 400
    assert "адрес" in refused.json["error"] and BASE in refused.json["error"]
    mail.wait_for_outgoing()
    assert inbox.messages == []
    with app.app_context():
        assert consult.list_questions(accounts.get_user("admin@example.org")) == []

    asked = client.post(
        "/api/v1/consult/questions", json={"title": "Как начать кружок?"}, headers=headers
    )
    assert asked.status_code == 201
    link = f"{BASE}/consult/questions/{asked.json['id']}"
    assert asked.json["url"] == link
    messages = wait_for(inbox, 1)
    mail.wait_for_outgoing()
    assert [m.rcpt_tos for m in messages] == [["admin@example.org"]]
    body = email.message_from_bytes(messages[0].content, policy=email.policy.default)
    assert absolute_links(body.get_content()) == [link]


def test_mail_links_to_base_url_even_when_any_host_is_let_in(app, client, token_for, smtp_server):
    controller, inbox = smtp_server
    app.config.update(KB_SMTP_HOST="127.0.0.1", KB_SMTP_PORT=controller.port, TRUSTED_HOSTS=None)
    asked = client.post(
        "/api/v1/consult/questions",
        json={"title": "Где взять схемы?"},
        headers={**bearer(token_for("editor")), "Host": EVIL},
    )
    assert asked.status_code == 201
    link = f"{BASE}/consult/questions/{asked.json['id']}"
    assert asked.json["url"] == link
    messages = wait_for(inbox, 1)
    mail.wait_for_outgoing()
    body = email.message_from_bytes(messages[0].content, policy=email.policy.default)
    assert absolute_links(body.get_content()) == [link]


def test_untrusted_host_gets_a_readable_400_before_anything_runs(app, client, auth, users):
    page = client.get("/", headers={"Host": EVIL})
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "адрес" in text and BASE in text and "<script" not in text
    api = client.get("/api/v1/openapi.json", headers={"Host": f"{EVIL}:443"})
    assert api.status_code == 400 and BASE in api.json["error"]
    # Refused before the CSRF check or the sign-in form runs.
    login = client.post(
        "/login", data={"email": users["admin"], "password": "x"}, headers={"Host": EVIL}
    )
    assert login.status_code == 400 and BASE in login.get_data(as_text=True)
    for host in ("evil.kb.example.org", "kb.example.org.evil.example", "127.0.0.1"):
        assert client.get("/", headers={"Host": host}).status_code == 400, host
    for host in ("kb.example.org", "kb.example.org:8443", "localhost"):
        assert client.get("/", headers={"Host": host}).status_code == 200, host


def test_feeds_link_to_base_url(app, client, token_for):
    with app.app_context():
        pages.create_space("Общее", "Общие материалы", "Для всех", is_default=True)
        pages.create_space("Клуб", "Клуб", "Клуб технического творчества")
    headers = bearer(token_for("editor"))
    for slug, space in (("Первая", "Общее"), ("Вторая", "Клуб")):
        saved = client.put(
            f"/api/v1/pages/{slug}",
            headers=headers,
            json={"body": "Текст.", "base_revision": None, "space": space},
        )
        assert saved.status_code == 201, saved.json  # fmt: skip
        changed = client.put(
            f"/api/v1/pages/{slug}",
            headers=headers,
            json={"body": "Текст, дополненный.", "base_revision": 1},
        )
        assert changed.status_code == 200, changed.json  # fmt: skip
    for path, entries in (("/recent.atom", 4), ("/spaces/Клуб/recent.atom", 2)):
        feed = ET.fromstring(client.get(path).data)
        assert len(feed.findall("a:entry", ATOM)) == entries
        ids = [e.text for e in feed.iter(f"{{{ATOM['a']}}}id")]
        hrefs = [e.get("href") for e in feed.iter(f"{{{ATOM['a']}}}link")]
        assert len(ids) == entries + 1 and len(hrefs) == entries + 2
        assert all(url.startswith(BASE + "/") for url in ids + hrefs), (path, ids, hrefs)
    assert ET.fromstring(client.get("/recent.atom").data).find("a:link", ATOM).get("href") == (
        f"{BASE}/recent.atom"
    )

    with app.test_request_context("/"):
        teacher = accounts.get_user("editor@example.org")
        question = consult.ask(teacher, title="Вопрос для ленты")
        consult.answer(question, accounts.get_user("admin@example.org"), body="Ответ")
        token = consult.feed_token(teacher)
        feed_path = f"/consult/feed/{teacher.id}/{token}.atom"
        text = client.get(feed_path).get_data(as_text=True)
    links = absolute_links(text)
    ours = [url for url in links if not url.startswith("http://www.w3.org/")]
    assert len(ours) == 5 and all(url.startswith(BASE + "/") for url in ours), ours
    assert f'href="{BASE}{feed_path}"' in text


def test_calendar_qr_code_and_board_links_use_base_url(app, client, token_for):
    with app.app_context():
        editor = accounts.get_user("editor@example.org")
        seminar = seminars.create_seminar(
            editor, {"title": "Семинар", "date": "2026-12-03", "start": "10:00", "end": "11:30"}
        )
        seminar_id = seminar.id
    for path in (f"/seminars/{seminar_id}.ics", "/seminars.ics"):
        ics = client.get(path).get_data(as_text=True)
        assert f"URL:{BASE}/seminars/{seminar_id}\r\n" in ics
        assert f"UID:seminar-{seminar_id}@kb.example.org\r\n" in ics
        assert "localhost" not in ics

    made = client.post("/api/v1/boards", json={"title": "Отзывы", "seminar_id": seminar_id},
                       headers=bearer(token_for("editor")))  # fmt: skip
    assert made.status_code == 201
    code = made.json["code"]
    join = f"{BASE}/b/{code}"
    assert made.headers["Location"] == join and made.json["url"] == join
    assert made.json["wall_url"] == f"{BASE}/b/{code}/wall"
    expected = io.BytesIO()
    segno.make(join, error="m").save(expected, kind="svg", scale=8, border=2, xmldecl=False,
                                     svgns=True, title=code)  # fmt: skip
    assert client.get(f"/b/{code}/qr.svg").data == expected.getvalue()
    wall = client.get(f"/b/{code}/wall").get_data(as_text=True)
    assert "<span>kb.example.org/b</span>" in wall and "localhost" not in wall
    assert "localhost" not in client.get(f"/b/{code}").get_data(as_text=True)
    seminar_page = client.get(f"/seminars/{seminar_id}").get_data(as_text=True)
    assert "kb.example.org/b" in seminar_page and "localhost" not in seminar_page


def test_survey_links_and_invitations_use_base_url(app, client, auth, users, token_for):
    headers = bearer(token_for("editor"))
    made = client.post("/api/v1/surveys", json={**DEFINITION, "anonymous": True}, headers=headers)
    assert made.status_code == 201, made.json
    survey = client.get(f"/api/v1/surveys/{made.json['id']}", headers=headers).json
    assert survey["url"] == f"{BASE}/surveys/{survey['id']}"
    assert survey["link"] == f"{BASE}/s/{survey['code']}"

    auth.login(users["admin"])
    page = client.post(
        "/admin/users",
        data={"csrf_token": auth.csrf("/admin/users"), "mode": "invite",
              "email": "invited@example.org", "name": "Приглашённая", "role": "editor"},
    ).get_data(as_text=True)  # fmt: skip
    link = page.split('id="invite-link" class="token" readonly value="')[1].split('"')[0]
    assert link.startswith(f"{BASE}/")
    assert csrf_token(client, link.removeprefix(BASE))


def test_external_url_outside_a_request(app):
    from kb.urls import external_url

    with app.app_context():
        assert external_url("consult.question", question_id=7) == f"{BASE}/consult/questions/7"
        app.config["KB_BASE_URL"] = "https://example.org/kb/"
        assert external_url("consult.question", question_id=7) == (
            "https://example.org/kb/consult/questions/7"
        )
        app.config.update(KB_BASE_URL=None, TRUSTED_HOSTS=None)
        with pytest.raises(RuntimeError, match="KB_BASE_URL"):
            external_url("consult.question", question_id=7)
    with app.test_request_context("/", base_url="http://kb.local:8080"):
        assert external_url("consult.question", question_id=7) == (
            "http://kb.local:8080/consult/questions/7"
        )


@pytest.mark.parametrize("value", ["kb.example.org", "ftp://kb.example.org", "https://"])
def test_base_url_must_be_an_absolute_http_address(tmp_path, value):
    with pytest.raises(ValueError, match="KB_BASE_URL"):
        create_app({"TESTING": True, "KB_DATA_DIR": tmp_path, "KB_BASE_URL": value})


def test_without_base_url_every_host_is_served_and_links_follow_it(app_config, users, token_for):
    plain = create_app({**app_config, "KB_BASE_URL": None, "KB_TRUSTED_HOSTS": None})
    try:
        client = plain.test_client()
        assert client.get("/", headers={"Host": EVIL}).status_code == 200
        made = client.post("/api/v1/boards", json={"title": "Доска"},
                           headers={**bearer(token_for("editor")), "Host": "kb.local"})  # fmt: skip
        assert made.json["url"] == f"http://kb.local/b/{made.json['code']}"
    finally:
        with plain.app_context():
            db.session.remove()
            db.engine.dispose()


def test_kb_serve_refuses_a_foreign_host(tmp_path, database_url):
    server = LiveServer(
        tmp_path / "live",
        database_url,
        extra_env={"KB_BASE_URL": BASE, "KB_TRUSTED_HOSTS": "127.0.0.1, localhost"},
    ).start()
    try:
        refused = requests.get(server.url + "/", headers={"Host": EVIL}, timeout=10)
        assert refused.status_code == 400 and BASE in refused.text
        assert requests.get(server.url + "/", headers={"Host": "kb.example.org"},
                            timeout=10).status_code == 200  # fmt: skip
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
    finally:
        server.stop()
