"""axe-core (vendored, static/vendor/axe-core) on the main screens: no serious or critical
violations on the home page, a wiki page, the editor, search results, the board and the wall.
"""

import pytest
from playwright.sync_api import expect

from kb.pages.slugs import slug_for_title
from tests.browser.conftest import DESKTOP, PHONE, PageProblems, assert_accessible, login
from tests.browser.journeys import create_poll, guest, moderator, post, publish

pytestmark = pytest.mark.server

PAGE_TITLE = "Пчёлки Bee-Bot: первое занятие"


@pytest.fixture(scope="module")
def board_code(browser, shared_demo_server) -> str:
    """A board with posts, a comment, a like and an open poll (so the scan sees them)."""
    problems = PageProblems()
    contexts = []

    def new_page(viewport=None, context=None):
        if context is None:
            context = browser.new_context(viewport=viewport or DESKTOP, locale="ru-RU")
            context.set_default_timeout(10_000)
            contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    try:
        mod, code = moderator(new_page, shared_demo_server, "Доступность: отзывы о семинаре")
        anna = guest(new_page, shared_demo_server, code, "Анна")
        publish(anna, "Очень полезный семинар, спасибо! Подробности: https://example.org/bee")
        publish(anna, "Хочу такой же коврик для Bee-Bot")
        card = post(mod, "полезный семинар")
        expect(card).to_be_visible()
        card.get_by_role("button", name="Нравится 0").click()
        # the like comes back as post:updated, which redraws the card: open the comments after
        expect(card.get_by_role("button", name="Нравится 1")).to_be_visible()
        card.locator(".comments > summary").click()
        card.get_by_label("Комментировать").fill("Спасибо за отзыв!")
        card.get_by_role("button", name="Отправить").click()
        expect(post(anna, "полезный семинар")).to_contain_text("Спасибо за отзыв!")
        poll = create_poll(mod, "Что взять в работу?", ["Bee-Bot", "WeDo 2.0", "Наураша"])
        expect(poll).not_to_contain_text("Черновик")
    finally:
        for context in contexts:
            context.close()
    assert problems.messages == [], problems.messages
    return code


def test_home_page(new_page, shared_demo_server):
    page = new_page()
    page.goto(shared_demo_server.url + "/")
    assert_accessible(page)
    login(page, shared_demo_server, "admin@example.org", shared_demo_server.admin_password)
    page.goto(shared_demo_server.url + "/")
    assert_accessible(page)


def test_wiki_page(new_page, shared_demo_server):
    page = new_page()
    page.goto(f"{shared_demo_server.url}/wiki/{slug_for_title(PAGE_TITLE)}")
    expect(page.get_by_role("heading", level=1)).to_have_text(PAGE_TITLE)
    assert_accessible(page)
    phone = new_page(PHONE)
    phone.goto(page.url)
    assert_accessible(phone)


def test_editor(new_page, shared_demo_server):
    page = new_page()
    login(page, shared_demo_server, "admin@example.org", shared_demo_server.admin_password)
    page.goto(f"{shared_demo_server.url}/wiki/{slug_for_title(PAGE_TITLE)}/edit")
    expect(page.locator("textarea").first).to_be_visible()
    assert_accessible(page)
    page.goto(f"{shared_demo_server.url}/new")
    assert_accessible(page)


def test_search_results(new_page, shared_demo_server):
    page = new_page()
    page.goto(shared_demo_server.url + "/")
    page.get_by_role("combobox", name="Поиск").fill("пчёлкой")
    page.get_by_role("combobox", name="Поиск").press("Enter")
    expect(page.get_by_role("link", name=PAGE_TITLE).first).to_be_visible()
    assert_accessible(page)


def test_board_as_guest_and_moderator(new_page, shared_demo_server, board_code):
    page = guest(new_page, shared_demo_server, board_code, viewport=PHONE)
    expect(page.locator("#polls .poll")).to_contain_text("Что взять в работу?")
    expect(post(page, "полезный семинар")).to_be_visible()
    assert_accessible(page)
    mod = new_page()
    login(mod, shared_demo_server, "admin@example.org", shared_demo_server.admin_password)
    mod.goto(f"{shared_demo_server.url}/b/{board_code}")
    expect(post(mod, "полезный семинар")).to_be_visible()
    mod.get_by_text("Панель ведущего").click()
    assert_accessible(mod)


def test_wall(new_page, shared_demo_server, board_code):
    page = new_page({"width": 1920, "height": 1080})
    page.goto(f"{shared_demo_server.url}/b/{board_code}/wall")
    expect(post(page, "полезный семинар")).to_be_visible()
    expect(page.locator("#polls .poll")).to_contain_text("Что взять в работу?")
    assert_accessible(page)
