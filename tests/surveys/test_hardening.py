"""Surveys against hostile respondents: the wiki results page, CSV for Excel, flooding an
anonymous survey, and numbers out of range in the API and the pages."""

import csv
import io
import re
import uuid
from html import unescape

import pytest

from kb.accounts import service as accounts
from kb.pages import service as pages
from kb.surveys import results as survey_results
from kb.surveys import service as surveys
from tests.surveys.conftest import DEFINITION, answer, questions

LINK = "[официальная таблица](https://evil.example/login)"
HTML = '<a href="https://evil.example/">вход</a> <img src="https://evil.example/x.png">'
WIKI = "[[Главная]] ![схема](attachment:схема.png) [TOC]"
EXCEL = "…;=cmd|' /C calc'!A0"


def test_results_page_shows_respondents_text_literally(survey, people):
    author = people["author"]
    surveys.open_wave(survey, author)
    answer(survey, people["a"], short=LINK, long=f"{HTML}\n# {WIKI}\n    код\n===")
    answer(survey, people["b"], long="[" + "](" * 1700)
    result = survey_results.save_results_page(survey, author)
    html = pages.find_page(result.slug).html
    assert not re.search(r"<(a|img)\b", html), html  # no link, no image, no wikilink
    assert "<h1" not in html and "<pre" not in html and "toc" not in html
    text = pages.find_page(result.slug).body
    assert "\\[официальная таблица\\](https://evil.example/login)" in text
    shown = unescape(re.sub(r"<[^>]+>", "", html))
    assert LINK in shown and "[[Главная]]" in shown and '<a href="https://evil.example/">' in shown


def _rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_csv_quotes_every_field_and_neutralizes_formulas(survey, people):
    surveys.open_wave(survey, people["author"])
    answer(survey, people["a"], short=EXCEL, long="-2+3\n@SUM(A1)")
    answer(survey, people["b"], short="\t=1+1", long="\r=1+1")
    text = survey_results.export_csv(survey, people["author"])
    lines = text[1:].split("\r\n")
    # Every field quoted: Excel in a Russian locale (splitting on «;») sees the payload as
    # one text cell, never `=cmd|…` as a cell of its own.
    for line in (lines[0], lines[2]):
        assert line.startswith('"') and line.endswith('"'), line
    rows = _rows(text)
    assert rows[1][8] == EXCEL  # starts with «…»: text; the «;» inside stays in the cell
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert rows[2][8] == "'=1+1" and rows[2][9] == "'=1+1"  # stripped, then neutralized
    assert rows[1][9] == "'-2+3\n@SUM(A1)"


# ------------------------------------------------------------------ flooding


@pytest.fixture
def anonymous(app, users):
    with app.test_request_context():
        author = accounts.get_user(users["editor"])
        survey = surveys.define_survey(author, {**DEFINITION, "anonymous": True})
        surveys.open_wave(survey, author)
        other = surveys.define_survey(author, {**DEFINITION, "anonymous": True})
        surveys.open_wave(other, author)
        forms = {
            name: {
                f"q{q['single'].id}": str(q["single"].options[0].id),
                f"q{q['scale'].id}": "4",
            }
            for name, q in (("a", questions(survey)), ("b", questions(other)))
        }
        return {
            "code": survey.code,
            "id": survey.id,
            "other": other.code,
            "other_id": other.id,
            "form": forms.__getitem__,
        }


def _post(app, code, form, addr="10.0.0.7"):
    """One respondent on a fresh device (a new cookie jar), like a script clearing cookies."""
    client = app.test_client()
    page = client.get(f"/s/{code}", environ_base={"REMOTE_ADDR": addr})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    data = {**form, "csrf_token": token, "idempotency_key": uuid.uuid4().hex}
    return client.post(f"/s/{code}", data=data, environ_base={"REMOTE_ADDR": addr})


def test_anonymous_responses_are_limited_per_address_and_survey(app, anonymous):
    app.config["KB_SURVEY_RESPONSES_PER_HOUR"] = 3
    sent = [_post(app, anonymous["code"], anonymous["form"]("a")).status_code for _ in range(4)]
    assert sent == [302, 302, 302, 429]
    refused = _post(app, anonymous["code"], anonymous["form"]("a"))
    assert refused.status_code == 429 and "с одного адреса" in refused.get_data(as_text=True)
    # Another address (another school) and another survey from the same address still work.
    assert _post(app, anonymous["code"], anonymous["form"]("a"), "10.0.0.8").status_code == 302
    assert _post(app, anonymous["other"], anonymous["form"]("b")).status_code == 302
    with app.test_request_context():
        assert surveys.wave_counts(surveys.get_survey(anonymous["id"])) != {}
        assert sum(surveys.wave_counts(surveys.get_survey(anonymous["id"])).values()) == 4


def test_api_responses_share_the_limit(app, anonymous):
    app.config["KB_SURVEY_RESPONSES_PER_HOUR"] = 2
    client = app.test_client()
    form = anonymous["form"]("a")
    answers = {k[1:]: v for k, v in form.items()}
    bodies = [
        {"answers": answers, "idempotency_key": uuid.uuid4().hex, "device_id": uuid.uuid4().hex,
         "code": anonymous["code"]}
        for _ in range(3)
    ]  # fmt: skip
    url = f"/api/v1/surveys/{anonymous['id']}/responses"
    there = {"REMOTE_ADDR": "10.0.0.9"}
    statuses = [client.post(url, json=b, environ_base=there).status_code for b in bodies]
    assert statuses == [201, 201, 429]
    got = client.post(url, json=bodies[2], environ_base=there)
    assert got.status_code == 429 and "с одного адреса" in got.json["error"]
    # The replay of an attempt already stored is not a new response: it still gets its answer.
    replay = client.post(url, json=bodies[0], environ_base=there)
    assert replay.status_code == 200 and replay.json["duplicate"] is True


def test_default_limit_is_generous_for_a_school_behind_one_address(app):
    assert app.config["KB_SURVEY_RESPONSES_PER_HOUR"] == 30


# ------------------------------------------------------------------ numbers out of range


HUGE = str(2**31)
VERY_HUGE = str(2**70)


def test_api_numbers_out_of_range_are_4xx(app, client, token_for, anonymous):
    editor = {"Authorization": f"Bearer {token_for('editor')}"}
    sid = anonymous["id"]
    for query in (f"wave={VERY_HUGE}", "wave=-1", "wave=²", f"organization={VERY_HUGE}",
                  f"organization={HUGE}", "organization=-1", "organization=²"):  # fmt: skip
        for path in ("results", "compare", "responses"):
            got = client.get(f"/api/v1/surveys/{sid}/{path}?{query}", headers=editor)
            assert 400 <= got.status_code < 500, (path, query, got.status_code)
            assert got.json["error"]
    form = anonymous["form"]("a")
    answers = {k[1:]: v for k, v in form.items()}
    for org in (2**70, 2**31, -1, "99999999999999999999"):
        body = {"answers": answers, "idempotency_key": uuid.uuid4().hex,
                "device_id": uuid.uuid4().hex, "code": anonymous["code"],
                "organization_id": org}  # fmt: skip
        got = client.post(f"/api/v1/surveys/{sid}/responses", json=body)
        assert got.status_code == 422, (org, got.status_code)
    for key, value in ((VERY_HUGE, 1), (str(questions_single(app, sid)), 2**70)):
        body = {"answers": {**answers, key: value}, "idempotency_key": uuid.uuid4().hex,
                "device_id": uuid.uuid4().hex, "code": anonymous["code"]}  # fmt: skip
        got = client.post(f"/api/v1/surveys/{sid}/responses", json=body)
        assert got.status_code == 422, (key, value, got.status_code)


def questions_single(app, survey_id) -> int:
    with app.test_request_context():
        return questions(surveys.get_survey(survey_id))["single"].id


def test_page_numbers_out_of_range_are_4xx(app, client, auth, users, anonymous):
    auth.login(users["editor"])
    sid = anonymous["id"]
    for query in (f"wave={VERY_HUGE}", "wave=²", f"org={VERY_HUGE}", "org=²", f"org={HUGE}"):
        for path in ("results", "compare", "responses", "export.csv", "export.xlsx"):
            got = client.get(f"/surveys/{sid}/{path}?{query}")
            assert got.status_code < 500, (path, query, got.status_code)
    page = client.get(f"/surveys/{sid}/edit").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for section in ("²", VERY_HUGE):
        data = {"csrf_token": token, "section_id": section, "kind": "scale"}
        got = client.post(f"/surveys/{sid}/questions", data=data)
        assert got.status_code < 500, (section, got.status_code)


def test_openapi_states_ranges(client):
    doc = client.get("/api/v1/openapi.json").json
    for path, item in doc["paths"].items():
        if not path.startswith(("/api/v1/surveys", "/api/v1/consult")):
            continue
        params = list(item.get("parameters", []))
        for operation in item.values():
            if isinstance(operation, dict):
                params += operation.get("parameters", [])
        for param in params:
            schema = param["schema"]
            if schema.get("type") == "integer":
                assert schema.get("minimum") is not None, (path, param)
                assert schema.get("maximum") == 2**31 - 1, (path, param)


def test_infinite_scale_is_422_not_500(client, token_for):
    editor = {"Authorization": f"Bearer {token_for('editor')}", "Content-Type": "application/json"}
    body = (
        '{"title": "Шкала", "sections": [{"questions": [{"kind": "scale", "text": "?", '
        '"scale_max": %s}]}]}'
    )
    for value in ("Infinity", "-Infinity", "NaN", "1e400", str(2**70)):
        got = client.post("/api/v1/surveys", data=body % value, headers=editor)
        assert got.status_code in (400, 422), (value, got.status_code)
