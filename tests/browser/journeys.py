"""Steps that several browser journeys share: what a moderator and a guest do on a board."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import login


def create_board(page, server, title: str, *, moderated: bool = False) -> str:
    """As a signed-in editor: «Новая доска» → the board page; returns its code."""
    page.goto(server.url + "/boards/new")
    page.get_by_label("Название").fill(title)
    if moderated:
        page.get_by_label("Премодерация").check()
    page.get_by_role("button", name="Создать доску").click()
    expect(page.locator(".flashes")).to_contain_text("Доска создана. Код для участников:")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    code = page.locator(".board-top .board-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{6}", code), code
    return code


def moderator(new_page, server, title: str, **options):
    page = new_page()
    login(page, server, "admin@example.org", server.admin_password)
    code = create_board(page, server, title, **options)
    expect(page.locator("#board-status")).to_have_text("На связи")
    return page, code


def open_wall(new_page, moderator_page, server, code: str):
    """The moderator opens «Экран для трансляции» in another tab (for the projector)."""
    link = moderator_page.get_by_role("link", name="Экран для трансляции")
    wall = new_page(context=moderator_page.context)
    wall.goto(server.url + link.get_attribute("href"))
    assert wall.url == f"{server.url}/b/{code}/wall"
    expect(wall.locator("#board-status")).to_have_text("На связи")
    expect(wall.locator(".wall-corner .board-code")).to_have_text(code)
    return wall


def guest(new_page, server, code: str, name: str = "", viewport=None):
    """A participant without an account: «Вход на доску» → code → name → «Присоединиться»."""
    page = new_page(viewport)
    page.goto(server.url + "/b")
    page.get_by_label("Код доски").fill(code.lower())
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(f"{server.url}/b/{code}")
    page.get_by_label("Ваше имя").fill(name)
    page.get_by_role("button", name="Присоединиться").click()
    expect(page.get_by_role("heading", name="Присоединиться к доске")).to_be_hidden()
    expect(page.get_by_label("Ваша запись")).to_be_visible()
    expect(page.locator("#board-status")).to_have_text("На связи")
    return page


def publish(page, text: str) -> None:
    page.get_by_label("Ваша запись").fill(text)
    page.get_by_role("button", name="Опубликовать").click()
    expect(page.get_by_label("Ваша запись")).to_have_value("")


def post(page, text: str):
    return page.locator("#columns article.post", has_text=text)


def open_moderator_panel(page) -> None:
    if page.locator("#moderator-panel").get_attribute("open") is None:
        page.get_by_text("Панель ведущего").click()


def create_poll(
    page, question: str, options: list[str], *, results: str = "after_vote", open_now=True
):
    """As the moderator on the board page: a single-choice poll, opened at once (the form's
    default) or left as a draft; ``results``: when participants see them."""
    open_moderator_panel(page)
    page.get_by_label("Вопрос", exact=True).fill(question)
    page.get_by_label("Тип", exact=True).select_option("single")
    page.get_by_label("Варианты — по одному в строке").fill("\n".join(options))
    page.get_by_label("Когда участники увидят результаты").select_option(results)
    page.get_by_label("Сразу открыть опрос").set_checked(open_now)
    page.get_by_role("button", name="Создать опрос").click()
    poll = page.locator("#polls .poll", has_text=question)
    expect(poll).to_be_visible()
    if open_now:
        expect(poll.get_by_role("button", name="Закрыть опрос")).to_be_visible()
    else:
        expect(poll).to_contain_text("Черновик")
    return poll
