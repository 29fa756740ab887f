"""The usability round (issue «What teachers trip over»): the journeys that had a dead end or
friction, walked in Chromium on a phone (360 px) and on a desktop."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, login
from tests.browser.journeys import moderator

pytestmark = pytest.mark.server

SIZES = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])


@SIZES
def test_a_guest_sent_to_sign_in_comes_back_to_the_editor(new_page, shared_demo_server, viewport):
    server = shared_demo_server
    page = new_page(viewport)
    new_page.allow("status of 401 (UNAUTHORIZED)")
    page.goto(server.url + "/wiki/Растим_инженеров/edit")
    expect(page.get_by_role("heading", name="Нужно войти")).to_be_visible()
    page.locator("#main").get_by_role("link", name="Войти").click()
    page.fill("#email", "admin@example.org")
    page.fill("#password", server.admin_password)
    page.click("form.form-stack button[type=submit]")
    expect(page).to_have_url(re.compile(r"/wiki/%D0%A0.*/edit$|/wiki/Растим_инженеров/edit$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Правка страницы")


@SIZES
def test_a_typo_in_search_shows_the_corrected_results(new_page, shared_demo_server, viewport):
    page = new_page(viewport)
    login(page, shared_demo_server, "admin@example.org", shared_demo_server.admin_password)
    page.goto(shared_demo_server.url + "/search?q=работотехника")
    expect(page.get_by_role("status")).to_contain_text(
        "Показаны результаты по запросу «робототехника»."
    )
    expect(page.get_by_text(re.compile(r"Найден[оа]? \d+ материал"))).to_be_visible()
    page.get_by_role("link", name="Искать «работотехника», как написано").click()
    expect(page.get_by_text("Ничего не найдено")).to_be_visible()
    expect(page.get_by_role("link", name="робототехника")).to_be_visible()


def test_a_board_code_typed_in_cyrillic_is_found(new_page, shared_demo_server):
    _host, code = moderator(new_page, shared_demo_server, "Коды с проектора")
    cyrillic = code.translate(str.maketrans("ABEKMHPCTYX3", "АВЕКМНРСТУХЗ"))
    phone = new_page(PHONE)
    phone.goto(shared_demo_server.url + "/b")
    phone.get_by_label("Код доски").fill(cyrillic.lower())
    phone.get_by_role("button", name="Войти").click()
    expect(phone).to_have_url(f"{shared_demo_server.url}/b/{code}")


def test_history_and_tags_fit_a_phone(new_page, shared_demo_server):
    page = new_page(PHONE)
    login(page, shared_demo_server, "admin@example.org", shared_demo_server.admin_password)
    page.goto(shared_demo_server.url + "/wiki/Растим_инженеров/history")
    heading = page.get_by_role("columnheader", name="Версия")
    line = float(heading.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
    box = heading.bounding_box()
    assert box["height"] < 2.5 * line, f"«Версия» wraps: {box['height']} px for {line} px lines"
    expect(page.get_by_role("cell", name=re.compile(r"^\+\d+ знак(а|ов)?$")).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"\d+ (Б|КБ)\b"))).to_have_count(0)
    page.goto(shared_demo_server.url + "/wiki/Растим_инженеров")
    tags = page.locator(".tag-list a")
    expect(tags.first).to_be_visible()
    for index in range(tags.count()):
        assert tags.nth(index).bounding_box()["height"] >= 44


def test_the_focus_ring_in_the_header_is_visible(new_page, shared_demo_server):
    page = new_page(DESKTOP)
    page.goto(shared_demo_server.url + "/")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    color = page.evaluate(
        "() => { const el = document.activeElement;"
        " return el.closest('.site-header') ? getComputedStyle(el).outlineColor : null; }"
    )
    # the yellow ring (#f6d365) on the green header (#2f6f5e): 4.2:1, the blue one was 1.3:1
    assert color == "rgb(246, 211, 101)", color
