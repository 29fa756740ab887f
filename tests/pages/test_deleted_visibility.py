"""A deleted page is seen only by admins (issue 14).

Every route that shows a page, an old revision, its history, a diff, its files, its
backlinks or its changes answers 404 to guests, readers and editors — as for a page that
never existed, without a redirect that would tell where it went — and 200 to admins. Lists
(recent changes, feeds, spaces, tags, search, backlinks of other pages) leave it out for
everyone but admins.
"""

import io

import pytest

from kb.accounts import service as accounts
from kb.pages import service as pages
from kb.search import service as search
from tests.pages.module_app import ROLES, module_app, signed_in_clients

SECRET = "zebrabody"  # a word only the deleted page's text has
TITLES = ("Zebra plan", "Zebra_plan", "Old zebra", "Old_zebra", "zebratag")


@pytest.fixture(scope="module")
def world(tmp_path_factory, postgres):
    """One app for the module (the tests only read): a page with two text revisions, a
    rename, a file, a tag and a link to a live page — then deleted by an admin."""
    with module_app(tmp_path_factory, postgres, "deleted") as (app, tokens):
        yield build_world(app, tokens)


def build_world(app, tokens) -> dict:
    client = app.test_client()

    def put(slug, body, base, **extra):
        payload = {"body": body, "base_revision": base, **extra}
        response = client.put(f"/api/v1/pages/{slug}", json=payload, headers=tokens["editor"])
        assert response.status_code in (200, 201), response.get_json()

    put("Соседка", "Живая страница.", None, space="Растим_инженеров")
    put("Old_zebra", f"Первая версия {SECRET}.", None, space="Растим_инженеров",
        tags=["zebratag"])  # fmt: skip
    put("Old_zebra", f"Вторая версия {SECRET}, см. [[Соседка]].", 1)
    with app.test_request_context():
        editor = accounts.get_user("editor@example.org")
        pages.rename_page(pages.find_page("Old_zebra"), "Zebra plan", editor)
    upload = client.post(
        "/api/v1/pages/Zebra_plan/attachments",
        data={"file": (io.BytesIO(f"Файл {SECRET}".encode()), "note.txt")},
        headers=tokens["editor"],
    )
    assert upload.status_code == 201, upload.get_json()
    with app.app_context():
        search.catch_up()
    # A guest's view of the live page is kept in the guest cache; deletion must drop it.
    assert client.get("/wiki/Zebra_plan").status_code == 200
    response = client.delete("/api/v1/pages/Zebra_plan", headers=tokens["admin"])
    assert response.status_code == 200
    return {"file": upload.get_json()["url"], "as": signed_in_clients(app)}


DETAIL_ROUTES = [
    "/wiki/Zebra_plan",
    "/wiki/Zebra_plan?revision=1",
    "/wiki/Zebra_plan?revision=2",
    "/wiki/Old_zebra",
    "/wiki/Zebra_plan/history",
    "/wiki/Old_zebra/history",
    "/wiki/Zebra_plan/diff",
    "/wiki/Zebra_plan/diff?from=1&to=2",
    "/wiki/Old_zebra/diff?from=1&to=2",
    "{file}",
    "{file}?v=1",
    "/api/v1/pages/Zebra_plan",
    "/api/v1/pages/Old_zebra",
    "/api/v1/pages/Zebra_plan/revisions",
    "/api/v1/pages/Old_zebra/revisions",
    "/api/v1/pages/Zebra_plan/diff",
    "/api/v1/pages/Zebra_plan/diff?from=1&to=2",
    "/api/v1/pages/Zebra_plan/backlinks",
    "/api/v1/pages/Zebra_plan/attachments",
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", DETAIL_ROUTES)
def test_deleted_page_routes_are_for_admins_only(world, role, route):
    path = route.format(**world)
    browser = world["as"][role]
    if role == "admin":
        response = browser.get(path, follow_redirects=True)
        response.close()  # a download is a file left open until then
        assert response.status_code == 200, path
        return
    response = browser.get(path)
    response.close()
    assert response.status_code == 404, (role, path, response.status_code)
    assert "Location" not in response.headers
    text = response.get_data(as_text=True)
    assert SECRET not in text
    if "Old_zebra" in path:  # an old name must not tell the page's new one
        assert "Zebra plan" not in text and "Zebra_plan" not in text


LIST_ROUTES = [
    "/",
    "/recent",
    "/recent?space=Растим_инженеров",
    "/recent.atom",
    "/spaces/Растим_инженеров/recent.atom",
    "/spaces/Растим_инженеров",
    "/spaces",
    "/tags",
    "/tags/zebratag",
    "/wiki/Соседка",
    "/api/v1/pages/Соседка/backlinks",
    "/api/v1/pages",
    "/api/v1/pages?tag=zebratag",
    "/api/v1/changes",
    "/api/v1/changes?space=Растим_инженеров",
    f"/search?q={SECRET}",
    "/search?q=zebra",
    f"/api/v1/search?q={SECRET}",
    "/api/v1/search?q=note",
    "/api/v1/search/suggest?q=Zebr",
]


@pytest.mark.parametrize("role", ("guest", "reader", "editor"))
@pytest.mark.parametrize("route", LIST_ROUTES)
def test_lists_leave_a_deleted_page_out(world, role, route):
    response = world["as"][role].get(route)
    assert response.status_code in (200, 404), (route, response.status_code)
    text = response.get_data(as_text=True)
    for echoed in ("q=", "/tags/"):  # what was asked for is shown back
        if echoed in route:
            text = text.replace(route.split(echoed)[1], "")
    for leak in (*TITLES, SECRET, "note.txt"):
        assert leak not in text, (role, route, leak)


@pytest.mark.parametrize(
    "route", ["/recent", "/recent.atom", "/spaces/Растим_инженеров/recent.atom", "/api/v1/changes"]
)
def test_admins_still_see_a_deleted_pages_changes(world, route):
    response = world["as"]["admin"].get(route)
    assert response.status_code == 200 and "Zebra plan" in response.get_data(as_text=True)


def test_admin_sees_the_deleted_page_with_a_restore_button(world):
    html = world["as"]["admin"].get("/wiki/Zebra_plan").get_data(as_text=True)
    assert "Эта страница удалена" in html and SECRET in html
    assert "/wiki/Zebra_plan/restore" in html
    data = world["as"]["admin"].get("/api/v1/pages/Zebra_plan").get_json()
    assert data["deleted"] is True and SECRET in data["body"]
