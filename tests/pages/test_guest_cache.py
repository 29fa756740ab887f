"""Guests' page views come from a cache that never shows a stale text or anything personal."""

import gzip

from kb import create_app
from kb.accounts import service as accounts
from kb.database import db, upgrade_database
from kb.pages import cache
from kb.pages import service as wiki
from tests.conftest import CSRF_RE, PASSWORD


def save(app, users, slug: str, body: str, *, title: str | None = None) -> str:
    with app.app_context():
        editor = accounts.get_user(users["editor"])
        page = wiki.find_page(slug)
        result = wiki.put_page(
            slug,
            title=title or (None if page else slug.replace("_", " ")),
            body=body,
            author=editor,
            base_revision=page.revision_number if page else None,
        )
        return result.slug


def view(client, slug: str, **headers) -> str:
    response = client.get(f"/wiki/{slug}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_second_guest_view_is_one_query_and_the_same_bytes(app, users, count_statements):
    slug = save(app, users, "Занятие_с_Bee-Bot", "Ход занятия с **Bee-Bot**.")
    first, second = app.test_client(), app.test_client()
    warm = first.get(f"/wiki/{slug}")
    count_statements.clear()
    served = second.get(f"/wiki/{slug}", headers={"Accept-Encoding": "gzip, deflate"})
    assert len(count_statements) <= 2, count_statements  # the change log's last id (and BEGIN)
    assert served.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in served.headers["Vary"]
    html = gzip.decompress(served.get_data()).decode()
    assert html == warm.get_data(as_text=True)
    assert "Ход занятия с <strong>Bee-Bot</strong>." in html
    # Nothing personal: no CSRF token, no session cookie, for the first guest or the next.
    assert 'name="csrf-token"' not in html and not CSRF_RE.search(html)
    assert "Set-Cookie" not in warm.headers and "Set-Cookie" not in served.headers
    # A client without gzip gets the same page, plain.
    assert view(app.test_client(), slug) == html
    # The guest can still sign in: the login page has its own token.
    token = CSRF_RE.search(second.get("/login").get_data(as_text=True)).group(1)
    login = second.post(
        "/login", data={"email": users["editor"], "password": PASSWORD, "csrf_token": token}
    )
    assert login.status_code == 302


def test_an_edit_anywhere_is_seen_at_once(app, users):
    slug = save(app, users, "Проект_Огород", "Первая версия.")
    guest = app.test_client()
    assert "Первая версия." in view(guest, slug)
    save(app, users, slug, "Вторая версия.")
    assert "Вторая версия." in view(guest, slug)
    # A new link from another page changes this one's backlinks.
    other = save(app, users, "Отчёт_за_май", "См. [[Проект Огород]].")
    assert other and "Отчёт за май" in view(guest, slug)


def test_signed_in_people_always_get_a_fresh_render(app, users, count_statements):
    slug = save(app, users, "Мастер-класс", "Текст.")
    view(app.test_client(), slug)
    editor = app.test_client()
    token = CSRF_RE.search(editor.get("/login").get_data(as_text=True)).group(1)
    credentials = {"email": users["editor"], "password": PASSWORD, "csrf_token": token}
    editor.post("/login", data=credentials)
    count_statements.clear()
    html = view(editor, slug)
    assert len(count_statements) > 2
    assert ">Править</a>" not in view(app.test_client(), slug)
    assert ">Править</a>" in html


def test_languages_are_kept_apart(app, users):
    slug = save(app, users, "Экскурсия", "Текст.")
    guest = app.test_client()
    russian = view(guest, slug)
    guest.set_cookie("kb_lang", "en")
    english = view(guest, slug)
    assert 'lang="en"' in english and 'lang="ru"' in russian


def test_a_flashed_message_is_shown_and_not_kept(app, users):
    slug = save(app, users, "Старое_название", "Текст.")
    with app.app_context():
        wiki.rename_page(wiki.find_page(slug), "Новое название", accounts.get_user(users["editor"]))
    guest = app.test_client()
    moved = guest.get(f"/wiki/{slug}", follow_redirects=True).get_data(as_text=True)
    assert "Старое название" in moved and "flash" in moved
    assert "flash-info" not in view(guest, "Новое_название")
    assert "flash-info" not in view(app.test_client(), "Новое_название")


def test_entries_expire_and_the_cache_is_bounded(app, users, count_statements, monkeypatch):
    first = save(app, users, "Первая", "Один.")
    second = save(app, users, "Вторая", "Два.")
    guest = app.test_client()
    pages = app.extensions["kb_guest_pages"]
    view(guest, first)
    assert len(pages) == 1 and pages.used > cache.ENTRY_OVERHEAD
    monkeypatch.setattr(pages, "budget", pages.used + 10)  # room for one page
    view(guest, second)
    assert len(pages) == 1 and pages.used <= pages.budget
    count_statements.clear()
    view(guest, first)
    assert len(count_statements) > 2  # pushed out by the second page: rendered again
    monkeypatch.setattr(cache, "MAX_AGE", 0.0)
    count_statements.clear()
    view(guest, first)
    assert len(count_statements) > 2


def test_zero_megabytes_turns_the_cache_off(app_config, users, app):
    slug = save(app, users, "Без_кэша", "Текст.")
    plain = create_app({**app_config, "KB_PAGE_CACHE_MB": 0})
    try:
        with plain.app_context():
            upgrade_database()
        assert plain.extensions["kb_guest_pages"] is None
        assert "Текст." in view(plain.test_client(), slug)
    finally:
        with plain.app_context():
            db.engine.dispose()


def test_another_process_change_reaches_guests_within_the_version_ttl(
    app, app_config, users, monkeypatch
):
    slug = save(app, users, "Общий_проект", "Текст первого сервера.")
    guest = app.test_client()
    assert "Текст первого сервера." in view(guest, slug)
    other_process = create_app(app_config)  # same database, its own cache and signals
    try:
        monkeypatch.setattr(cache, "VERSION_TTL", 3600.0)
        save(other_process, users, slug, "Правка на втором сервере.")
        assert "Текст первого сервера." in view(guest, slug)  # not told, and not asking yet
        monkeypatch.setattr(cache, "VERSION_TTL", 0.0)
        assert "Правка на втором сервере." in view(guest, slug)
    finally:
        with other_process.app_context():
            db.engine.dispose()
