"""HTML pages: reading, the editor with templates and conflicts, history, spaces, feeds."""

import re
import xml.etree.ElementTree as etree
from html.parser import HTMLParser

import pytest

from tests.pages.conftest import bearer

BODY = "## Цель\n\nПознакомить детей с роботом.\n\n## Итоги\n\nВсё получилось.\n"


@pytest.fixture
def wiki(client, seeded, token_for):
    headers = bearer(token_for("editor"))
    for slug, body, space in (
        ("Пчёлки_Bee-Bot", BODY + "\nСм. [[Растим инженеров]] и [[Новая страница]].", None),
        ("Растим_инженеров", "Клуб. [[Пчёлки Bee-Bot]]", "Растим_инженеров"),
    ):
        payload = {"body": body, "base_revision": None, "tags": ["Bee-Bot"]}
        if space:
            payload["space"] = space
        assert client.put(f"/api/v1/pages/{slug}", json=payload, headers=headers).status_code == 201
    return headers


class ExecutableFinder(HTMLParser):
    """Anything a strict CSP would block or that could execute: parsed, not grepped."""

    def __init__(self):
        super().__init__()
        self.found: list = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("iframe", "object", "embed") or (
            tag == "script" and not (attributes.get("src") or "").startswith("/static/")
        ):
            self.found.append(tag)
        for name, value in attrs:
            dangerous_url = re.match(r"\s*(javascript|data|vbscript):", value or "", re.I)
            if name.startswith("on") or name == "style" or dangerous_url:
                self.found.append((tag, name, value))


def assert_csp_clean(html: str) -> None:
    checker = ExecutableFinder()
    checker.feed(html)
    assert checker.found == []


def test_view_page_with_links_tags_backlinks(client, wiki):
    html = client.get("/wiki/Пчёлки_Bee-Bot").get_data(as_text=True)
    assert "<h1>Пчёлки Bee-Bot</h1>" in html
    assert 'class="wikilink missing"' in html and "Новая страница" in html
    assert 'href="/tags/Bee-Bot"' in html
    assert "Ссылки сюда" in html and "/wiki/%D0%A0%D0%B0%D1%81%D1%82%D0%B8%D0%BC" in html
    assert 'id="presence"' in html and "socket.io.min.js" in html
    assert_csp_clean(html)


def test_every_wiki_page_is_csp_clean_and_russian(client, wiki, auth, users):
    auth.login(users["admin"])
    paths = [
        "/",
        "/wiki/Пчёлки_Bee-Bot",
        "/wiki/Пчёлки_Bee-Bot/edit",
        "/wiki/Новая_страница/edit?template=1",
        "/wiki/Пчёлки_Bee-Bot/history",
        "/wiki/Пчёлки_Bee-Bot/diff?from=1&to=1",
        "/wiki/Пчёлки_Bee-Bot/rename",
        "/wiki/Пчёлки_Bee-Bot?revision=1",
        "/new",
        "/spaces",
        "/spaces/Растим_инженеров",
        "/spaces/Растим_инженеров/edit",
        "/recent",
        "/tags",
        "/tags/Bee-Bot",
        "/templates",
        "/templates/1",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert 'lang="ru"' in html
        assert_csp_clean(html)
        assert "pages.css" in html, path


def test_missing_page_offers_creation(client, wiki, auth, users):
    response = client.get("/wiki/Нет_такой")
    assert response.status_code == 404 and "Такой страницы пока нет" in response.get_data(True)
    auth.login(users["editor"])
    html = client.get("/wiki/Нет_такой").get_data(as_text=True)
    assert "/wiki/%D0%9D%D0%B5%D1%82_%D1%82%D0%B0%D0%BA%D0%BE%D0%B9/edit" in html


def test_spaces_in_urls_redirect_to_the_slug(client, wiki):
    response = client.get("/wiki/Пчёлки Bee-Bot")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/wiki/%D0%9F%D1%87%D1%91%D0%BB%D0%BA%D0%B8_Bee-Bot"
    )


def test_create_page_from_template_in_the_editor(client, wiki, auth, users):
    auth.login(users["editor"])
    response = client.post("/new", data={"title": "Второе занятие", "space": "Растим_инженеров",
                                         "template": "1", "csrf_token": auth.csrf()})  # fmt: skip
    assert response.status_code == 302
    editor = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "## Цель" in editor and "## Ход занятия" in editor  # the template's body
    assert 'value="Растим_инженеров" selected' in editor
    assert "Начать с шаблона" not in editor  # chosen on /new: not offered a second time
    blank = client.post("/new", data={"title": "Третье занятие", "csrf_token": auth.csrf()})
    editor = client.get(blank.headers["Location"]).get_data(as_text=True)
    assert "Начать с шаблона" not in editor and "## Ход занятия" not in editor
    direct = client.get("/wiki/Четвёртое_занятие/edit").get_data(as_text=True)
    assert "Начать с шаблона" in direct  # a red link straight to the editor still offers them
    response = client.post(
        "/wiki/Второе_занятие/edit",
        data={
            "title": "Второе занятие",
            "body": "## Цель\n\nПовторить повороты.\n",
            "space": "Растим_инженеров",
            "tags": "Bee-Bot, повороты",
            "comment": "первая версия",
            "base_revision": "",
            "csrf_token": auth.csrf(),
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Страница создана" in html and "Повторить повороты" in html
    assert "#повороты" in html


def test_conflict_keeps_the_persons_text_in_the_editor(client, wiki, auth, users, token_for):
    auth.login(users["editor"])
    client.put(
        "/api/v1/pages/Пчёлки_Bee-Bot",
        json={"body": BODY.replace("Всё получилось.", "Коллега дописала."), "base_revision": 1},
        headers=bearer(token_for("admin")),
    )
    mine = BODY.replace("Всё получилось.", "Моя версия итогов.")
    response = client.post(
        "/wiki/Пчёлки_Bee-Bot/edit",
        data={"body": mine, "base_revision": "1", "comment": "", "csrf_token": auth.csrf()},
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Конфликт правок" in html
    textarea = re.search(r'<textarea id="body"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert "Моя версия итогов." in textarea and "Коллега" not in textarea
    assert "Коллега дописала." in html  # the saved version is shown too
    assert '<input type="hidden" name="base_revision" value="2">' in html
    assert_csp_clean(html)


def test_merged_save_and_unchanged_save_messages(client, wiki, auth, users, token_for):
    auth.login(users["editor"])
    client.put(
        "/api/v1/pages/Пчёлки_Bee-Bot",
        json={"body": BODY.replace("## Цель", "## Цель занятия") + "\nСм. [[Растим инженеров]] "
              "и [[Новая страница]].", "base_revision": 1},
        headers=bearer(token_for("admin")),
    )  # fmt: skip
    page = client.get("/api/v1/pages/Пчёлки_Bee-Bot?revision=1").get_json()
    mine = BODY.replace("Всё получилось.", "Дети довольны.") + (
        "\nСм. [[Растим инженеров]] и [[Новая страница]]."
    )
    response = client.post(
        "/wiki/Пчёлки_Bee-Bot/edit",
        data={"body": mine, "base_revision": "1", "csrf_token": auth.csrf()},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "объединены" in html and "Цель занятия" in html and "Дети довольны" in html
    assert page["revision"] == 2
    body = client.get("/api/v1/pages/Пчёлки_Bee-Bot").get_json()["body"]
    response = client.post(
        "/wiki/Пчёлки_Bee-Bot/edit",
        data={"body": body, "base_revision": "3", "csrf_token": auth.csrf()},
        follow_redirects=True,
    )
    assert "Изменений нет" in response.get_data(as_text=True)


def test_editor_errors_keep_text(client, wiki, auth, users):
    auth.login(users["editor"])
    response = client.post(
        "/wiki/Пчёлки_Bee-Bot/edit",
        data={"body": "x" * (1024 * 1024 + 5), "base_revision": "1", "csrf_token": auth.csrf()},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "больше 1 МБ" in html
    assert ">" + "x" * (1024 * 1024 + 5) + "</textarea>" in html  # nothing typed is lost


FORBIDDEN = [
    (None, "/wiki/Пчёлки_Bee-Bot/edit", "get", 401),
    ("reader", "/wiki/Пчёлки_Bee-Bot/edit", "get", 403),
    ("reader", "/new", "get", 403),
    ("editor", "/templates", "get", 403),
    ("editor", "/spaces/Растим_инженеров/edit", "get", 403),
    ("editor", "/wiki/Пчёлки_Bee-Bot/delete", "post", 403),
    ("reader", "/wiki/Пчёлки_Bee-Bot/revert", "post", 403),
]


def test_permissions(client, wiki, auth, users):
    for role, path, method, status in FORBIDDEN:
        if role:
            auth.login(users[role])
        data = {"csrf_token": auth.csrf()} if method == "post" else None
        response = getattr(client, method)(path, data=data)
        assert response.status_code == status, (role, path)
        if role:
            auth.logout()


def test_history_diff_revert_rename_delete_restore(client, wiki, auth, users, token_for):
    client.put(
        "/api/v1/pages/Пчёлки_Bee-Bot",
        json={"body": BODY.replace("Всё получилось.", "Дети быстро запомнили стрелки."),
              "base_revision": 1, "comment": "итоги"},
        headers=bearer(token_for("admin")),
    )  # fmt: skip
    history = client.get("/wiki/Пчёлки_Bee-Bot/history").get_data(as_text=True)
    assert "итоги" in history and "Тест admin" in history and "(Сказка)" in history
    diff = client.get("/wiki/Пчёлки_Bee-Bot/diff?from=1&to=2").get_data(as_text=True)
    assert "<ins>" in diff and "запомнили" in diff and "Сравнение версий 1 и 2" in diff
    auth.login(users["admin"])
    response = client.post("/wiki/Пчёлки_Bee-Bot/revert",
                           data={"revision": "1", "csrf_token": auth.csrf()})  # fmt: skip
    assert response.status_code == 302
    response = client.post(
        "/wiki/Пчёлки_Bee-Bot/rename",
        data={"title": "Пчёлки Bee-Bot: занятие 1", "space": "Общее", "csrf_token": auth.csrf()},
    )
    assert response.status_code == 302
    old = client.get("/wiki/Пчёлки_Bee-Bot")
    assert (
        old.status_code == 302
        and "%D0%B7%D0%B0%D0%BD%D1%8F%D1%82%D0%B8%D0%B5_1" in (old.headers["Location"])
    )
    response = client.post("/wiki/Пчёлки_Bee-Bot:_занятие_1/delete",
                           data={"csrf_token": auth.csrf()}, follow_redirects=True)  # fmt: skip
    assert "Эта страница удалена" in response.get_data(as_text=True)
    response = client.post("/wiki/Пчёлки_Bee-Bot:_занятие_1/restore",
                           data={"csrf_token": auth.csrf()}, follow_redirects=True)  # fmt: skip
    assert "Страница восстановлена" in response.get_data(as_text=True)


def test_spaces_admin(client, wiki, auth, users):
    auth.login(users["admin"])
    response = client.post(
        "/spaces",
        data={"title": "Цифровая лаборатория", "description": "Датчики",
              "csrf_token": auth.csrf()},
    )  # fmt: skip
    assert response.status_code == 302
    response = client.post(
        "/spaces/Цифровая_лаборатория/edit",
        data={"action": "add_member", "email": users["editor"], "csrf_token": auth.csrf()},
        follow_redirects=True,
    )
    assert "Состав участников обновлён" in response.get_data(as_text=True)
    space = client.get("/spaces/Цифровая_лаборатория").get_data(as_text=True)
    assert "Тест editor" in space and "Датчики" in space
    assert client.get("/spaces/Нет").status_code == 404


def test_recent_changes_filters_and_feeds(client, wiki, users):
    html = client.get("/recent?space=Растим_инженеров").get_data(as_text=True)
    assert "Растим инженеров" in html and "Пчёлки Bee-Bot" not in html.split("<tbody>")[1]
    assert client.get("/recent?space=Нет").status_code == 404
    feed = client.get("/recent.atom")
    assert feed.headers["Content-Type"].startswith("application/atom+xml")
    root = etree.fromstring(feed.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert len(titles) == 2 and all("создана" in t for t in titles)
    space_feed = etree.fromstring(client.get("/spaces/Растим_инженеров/recent.atom").data)
    assert len(space_feed.findall("a:entry", ns)) == 1


def test_home_page_lists_spaces_changes_and_newest(client, wiki):
    html = client.get("/").get_data(as_text=True)
    assert "Клубы и рабочие группы" in html and "Растим инженеров" in html
    assert "Новые материалы" in html and "Последние изменения" in html
    assert "Пчёлки Bee-Bot" in html and "Тест editor" in html


def test_titles_and_tags_with_xss_payloads_are_escaped(client, seeded, token_for, shared_dir):
    headers = bearer(token_for("editor"))
    lines = [
        line
        for path in sorted(shared_dir.glob("security/*.txt"))[:2]
        for line in path.read_text(errors="replace").splitlines()[:25]
        if line.strip()
    ]
    stored = 0
    for n, payload in enumerate(lines):
        title = f"{n} {payload}"[:200]
        from kb.pages.slugs import slug_for_title

        slug = slug_for_title(title)
        response = client.put(
            "/api/v1/pages/" + slug.replace("%", "%25").replace("?", "%3F").replace("#", "%23"),
            json={"title": title, "body": payload, "tags": [payload[:60].replace("/", "")],
                  "base_revision": None},
            headers=headers,
        )  # fmt: skip
        if response.status_code != 201:
            continue
        stored += 1
        html = client.get("/api/v1/pages/" + response.get_json()["slug"].replace("%", "%25")
                          .replace("?", "%3F").replace("#", "%23"))  # fmt: skip
        assert html.status_code == 200
    assert stored > 10
    for path in ("/", "/recent", "/tags", "/spaces/Общее"):
        page = client.get(path).get_data(as_text=True)
        assert_csp_clean(page)
