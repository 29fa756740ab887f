"""Journeys 5 and 6: a live seminar board with a moderator, a wall and guests by code.

Every person is a separate browser context (own cookies and localStorage); the guests have
no accounts. Assertions are about what each person sees on screen.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, login

# The promise: a post reaches the other screens within 2 seconds.
LIVE_MS = 2_000
# Moderation and poll results travel the same way; on a loaded 2-CPU CI machine running four
# browser pages and the server we allow up to 5 s for them.
LOADED_MS = 5_000
# Socket.IO reconnects with a back-off of up to 5 s (+ jitter) once the network is back.
RECONNECT_MS = 15_000

pytestmark = pytest.mark.server


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


def test_board_live_posts_likes_moderation_and_poll(new_page, shared_demo_server):
    server = shared_demo_server
    mod, code = moderator(new_page, server, "Итоги семинара «Робототехника»")
    wall = open_wall(new_page, mod, server, code)
    anna = guest(new_page, server, code, "Анна Петрова")
    anonymous = guest(new_page, server, code, viewport=PHONE)
    expect(wall.locator("#board-online")).to_have_text("2", timeout=LOADED_MS)

    # A post appears on the other participant's screen and on the wall within 2 s.
    publish(anna, "Дети сами собрали робота-пылесоса из конструктора!")
    for screen in (anonymous, wall, mod):
        card = post(screen, "робота-пылесоса")
        expect(card).to_be_visible(timeout=LIVE_MS)
        expect(card.locator(".post-author")).to_have_text("Анна Петрова")
    expect(post(anna, "робота-пылесоса").locator(".tag-mine")).to_have_text("Вы")
    publish(anonymous, "Спасибо за идеи для средней группы")
    expect(post(anna, "для средней группы").locator(".post-author")).to_have_text(
        "Аноним", timeout=LIVE_MS
    )
    expect(post(wall, "для средней группы")).to_be_visible(timeout=LIVE_MS)

    # Likes: the count updates for everyone; the liker sees their own mark.
    like = post(anonymous, "робота-пылесоса").get_by_role("button", name=re.compile("Нравится"))
    like.click()
    expect(post(anonymous, "робота-пылесоса").locator(".like")).to_have_attribute(
        "aria-pressed", "true"
    )
    for screen in (anna, wall, mod):
        expect(post(screen, "робота-пылесоса").locator(".like")).to_have_text(
            "♥ 1", timeout=LIVE_MS
        )
    expect(post(wall, "робота-пылесоса").locator(".like")).to_be_disabled()

    # Pre-moderation: switched on in the settings; a new post waits for approval.
    mod.get_by_text("Панель ведущего").click()
    mod.get_by_role("link", name="Настройки и колонки").click()
    mod.get_by_label("Премодерация").check()
    mod.get_by_role("button", name="Сохранить").click()
    expect(mod.locator(".flashes")).to_have_text("Настройки доски сохранены.")
    expect(mod.locator("#board-status")).to_have_text("На связи")
    publish(anna, "Вопрос: где взять датчики освещённости?")
    expect(anna.locator("#board-error")).to_have_text("Запись отправлена ведущему на проверку.")
    expect(post(anna, "датчики освещённости").locator(".tag-pending")).to_have_text("На модерации")
    pending = post(mod, "датчики освещённости")
    expect(pending.locator(".tag-pending")).to_have_text("На модерации", timeout=LOADED_MS)
    # The moderator already sees it, the audience and the wall do not.
    expect(post(anonymous, "датчики освещённости")).to_have_count(0)
    expect(post(wall, "датчики освещённости")).to_have_count(0)
    pending.get_by_role("button", name="Одобрить").click()
    for screen in (anonymous, wall):
        expect(post(screen, "датчики освещённости")).to_be_visible(timeout=LOADED_MS)
    expect(post(anna, "датчики освещённости").locator(".tag-pending")).to_have_count(
        0, timeout=LOADED_MS
    )
    expect(post(mod, "датчики освещённости").locator(".tag-pending")).to_have_count(0)

    # A poll: created as a draft, opened, and its chart follows the votes everywhere.
    panel = mod.locator("#moderator-panel")
    if panel.get_attribute("open") is None:
        mod.get_by_text("Панель ведущего").click()
    mod.get_by_label("Вопрос", exact=True).fill("Какой формат следующей встречи удобнее?")
    mod.get_by_label("Тип", exact=True).select_option("single")
    mod.get_by_label("Варианты — по одному в строке").fill("Очно\nОнлайн")
    mod.get_by_role("button", name="Создать опрос").click()
    poll = mod.locator("#polls .poll", has_text="формат следующей встречи")
    expect(poll).to_contain_text("Черновик")
    expect(anna.locator("#polls .poll")).to_have_count(0)
    poll.get_by_role("button", name="Открыть опрос").click()

    def bar(screen, option: str):
        return screen.locator("#polls .poll-bar", has_text=option)

    anna_poll = anna.locator("#polls .poll", has_text="формат следующей встречи")
    expect(anna_poll).to_be_visible(timeout=LOADED_MS)
    expect(wall.locator("#polls .poll")).to_contain_text("Ответили: 0", timeout=LOADED_MS)
    anna_poll.get_by_label("Очно").check()
    anna_poll.get_by_role("button", name="Ответить").click()
    expect(anna_poll.locator(".poll-voted")).to_have_text("Ваш ответ учтён.")
    for screen in (wall, anonymous, mod):
        expect(bar(screen, "Очно").locator(".poll-count")).to_have_text(
            "1 · 100%", timeout=LOADED_MS
        )
    expect(bar(wall, "Очно").locator(".poll-fill")).to_have_attribute("style", "width: 100%;")
    expect(bar(wall, "Онлайн").locator(".poll-fill")).to_have_attribute("style", "width: 0%;")

    anonymous.locator("#polls .poll").get_by_label("Онлайн").check()
    anonymous.locator("#polls .poll").get_by_role("button", name="Ответить").click()
    expect(wall.locator("#polls .poll")).to_contain_text("Ответили: 2", timeout=LOADED_MS)
    for option in ("Очно", "Онлайн"):
        expect(bar(wall, option).locator(".poll-count")).to_have_text("1 · 50%")
        expect(bar(anna, option).locator(".poll-count")).to_have_text("1 · 50%", timeout=LOADED_MS)
    expect(bar(wall, "Онлайн").locator(".poll-fill")).to_have_attribute("style", "width: 100%;")


def test_board_offline_participant_catches_up_without_duplicates(new_page, shared_demo_server):
    server = shared_demo_server
    mod, code = moderator(new_page, server, "Обмен опытом: Наураша")
    anna = guest(new_page, server, code, "Анна")
    olga = guest(new_page, server, code, "Ольга")
    away = guest(new_page, server, code, "Ирина", viewport=PHONE)

    publish(anna, "Запись до обрыва связи")
    expect(post(away, "до обрыва связи")).to_be_visible(timeout=LIVE_MS)
    publish(away, "Моя запись до обрыва")
    expect(post(anna, "Моя запись до обрыва")).to_be_visible(timeout=LIVE_MS)

    away.context.set_offline(True)
    expect(away.locator("#board-status")).to_have_text("Нет связи — переподключаемся…")

    missed = [
        "Пропущенная запись первая",
        "Пропущенная запись вторая",
        "Пропущенная запись третья",
    ]
    publish(anna, missed[0])
    publish(olga, missed[1])
    publish(anna, missed[2])
    post(olga, "до обрыва связи").locator(".like").click()
    for text in missed:
        expect(post(mod, text)).to_be_visible(timeout=LIVE_MS)
    expect(post(mod, "до обрыва связи").locator(".like")).to_have_text("♥ 1", timeout=LIVE_MS)
    # Still offline: nothing of that has reached the phone.
    for text in missed:
        expect(post(away, text)).to_have_count(0)

    away.context.set_offline(False)
    expect(away.locator("#board-status")).to_have_text("Связь восстановлена", timeout=RECONNECT_MS)
    for text in missed:
        expect(post(away, text)).to_have_count(1, timeout=LOADED_MS)
    expect(post(away, "до обрыва связи").locator(".like")).to_have_text("♥ 1")
    # Nothing twice: every post on the board exactly once, the column count agrees.
    expect(away.locator("#columns article.post")).to_have_count(5)
    expect(away.locator(".column-title")).to_have_text("Отзывы и впечатления (5)")
    for text in ("до обрыва связи", "Моя запись до обрыва"):
        expect(post(away, text)).to_have_count(1)
    expect(post(away, "Моя запись до обрыва").locator(".tag-mine")).to_have_text("Вы")

    # Back in the conversation: the returning participant posts, everybody sees it once.
    publish(away, "Я снова на связи")
    for screen in (anna, olga, mod):
        expect(post(screen, "Я снова на связи")).to_have_count(1, timeout=LIVE_MS)
        expect(screen.locator("#columns article.post")).to_have_count(6)
