"""Journey 7: a teacher's phone (360×740) — home, search results, a page and a board: no
sideways scrolling, every control within reach."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    PHONE,
    assert_controls_reachable,
    assert_no_horizontal_scroll,
)
from tests.browser.journeys import create_poll, guest, moderator, post, publish

pytestmark = pytest.mark.server


def check_phone_screen(page) -> None:
    assert page.viewport_size == PHONE
    assert_no_horizontal_scroll(page)
    assert_controls_reachable(page)


def test_phone_home_search_and_page(new_page, shared_demo_server):
    page = new_page(PHONE)
    page.goto(shared_demo_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check_phone_screen(page)

    # The menu opens with one tap and its links are reachable.
    page.get_by_role("button", name="Меню").click()
    expect(page.get_by_role("navigation", name="Основная навигация")).to_be_visible()
    expect(page.get_by_role("link", name="Войти")).to_be_in_viewport()
    check_phone_screen(page)
    page.get_by_role("button", name="Меню").click()

    # Search from the header with an inflected word.
    search = page.get_by_role("combobox", name="Поиск")
    expect(search).to_be_in_viewport()
    search.fill("робототехнике")
    search.press("Enter")
    expect(page.get_by_role("heading", name="Поиск", level=1)).to_be_visible()
    result = page.locator(".search-results a", has_text="Растим инженеров").first
    expect(result).to_be_visible()
    check_phone_screen(page)

    # Open the page: its table scrolls inside itself, the page does not.
    result.click()
    expect(page.get_by_role("heading", name="Растим инженеров", level=1)).to_be_visible()
    expect(page.locator("table").first).to_be_visible()
    check_phone_screen(page)
    page.get_by_role("link", name="Пчёлки Bee-Bot: первое занятие").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Пчёлки Bee-Bot: первое занятие")
    check_phone_screen(page)


def test_phone_board(new_page, shared_demo_server):
    mod, code = moderator(new_page, shared_demo_server, "Телефонный тест: что понравилось?")
    create_poll(mod, "Понравился ли формат?", ["Да, очень", "Скорее да", "Нет"])
    publish(mod, "Ссылка на материалы: https://example.org/materials/robotics-2024-autumn")

    phone = guest(new_page, shared_demo_server, code, "Мария", viewport=PHONE)
    expect(post(phone, "Ссылка на материалы")).to_be_visible()
    check_phone_screen(phone)

    publish(phone, "Очень длинное слово без пробелов: " + "робототехника" * 6)
    expect(post(phone, "без пробелов")).to_be_visible()
    vote = phone.locator("#polls .poll")
    vote.get_by_label("Скорее да").check()
    button = vote.get_by_role("button", name="Ответить")
    button.scroll_into_view_if_needed()
    expect(button).to_be_in_viewport()
    button.click()
    expect(vote.locator(".poll-voted")).to_have_text("Ваш ответ учтён.")
    post(phone, "Ссылка на материалы").get_by_role("button", name="Нравится 0").click()
    expect(post(phone, "Ссылка на материалы").locator(".like-count")).to_have_text("1")
    publish_button = phone.get_by_role("button", name="Опубликовать")
    publish_button.scroll_into_view_if_needed()
    expect(publish_button).to_be_in_viewport()
    check_phone_screen(phone)

    # The wall on a phone (a speaker checking it) stacks without sideways scrolling.
    wall = new_page(PHONE)
    wall.goto(f"{shared_demo_server.url}/b/{code}/wall")
    expect(post(wall, "без пробелов")).to_be_visible()
    check_phone_screen(wall)
