"""JSON API: every endpoint, its statuses and its errors."""

import pytest

from tests.pages.conftest import bearer

BODY = "## Цель\n\nПознакомить детей с роботом.\n\n## Итоги\n\nВсё получилось.\n"


@pytest.fixture
def api(client, seeded, token_for):
    tokens = {role: bearer(token_for(role)) for role in ("admin", "editor", "reader")}

    class Api:
        def put(self, slug, role="editor", **data):
            return client.put(f"/api/v1/pages/{slug}", json=data, headers=tokens[role])

        def get(self, path, role="reader", **kw):
            return client.get(path, headers=tokens[role], **kw)

        def post(self, path, role="editor", **kw):
            return client.post(path, headers=tokens[role], **kw)

        headers = tokens

    return Api()


def create(api, slug="Пчёлки_Bee-Bot", body=BODY, **extra):
    response = api.put(slug, body=body, base_revision=None, **extra)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_get_list(api):
    data = create(api, tags=["Bee-Bot"], space="Растим_инженеров", title="Пчёлки Bee-Bot")
    assert data == {"slug": "Пчёлки_Bee-Bot", "revision": 1, "merged": False}
    page = api.get("/api/v1/pages/Пчёлки_Bee-Bot").get_json()
    assert page["title"] == "Пчёлки Bee-Bot" and page["space"] == "Растим_инженеров"
    assert page["tags"] == ["Bee-Bot"] and page["body"] == BODY and "<h2" in page["html"]
    assert page["author"] == {"name": "Тест editor", "organization": "Сказка"}
    assert page["updated_at"].endswith("Z") and page["revision"] == 1
    listed = api.get("/api/v1/pages?space=Растим_инженеров&tag=Bee-Bot").get_json()["pages"]
    assert [p["slug"] for p in listed] == ["Пчёлки_Bee-Bot"]
    assert set(listed[0]) == {"slug", "title", "space", "tags", "revision", "updated_at"}
    assert api.get("/api/v1/pages?tag=нет").get_json() == {"pages": []}
    assert api.get("/api/v1/pages?space=Нет").status_code == 404
    spaces = api.get("/api/v1/spaces").get_json()["spaces"]
    assert {s["slug"]: s["pages"] for s in spaces} == {"Общее": 0, "Растим_инженеров": 1}


def test_edit_merge_conflict_and_unchanged(api):
    create(api)
    first = api.put("Пчёлки_Bee-Bot", body=BODY.replace("Цель", "Цель занятия"), base_revision=1)
    assert first.status_code == 200
    assert first.get_json() == {"slug": "Пчёлки_Bee-Bot", "revision": 2, "merged": False}
    merged = api.put(
        "Пчёлки_Bee-Bot", role="admin", body=BODY.replace("Всё получилось.", "Ура!"),
        base_revision=1,
    )  # fmt: skip
    assert merged.status_code == 200 and merged.get_json()["merged"] is True
    body = api.get("/api/v1/pages/Пчёлки_Bee-Bot").get_json()["body"]
    assert "Цель занятия" in body and "Ура!" in body
    conflict = api.put("Пчёлки_Bee-Bot", body=BODY.replace("получилось", "Нет"), base_revision=1)
    assert conflict.status_code == 409
    data = conflict.get_json()
    assert data["current_revision"] == 3 and "<<<<<<<" in data["body_with_conflicts"]
    assert data["error"]
    assert any(set(p) == {"mine", "theirs"} for p in data["passages"])
    markers = api.put("Пчёлки_Bee-Bot", body=data["body_with_conflicts"], base_revision=3)
    assert markers.status_code == 422 and "отметки конфликта" in markers.get_json()["error"]
    unchanged = api.put("Пчёлки_Bee-Bot", body=body, base_revision=3)
    assert unchanged.status_code == 200 and unchanged.get_json()["revision"] == 3
    null_base = api.put("Пчёлки_Bee-Bot", body="x", base_revision=None)
    assert null_base.status_code == 409 and null_base.get_json()["current_revision"] == 3


BAD_PUTS = [
    ("Имя", {"body": "x" * (1024 * 1024 + 1), "base_revision": None}, 422),
    ("Имя", {"title": "", "body": "x", "base_revision": None}, 422),
    ("Имя", {"title": "И" * 201, "body": "x", "base_revision": None}, 422),
    ("a..b", {"body": "x", "base_revision": None}, 422),
    ("a%07b", {"body": "x", "base_revision": None}, 422),
    ("Имя", {"body": "x", "base_revision": None, "space": "Нет_такого"}, 422),
    ("Имя", {"body": "x"}, 422),
    ("Имя", {"base_revision": None}, 422),
    ("Имя", {"body": "x", "base_revision": 3}, 422),
    ("Имя", {"body": "x", "base_revision": "1"}, 422),
    ("Имя", {"body": ["x"], "base_revision": None}, 422),
    ("Имя", {"body": "x", "base_revision": None, "tags": "a" * 61}, 422),
]


def test_put_bad_input(api, client):
    for slug, payload, status in BAD_PUTS:
        response = client.put(f"/api/v1/pages/{slug}", json=payload, headers=api.headers["editor"])
        assert response.status_code == status, (slug, payload)
        assert isinstance(response.get_json()["error"], str) and response.get_json()["error"]
    assert api.get("/api/v1/pages").get_json() == {"pages": []}
    assert api.get("/api/v1/changes").get_json() == {"changes": []}


def test_malformed_json(api, client):
    response = client.put(
        "/api/v1/pages/Имя",
        data="{not json",
        headers={**api.headers["editor"], "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and "JSON" in response.get_json()["error"]
    response = client.put("/api/v1/pages/Имя", json=[1, 2], headers=api.headers["editor"])
    assert response.status_code == 400


def test_permissions(api, client, app):
    assert api.put("Имя", role="reader", body="x", base_revision=None).status_code == 403
    anonymous = client.put("/api/v1/pages/Имя", json={"body": "x", "base_revision": None})
    assert anonymous.status_code in (400, 401)  # no token: CSRF or login required
    bad = client.get("/api/v1/pages", headers=bearer("nope"))
    assert bad.status_code == 401
    create(api)
    assert api.post("/api/v1/pages/Пчёлки_Bee-Bot/revert", role="reader",
                    json={"revision": 1}).status_code == 403  # fmt: skip
    assert client.delete("/api/v1/pages/Пчёлки_Bee-Bot",
                         headers=api.headers["editor"]).status_code == 403  # fmt: skip
    app.config["KB_PUBLIC_READ"] = False
    assert client.get("/api/v1/pages").status_code == 401
    app.config["KB_PUBLIC_READ"] = True
    assert client.get("/api/v1/pages").status_code == 200


def test_cookie_session_needs_csrf(api, client, auth, users):
    auth.login(users["editor"])
    response = client.put("/api/v1/pages/Имя", json={"body": "x", "base_revision": None})
    assert response.status_code == 400 and "CSRF" in response.get_json()["error"]
    response = client.put(
        "/api/v1/pages/Имя",
        json={"body": "x", "base_revision": None},
        headers={"X-CSRFToken": auth.csrf()},
    )
    assert response.status_code == 201


def test_revisions_diff_revert(api):
    create(api)
    api.put("Пчёлки_Bee-Bot", body=BODY.replace("Всё получилось.", "Дети запомнили стрелки."),
            base_revision=1, comment="итоги")  # fmt: skip
    revisions = api.get("/api/v1/pages/Пчёлки_Bee-Bot/revisions").get_json()["revisions"]
    assert [r["revision"] for r in revisions] == [2, 1]
    assert revisions[0]["comment"] == "итоги" and revisions[0]["author"]["name"] == "Тест editor"
    assert {"revision", "author", "comment", "created_at", "size"} <= set(revisions[0])
    diff = api.get("/api/v1/pages/Пчёлки_Bee-Bot/diff?from=1&to=2").get_json()
    assert diff["from"] == 1 and diff["to"] == 2
    assert "-Всё получилось." in diff["unified"] and "+Дети запомнили стрелки." in diff["unified"]
    assert "<ins>" in diff["html"] and "<del>" in diff["html"]
    assert api.get("/api/v1/pages/Пчёлки_Bee-Bot/diff?from=1&to=9").status_code == 404
    assert api.get("/api/v1/pages/Пчёлки_Bee-Bot/diff?from=x").status_code == 400
    revert = api.post("/api/v1/pages/Пчёлки_Bee-Bot/revert", json={"revision": 1})
    assert revert.status_code == 200 and revert.get_json() == {"revision": 3}
    assert api.get("/api/v1/pages/Пчёлки_Bee-Bot").get_json()["body"] == BODY
    assert (
        api.post("/api/v1/pages/Пчёлки_Bee-Bot/revert", json={"revision": "1"}).status_code == 422
    )
    assert api.post("/api/v1/pages/Пчёлки_Bee-Bot/revert", json={"revision": 42}).status_code == 404
    assert api.post("/api/v1/pages/Нет/revert", json={"revision": 1}).status_code == 404


def test_backlinks_and_redirect_after_rename(api, app):
    create(api, slug="Цель")
    create(api, slug="Ссылка", body="См. [[Цель]]")
    assert api.get("/api/v1/pages/Цель/backlinks").get_json() == {"pages": ["Ссылка"]}
    assert api.get("/api/v1/pages/Нет/backlinks").status_code == 404
    from kb.accounts import service as accounts
    from kb.pages import service as pages

    with app.test_request_context():
        page = pages.find_page("Цель")
        pages.rename_page(page, "Новая цель", accounts.get_user("editor@example.org"))
    moved = api.get("/api/v1/pages/Цель").get_json()
    assert moved["slug"] == "Новая_цель"
    assert api.get("/api/v1/pages/Новая_цель/backlinks").get_json() == {"pages": ["Ссылка"]}


def test_delete_restore(api, client):
    create(api)
    response = client.delete("/api/v1/pages/Пчёлки_Bee-Bot", headers=api.headers["admin"])
    assert response.status_code == 200 and response.get_json()["revision"] == 2
    assert api.get("/api/v1/pages/Пчёлки_Bee-Bot").status_code == 404
    assert api.put("Пчёлки_Bee-Bot", body="x", base_revision=2).status_code == 404
    response = api.post("/api/v1/pages/Пчёлки_Bee-Bot/restore", role="admin")
    assert response.status_code == 200 and response.get_json()["revision"] == 3
    assert api.post("/api/v1/pages/Пчёлки_Bee-Bot/restore", role="admin").status_code == 409


def test_changes(api):
    create(api, slug="Первая")
    create(api, slug="Вторая", space="Растим_инженеров")
    changes = api.get("/api/v1/changes").get_json()["changes"]
    assert [c["slug"] for c in changes] == ["Вторая", "Первая"]
    assert changes[0]["kind"] == "create" and changes[0]["delta"] == changes[0]["size"]
    one = api.get("/api/v1/changes?space=Растим_инженеров&limit=1").get_json()["changes"]
    assert [c["slug"] for c in one] == ["Вторая"]
    assert api.get("/api/v1/changes?limit=0").status_code == 422
    assert api.get("/api/v1/changes?limit=abc").status_code == 400
    assert api.get("/api/v1/changes?space=Нет").status_code == 404


def test_preview_uses_the_same_pipeline(api):
    response = api.post(
        "/api/v1/preview", json={"body": "**жирно** [[Нет такой]] <script>x</script>"}
    )
    html = response.get_json()["html"]
    assert "<strong>жирно</strong>" in html and "wikilink missing" in html and "<script" not in html
    assert api.post("/api/v1/preview", role="reader", json={"body": "x"}).status_code == 403


def test_openapi_describes_the_wiki(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/pages",
        "/api/v1/pages/{slug}",
        "/api/v1/pages/{slug}/revisions",
        "/api/v1/pages/{slug}/diff",
        "/api/v1/pages/{slug}/revert",
        "/api/v1/pages/{slug}/backlinks",
        "/api/v1/pages/{slug}/attachments",
        "/api/v1/changes",
    ):
        assert path in document["paths"], path
    assert "409" in document["paths"]["/api/v1/pages/{slug}"]["put"]["responses"]
    assert "EditConflict" in document["components"]["schemas"]


def test_unknown_page_is_json_404(api):
    response = api.get("/api/v1/pages/Нет_такой")
    assert response.status_code == 404 and "не найдена" in response.get_json()["error"]
