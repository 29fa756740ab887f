"""The base layout in a real browser: Russian, no CSP violations, usable at 360 px."""

from tests.browser.conftest import PHONE, assert_no_horizontal_scroll, login


def test_home_page_desktop_and_login(new_page, shared_demo_server):
    page = new_page()
    page.goto(shared_demo_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("text=Растим инженеров").first.is_visible()
    login(page, shared_demo_server, "admin@example.org", shared_demo_server.admin_password)
    assert page.locator("text=Администрирование").is_visible()


def test_phone_menu_and_no_sideways_scroll(new_page, shared_demo_server):
    page = new_page(PHONE)
    page.goto(shared_demo_server.url + "/")
    assert_no_horizontal_scroll(page)
    nav = page.locator("#site-nav")
    assert not nav.is_visible()
    page.click("button.nav-toggle")
    assert nav.is_visible()
    assert page.locator("#site-nav >> text=Войти").is_visible()
