"""Numbers from outside stay in the database's range (issue 13).

Schemathesis sent revision numbers past 64 bits and got 500s: the database driver overflowed.
Every number the wiki reads from a request (revision numbers, from/to, base_revision, limits,
template and attachment version numbers, author and organization filters) is checked first:
below 1 it is refused with 422 and a readable message, past 2**31-1 it names nothing — the same
answer as for a number in range that names nothing. The API document states the ranges.
"""

import io

import pytest

from tests.conftest import csrf_token
from tests.pages.module_app import module_app, signed_in_clients

HUGE = "3025364363266472332805258870784"  # past 64 bits: SQLite's driver overflows
BIG = str(2**31)  # past the 32-bit columns of PostgreSQL
MANY_DIGITS = "9" * 5000  # more digits than int() accepts
PAGE = "/wiki/Пчёлки"
API = "/api/v1/pages/Пчёлки"


@pytest.fixture(scope="module")
def wiki(tmp_path_factory, postgres):
    """A page with two revisions and a file, shared by the module: every request here is
    refused or only reads, so no test changes what the next one sees."""
    with module_app(tmp_path_factory, postgres, "ranges") as (app, headers):
        client = app.test_client()
        for body, base in (("Первая версия.", None), ("Вторая версия.", 1)):
            response = client.put(API, json={"body": body, "base_revision": base},
                                  headers=headers["editor"])  # fmt: skip
            assert response.status_code in (200, 201), response.get_json()
        upload = client.post(
            f"{API}/attachments",
            data={"file": (io.BytesIO("Текст".encode()), "note.txt")},
            headers=headers["editor"],
        )
        assert upload.status_code == 201
        yield {"headers": headers, "file": upload.get_json()["url"], "as": signed_in_clients(app)}


@pytest.fixture
def client(wiki):
    return wiki["as"]["guest"]


def _status(response) -> int:
    response.close()
    return response.status_code


def _readable_json_error(response) -> str:
    message = response.get_json()["error"]
    assert message and "Traceback" not in message
    return message


API_QUERIES = [
    (f"{API}/diff?from={HUGE}&to=1", 404),
    (f"{API}/diff?from=1&to={HUGE}", 404),
    (f"{API}/diff?from={BIG}", 404),
    (f"{API}/diff?to={MANY_DIGITS}", 404),
    (f"{API}/diff?from=-1&to=2", 422),
    (f"{API}/diff?from=0&to=2", 422),
    (f"{API}/diff?from=1&to=-{HUGE}", 422),
    (f"{API}/diff?from=abc", 400),
    (f"{API}/diff?from=%C2%B2", 400),  # "²" is a digit to str.isdigit(), not to int()
    (f"/api/v1/changes?limit={HUGE}", 422),
    ("/api/v1/changes?limit=-1", 422),
    (f"/api/v1/changes?limit={MANY_DIGITS}", 422),
    (f"/api/v1/search?q=версия&page={HUGE}", 200),  # clamped, as documented
    (f"/api/v1/search?q=версия&per_page={HUGE}", 200),
]


@pytest.mark.parametrize(("path", "status"), API_QUERIES)
def test_api_query_numbers_out_of_range(client, wiki, path, status):
    response = client.get(path, headers=wiki["headers"]["reader"])
    assert response.status_code == status, (path, response.get_json())
    if status != 200:
        _readable_json_error(response)


@pytest.mark.parametrize(
    ("revision", "status"),
    [(int(HUGE), 404), (2**63, 404), (2**31, 404), (2**31 - 1, 404), (0, 422), (-3, 422),
     (-int(HUGE), 422)],
)  # fmt: skip
def test_api_revert_revision_out_of_range(client, wiki, revision, status):
    response = client.post(f"{API}/revert", json={"revision": revision},
                           headers=wiki["headers"]["editor"])  # fmt: skip
    assert response.status_code == status, response.get_json()
    assert "версии" in _readable_json_error(response) or "revision" in response.get_json()["error"]


@pytest.mark.parametrize("base", [int(HUGE), 2**31, -1, 0])
def test_api_base_revision_out_of_range(client, wiki, base):
    response = client.put(API, json={"body": "Третья.", "base_revision": base},
                          headers=wiki["headers"]["editor"])  # fmt: skip
    assert response.status_code == 422, response.get_json()
    assert "base_revision" in _readable_json_error(response)


def test_file_version_and_ids_out_of_range(client, wiki):
    assert _status(client.get(f"{wiki['file']}?v={HUGE}")) == 404
    assert _status(client.get(f"{wiki['file']}?v=-1")) == 422
    assert _status(client.get(f"{wiki['file']}?v=1")) == 200
    assert _status(client.get(f"/files/{HUGE}/note.txt")) == 404


HTML_QUERIES = [
    (f"{PAGE}/diff?from={HUGE}", 404),
    (f"{PAGE}/diff?from=1&to={HUGE}", 404),
    (f"{PAGE}/diff?to={BIG}", 404),
    (f"{PAGE}/diff?from={MANY_DIGITS}", 404),
    (f"{PAGE}/diff?from=-1&to=2", 422),
    (f"{PAGE}/diff?from=1&to=2", 200),
    (f"{PAGE}?revision={HUGE}", 404),
    (f"{PAGE}?revision={BIG}", 404),
    (f"{PAGE}?revision=-2", 422),
    (f"{PAGE}?revision=1", 200),
    (f"/recent?author={HUGE}", 200),
    (f"/recent?org={HUGE}", 200),
    ("/recent?author=-1", 422),
    (f"/recent?limit={HUGE}", 200),  # clamped to 500
]


@pytest.mark.parametrize(("path", "status"), HTML_QUERIES)
def test_html_query_numbers_out_of_range(client, wiki, path, status):
    response = client.get(path)
    assert response.status_code == status, path
    assert "Внутренняя ошибка" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "field", "value", "status"),
    [
        (f"{PAGE}/revert", "revision", HUGE, 404),
        (f"{PAGE}/revert", "revision", BIG, 404),
        (f"{PAGE}/revert", "revision", "-1", 422),
        (f"{PAGE}/revert", "revision", "²", 400),
        (f"{PAGE}/edit", "base_revision", HUGE, 422),
        (f"{PAGE}/edit", "base_revision", "-1", 422),
        ("/new", "template", HUGE, 302),  # names no template: the editor opens without one
        ("/new", "template", "²", 422),
    ],
)
def test_html_form_numbers_out_of_range(wiki, path, field, value, status):
    editor = wiki["as"]["editor"]
    token = csrf_token(editor, "/")
    data = {field: value, "csrf_token": token, "body": "Третья.", "title": "Новая"}
    response = editor.post(path, data=data)
    assert response.status_code == status, (path, field, value)
    assert "Внутренняя ошибка" not in response.get_data(as_text=True)
    if status == 302:
        assert editor.get(response.headers["Location"]).status_code == 200


def test_editor_template_number_out_of_range(wiki):
    editor = wiki["as"]["editor"]
    assert editor.get(f"{PAGE}/edit?template={HUGE}").status_code == 200
    assert editor.get(f"{PAGE}/edit?template=-1").status_code == 422


def test_openapi_states_the_ranges(client):
    document = client.get("/api/v1/openapi.json").get_json()
    top = 2**31 - 1

    def schema_of(path, name):
        for parameter in document["paths"][path]["get"].get("parameters", []) + document["paths"][
            path
        ].get("parameters", []):
            if parameter["name"] == name:
                return parameter["schema"]
        raise AssertionError(f"{path} has no parameter {name}")

    for name in ("from", "to"):
        schema = schema_of("/api/v1/pages/{slug}/diff", name)
        assert schema["minimum"] == 1 and schema["maximum"] == top
    limit = schema_of("/api/v1/changes", "limit")
    assert limit["minimum"] == 1 and limit["maximum"] == 200
    revert = document["paths"]["/api/v1/pages/{slug}/revert"]["post"]["requestBody"]
    revision = revert["content"]["application/json"]["schema"]["properties"]["revision"]
    assert revision["minimum"] == 1 and revision["maximum"] == top
    base = document["components"]["schemas"]["PagePut"]["properties"]["base_revision"]
    assert base["minimum"] == 1 and base["maximum"] == top
    diff_responses = document["paths"]["/api/v1/pages/{slug}/diff"]["get"]["responses"]
    assert "422" in diff_responses
