"""Survey pages and API over HTTP: permissions, respondent flow, exports, live counts."""

import re
import uuid

import pytest

from kb.accounts import service as accounts
from kb.extensions import socketio
from kb.surveys import service as surveys
from kb.surveys.events import NAMESPACE
from tests.surveys.conftest import DEFINITION


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api_survey(client, token_for):
    """A signed survey made by the editor through the API, with wave 1 open."""
    editor = token_for("editor")
    created = client.post("/api/v1/surveys", json=DEFINITION, headers=bearer(editor))
    assert created.status_code == 201, created.json
    survey_id = created.json["id"]
    wave = client.post(f"/api/v1/surveys/{survey_id}/waves", json={"title": "Осень"},
                       headers=bearer(editor))  # fmt: skip
    assert wave.status_code == 201 and wave.json["number"] == 1
    return created.json


def answers_for(survey_json, *, scale=4) -> dict:
    questions = [q for s in survey_json["sections"] for q in s["questions"]]
    by_kind = {q["kind"]: q for q in questions}
    return {
        str(by_kind["single"]["id"]): by_kind["single"]["options"][0]["id"],
        str(by_kind["multiple"]["id"]): [by_kind["multiple"]["options"][1]["id"]],
        str(by_kind["scale"]["id"]): scale,
        str(by_kind["long_text"]["id"]): "Больше открытых занятий",
    }


def test_api_flow_with_dropped_connection_and_permissions(client, token_for, api_survey):
    survey_id = api_survey["id"]
    reader, editor, admin = token_for("reader"), token_for("editor"), token_for("admin")
    body = {"answers": answers_for(api_survey), "idempotency_key": uuid.uuid4().hex}
    first = client.post(f"/api/v1/surveys/{survey_id}/responses", json=body, headers=bearer(reader))
    assert first.status_code == 201 and first.json["duplicate"] is False
    # The answer was stored but the phone never saw the reply: it sends the same attempt.
    again = client.post(f"/api/v1/surveys/{survey_id}/responses", json=body, headers=bearer(reader))
    assert again.status_code == 200 and again.json == {**first.json, "duplicate": True}
    other = {**body, "idempotency_key": uuid.uuid4().hex}
    repeat = client.post(f"/api/v1/surveys/{survey_id}/responses", json=other,
                         headers=bearer(reader))  # fmt: skip
    assert repeat.status_code == 409 and "уже ответили" in repeat.json["error"]

    # Results and signed answers: the author and admins only.
    for token, status in ((reader, 403), (editor, 200), (admin, 200)):
        for path in ("results", "responses", "compare"):
            got = client.get(f"/api/v1/surveys/{survey_id}/{path}", headers=bearer(token))
            assert got.status_code == status, (path, got.json)
    people = client.get(f"/api/v1/surveys/{survey_id}/responses", headers=bearer(admin)).json
    assert [p["person"] for p in people] == ["Тест reader"]
    assert people[0]["organization"] == "Сказка"
    results = client.get(f"/api/v1/surveys/{survey_id}/results?wave=1", headers=bearer(editor))
    assert results.json["respondents"] == 1
    assert client.get(f"/api/v1/surveys/{survey_id}", headers=bearer(reader)).json.get(
        "waves") is None  # fmt: skip


def test_api_reports_bad_answers_in_russian(client, token_for, api_survey):
    survey_id = api_survey["id"]
    reader = token_for("reader")
    answers = answers_for(api_survey, scale=9)
    got = client.post(f"/api/v1/surveys/{survey_id}/responses", headers=bearer(reader),
                      json={"answers": answers, "idempotency_key": uuid.uuid4().hex})  # fmt: skip
    assert got.status_code == 422
    assert "от 1 до 5" in got.json["error"] and len(got.json["errors"]) == 1
    no_key = client.post(f"/api/v1/surveys/{survey_id}/responses", headers=bearer(reader),
                         json={"answers": answers})  # fmt: skip
    assert no_key.status_code == 400 and "idempotency_key" in no_key.json["error"]
    not_json = client.post(f"/api/v1/surveys/{survey_id}/responses", headers=bearer(reader),
                           data="x")  # fmt: skip
    assert not_json.status_code == 400
    csrf = _csrf(client, "/login")
    guest = client.post(f"/api/v1/surveys/{survey_id}/responses", headers={"X-CSRFToken": csrf},
                        json={"answers": answers, "idempotency_key": uuid.uuid4().hex})  # fmt: skip
    assert guest.status_code == 401 and "войти" in guest.json["error"]


def test_api_structure_rules(client, token_for, api_survey):
    survey_id = api_survey["id"]
    reader, editor = token_for("reader"), token_for("editor")
    assert (
        client.post("/api/v1/surveys", json=DEFINITION, headers=bearer(reader)).status_code == 403
    )
    bad = {
        **DEFINITION,
        "sections": [{"questions": [{"kind": "scale", "text": "?", "scale_max": 3}]}],
    }
    got = client.post("/api/v1/surveys", json=bad, headers=bearer(editor))
    assert got.status_code == 422 and "от 1 до 10" in got.json["error"]
    body = {"answers": answers_for(api_survey), "idempotency_key": uuid.uuid4().hex}
    client.post(f"/api/v1/surveys/{survey_id}/responses", headers=bearer(reader), json=body)
    locked = client.put(f"/api/v1/surveys/{survey_id}", json=DEFINITION, headers=bearer(editor))
    assert locked.status_code == 409
    closed = client.post(f"/api/v1/surveys/{survey_id}/waves/1/close", headers=bearer(editor))
    assert closed.json["open"] is False and closed.json["responses"] == 1
    body = {"answers": answers_for(api_survey), "idempotency_key": uuid.uuid4().hex}
    late = client.post(f"/api/v1/surveys/{survey_id}/responses", json=body,
                       headers=bearer(token_for("admin")))  # fmt: skip
    assert late.status_code == 409 and "закрыт" in late.json["error"]


def test_openapi_documents_surveys_and_consulting(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/surveys/{survey_id}/responses" in paths
    assert "/api/v1/surveys/{survey_id}/compare" in paths
    assert "/api/v1/consult/questions" in paths


def test_anonymous_link_qr_and_device_guard(app, client, auth, users):
    with app.test_request_context():
        author = accounts.get_user(users["editor"])
        survey = surveys.define_survey(author, {**DEFINITION, "anonymous": True})
        surveys.open_wave(survey, author)
        code, survey_id = survey.code, survey.id
        single = surveys.ordered_questions(survey)[0]
        scale = surveys.ordered_questions(survey)[2]
        first_option = single.options[0].id
        single_id, scale_id = single.id, scale.id
    guest = app.test_client()
    page = guest.get(f"/s/{code}")
    assert page.status_code == 200 and "Анонимно" in page.get_data(as_text=True)
    assert "kb_survey_device" in page.headers.get("Set-Cookie", "")
    assert guest.get("/s/nonexistent").status_code == 404
    form = {
        "csrf_token": _csrf(guest, f"/s/{code}"),
        "idempotency_key": uuid.uuid4().hex,
        f"q{single_id}": str(first_option),
        f"q{scale_id}": "5",
    }
    sent = guest.post(f"/s/{code}", data=form)
    assert sent.status_code == 302 and sent.headers["Location"].endswith(
        f"/surveys/{survey_id}/thanks"
    )
    # The thank-you page names the survey only to whoever has just answered it.
    title = DEFINITION["title"]
    assert title in guest.get(sent.headers["Location"]).get_data(as_text=True)
    stranger = app.test_client().get(sent.headers["Location"]).get_data(as_text=True)
    assert "Спасибо" in stranger and title not in stranger
    twice = guest.post(f"/s/{code}", data={**form, "idempotency_key": uuid.uuid4().hex})
    assert twice.status_code == 409 and "С этого устройства" in twice.get_data(as_text=True)
    # coming back to the link: said before the form, not after filling it in again
    again = guest.get(f"/s/{code}").get_data(as_text=True)
    assert "С этого устройства уже отправлен ответ" in again and f'name="q{single_id}"' not in again
    fresh = app.test_client().get(f"/s/{code}").get_data(as_text=True)
    assert f'name="q{single_id}"' in fresh and "уже отправлен" not in fresh
    auth.login(users["editor"])
    detail = client.get(f"/surveys/{survey_id}").get_data(as_text=True)
    assert f"/s/{code}" in detail
    qr = client.get(f"/surveys/{survey_id}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    listing = client.get(f"/api/v1/surveys/{survey_id}/responses").json
    assert len(listing) == 1 and listing[0]["person"] is None


def _csrf(client, path):
    import re

    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_pages_render_for_organizer_and_hide_results_from_others(app, client, auth, users):
    auth.login(users["editor"])
    token = _csrf(client, "/surveys/new")
    made = client.post("/surveys/new", data={"csrf_token": token, "title": "Анкета года"})
    assert made.status_code == 302
    survey_id = int(made.headers["Location"].rstrip("/").split("/")[-2])
    for kind in ("single", "multiple", "scale", "short_text", "long_text"):
        added = client.post(f"/surveys/{survey_id}/questions",
                            data={"csrf_token": token, "kind": kind, "required": "1"})  # fmt: skip
        assert added.status_code == 302
    assert client.post(f"/surveys/{survey_id}/waves", data={"csrf_token": token}).status_code == 302
    for path in ("", "/edit", "/preview", "/results", "/results/live", "/compare", "/responses"):
        page = client.get(f"/surveys/{survey_id}{path}")
        assert page.status_code == 200, path
        assert 'style="' not in page.get_data(as_text=True), path
    assert client.get(f"/surveys/{survey_id}/export.csv").mimetype == "text/csv"
    assert client.get(f"/surveys/{survey_id}/export.xlsx").data[:2] == b"PK"
    preview = client.post(f"/surveys/{survey_id}/preview", data={"csrf_token": token})
    assert "Это обязательный вопрос" in preview.get_data(as_text=True)
    auth.logout()
    auth.login(users["reader"])
    for path in ("/results", "/compare", "/responses", "/export.csv", "/export.xlsx", "/edit"):
        assert client.get(f"/surveys/{survey_id}{path}").status_code == 403, path
    form = client.get(f"/surveys/{survey_id}/respond")
    assert form.status_code == 200 and "survey-form" in form.get_data(as_text=True)
    assert "Анкета года" in client.get("/surveys").get_data(as_text=True)


def test_live_count_is_pushed_to_watching_organizers(app, client, auth, users, token_for):
    auth.login(users["editor"])
    with app.test_request_context():
        author = accounts.get_user(users["editor"])
        survey = surveys.define_survey(author, DEFINITION)
        surveys.open_wave(survey, author)
        survey_json_id = survey.id
    watcher = socketio.test_client(app, namespace=NAMESPACE, flask_test_client=client)
    assert watcher.is_connected(NAMESPACE)
    ack = watcher.emit("watch", {"survey_id": survey_json_id}, namespace=NAMESPACE, callback=True)
    assert ack == {"ok": True, "total": 0}
    detail = client.get(f"/api/v1/surveys/{survey_json_id}").json
    body = {"answers": answers_for(detail), "idempotency_key": uuid.uuid4().hex}
    sent = client.post(f"/api/v1/surveys/{survey_json_id}/responses", json=body,
                       headers=bearer(token_for("reader")))  # fmt: skip
    assert sent.status_code == 201
    events = [e for e in watcher.get_received(NAMESPACE) if e["name"] == "response"]
    assert events and events[-1]["args"][0] == {
        "survey_id": survey_json_id, "wave": 1, "wave_count": 1, "total": 1
    }  # fmt: skip
    outsider = app.test_client()
    Auth = type(auth)
    Auth(outsider).login(users["reader"])
    spy = socketio.test_client(app, namespace=NAMESPACE, flask_test_client=outsider)
    refused = spy.emit("watch", {"survey_id": survey_json_id}, namespace=NAMESPACE, callback=True)
    assert refused["ok"] is False
    watcher.disconnect(NAMESPACE)
    spy.disconnect(NAMESPACE)


def test_one_button_starts_taking_answers(app, client, auth, users):
    """A new survey: «Начать приём ответов» opens the first wave now, with nothing to fill."""
    with app.test_request_context():
        author = accounts.get_user(users["editor"])
        survey = surveys.define_survey(author, {**DEFINITION, "anonymous": True})
        survey_id, code = survey.id, survey.code
    auth.login(users["editor"])
    page = client.get(f"/surveys/{survey_id}").get_data(as_text=True)
    assert "Начать приём ответов" in page
    question_field = re.compile(r'name="q\d+"')
    assert not question_field.search(app.test_client().get(f"/s/{code}").get_data(as_text=True))
    started = client.post(
        f"/surveys/{survey_id}/waves", data={"csrf_token": _csrf(client, f"/surveys/{survey_id}")}
    )
    assert started.status_code == 302, started.get_data(as_text=True)
    assert question_field.search(app.test_client().get(f"/s/{code}").get_data(as_text=True))
    assert "Начать приём ответов" not in client.get(f"/surveys/{survey_id}").get_data(as_text=True)
