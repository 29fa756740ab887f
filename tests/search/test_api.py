"""The JSON API, the search page, /healthz and who may search."""

import re
from html import unescape

import pytest

from kb import create_app
from kb.database import db, upgrade_database
from tests.search.conftest import PASSWORD, add_page, catch_up, make_world


@pytest.fixture
def indexed(app, world):
    with app.app_context():
        add_page("Робототехника для малышей", "Занятия с Bee-Bot: 5 < 7 & LEGO.", tags=["роботы"])
        add_page("Наураша: свет", "Опыты со светом: датчик освещённости.", space="Наураша")
        catch_up()
    return app


def login(client, email):
    from tests.conftest import csrf_token

    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code in (302, 303)


def test_search_api_shape(client, indexed):
    data = client.get("/api/v1/search?q=робототехнике").get_json()
    assert set(data) == {"total", "results", "facets", "suggestion"}
    assert data["total"] == 1 and data["suggestion"] is None
    (hit,) = data["results"]
    assert set(hit) == {"slug", "title", "space", "snippet", "score", "attachment"}
    assert hit["slug"] == "Робототехника_для_малышей"
    assert hit["space"] == "Общее" and hit["attachment"] is None
    assert isinstance(hit["score"], float) and hit["score"] > 0
    assert set(data["facets"]) == {"space", "tag", "org", "type"}
    assert data["facets"]["tag"] == {"роботы": 1}
    assert data["facets"]["org"] == {"Сказка": 1}


def test_snippet_is_escaped_html_with_marks(client, indexed):
    hit = client.get("/api/v1/search?q=Bee-Bot").get_json()["results"][0]
    assert "<mark>Bee-Bot</mark>" in hit["snippet"]
    assert "&lt;" in hit["snippet"] and "&amp;" in hit["snippet"]


def test_filters_pagination_and_suggestion(client, indexed):
    assert client.get("/api/v1/search?q=опыты&space=Наураша").get_json()["total"] == 1
    assert client.get("/api/v1/search?q=опыты&space=Общее").get_json()["total"] == 0
    assert client.get("/api/v1/search?q=опыты&type=attachment").get_json()["total"] == 0
    assert client.get("/api/v1/search?q=опыты&org=Сказка").get_json()["total"] == 1
    data = client.get("/api/v1/search?q=опыты&per_page=1&page=2").get_json()
    assert data["total"] == 1 and data["results"] == []
    assert client.get("/api/v1/search?q=датчек").get_json()["suggestion"] == "датчик"
    assert client.get("/api/v1/search?q=").get_json() == {
        "total": 0,
        "results": [],
        "facets": {},
        "suggestion": None,
    }


@pytest.mark.parametrize(
    "query",
    ["page=x", "per_page=abc", "type=image", "sort=random"],
)
def test_bad_parameters_are_a_clear_400(client, indexed, query):
    response = client.get(f"/api/v1/search?q=опыты&{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_out_of_range_numbers_are_clamped(client, indexed):
    data = client.get("/api/v1/search?q=опыты&per_page=1000&page=0").get_json()
    assert data["total"] == 1


def test_suggest_api(client, indexed):
    from urllib.parse import unquote

    (title,) = client.get("/api/v1/search/suggest?q=робот").get_json()["titles"]
    assert title["slug"] == "Робототехника_для_малышей"
    assert title["title"] == "Робототехника для малышей"
    assert unquote(title["url"]) == "/wiki/Робототехника_для_малышей"
    assert client.get("/api/v1/search/suggest?q=р").get_json() == {"titles": []}


def test_search_page(client, indexed):
    html = client.get("/search?q=опыты").get_data(as_text=True)
    assert "Наураша: свет" in html and "<mark>" in html
    # «Найдено 3 материала», never «3 материалов» (three Russian plural forms)
    found, count, noun = re.search(r"(Найден\w*) (\d+) (материал\w*)", html).groups()
    n = int(count)
    one = n % 10 == 1 and n % 100 != 11
    few = 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14
    assert (found, noun) == (
        ("Найден", "материал") if one else ("Найдено", "материала" if few else "материалов")
    ), html
    assert 'class="search-facets"' in html
    assert "Наураша в стране Наурандии" in html  # the space facet shows the title
    assert client.get("/search").status_code == 200
    # A typo whose correction finds something: the corrected results at once, with a way
    # back to the word as typed (which only suggests).
    html = unescape(client.get("/search?q=датчек").get_data(as_text=True))
    assert "Показаны результаты по запросу «датчик»." in html
    assert "Искать «датчек», как написано" in html and "<mark>" in html
    html = unescape(client.get("/search?q=датчек&exact=1").get_data(as_text=True))
    assert "Ничего не найдено" in html and "Возможно, вы имели в виду" in html
    html = client.get("/search?q=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)" not in html


def test_every_page_loads_the_suggestion_script(client, indexed):
    html = client.get("/").get_data(as_text=True)
    assert "/static/js/search.js" in html
    for path in ("/static/js/search.js", "/static/css/search.css"):
        response = client.get(path)
        assert response.status_code == 200
        response.close()


def test_healthz_reports_the_index(client, indexed):
    data = client.get("/healthz").get_json()
    assert data["index"] == "ok" and data["index_lag"] == 0
    with indexed.app_context():
        add_page("Ещё страница", "Текст")
        db.session.commit()
    assert client.get("/healthz").get_json()["index_lag"] == 1


def test_openapi_describes_search(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/search" in document["paths"]
    assert "/api/v1/search/suggest" in document["paths"]
    assert "SearchResults" in document["components"]["schemas"]


@pytest.fixture
def private_app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "KB_DATA_DIR": tmp_path / "private",
            "KB_ASYNC_MODE": "threading",
            "KB_PUBLIC_READ": False,
        }
    )
    with app.app_context():
        upgrade_database()
    make_world(app)
    with app.app_context():
        add_page("Внутренний план", "Только для педагогов сети.")
        catch_up()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(
    "path", ["/api/v1/search?q=план", "/api/v1/search/suggest?q=внутр", "/search?q=план"]
)
def test_guests_cannot_search_without_public_read(private_app, path):
    client = private_app.test_client()
    assert client.get(path).status_code == 401
    login(client, "parent@example.org")  # a reader may
    assert client.get(path).status_code == 200


def test_guests_search_when_public_read_is_on(client, indexed):
    assert client.get("/api/v1/search?q=опыты").get_json()["total"] == 1


def test_bearer_token_searches(private_app):
    from kb.accounts import service as accounts

    with private_app.app_context():
        token = accounts.create_token(accounts.get_user("parent@example.org"), "t")
    client = private_app.test_client()
    response = client.get("/api/v1/search?q=план", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json()["total"] == 1
