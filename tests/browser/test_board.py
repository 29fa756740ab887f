"""Journeys 5 and 6: a live seminar board with a moderator, a wall and guests by code.

Every person is a separate browser context (own cookies and localStorage); the guests have
no accounts. Assertions are about what each person sees on screen.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.browser.journeys import create_poll, guest, moderator, open_wall, post, publish

# A post reaches the other screens: the promise of 2 seconds is measured by the fan-out
# benchmark (bench/fanout, docs/benchmarks.md); here, four browser pages and the server share
# two cores, so the test waits generously and checks what arrives, not how fast.
LIVE_MS = 10_000
# Moderation and poll results travel the same way.
LOADED_MS = LIVE_MS
# Socket.IO reconnects with a back-off of up to 5 s (+ jitter) once the network is back.
RECONNECT_MS = 15_000

pytestmark = [pytest.mark.server, pytest.mark.serial]


def test_board_live_posts_likes_moderation_and_poll(new_page, shared_demo_server):
    server = shared_demo_server
    mod, code = moderator(new_page, server, "Итоги семинара «Робототехника»")
    wall = open_wall(new_page, mod, server, code)
    anna = guest(new_page, server, code, "Анна Петрова")
    anonymous = guest(new_page, server, code, viewport=PHONE)
    # online: the moderator's board page and the two guests (a wall is not a participant)
    expect(wall.locator("#board-online")).to_have_text("3", timeout=LOADED_MS)

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
    like = post(anonymous, "робота-пылесоса").get_by_role("button", name="Нравится 0")
    like.click()
    expect(post(anonymous, "робота-пылесоса").locator(".like")).to_have_attribute(
        "aria-pressed", "true"
    )
    for screen in (anna, wall, mod):
        expect(post(screen, "робота-пылесоса").locator(".like-count")).to_have_text(
            "1", timeout=LIVE_MS
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
    notice = anna.get_by_role("alert")
    expect(notice).to_have_text("Запись отправлена ведущему на проверку.")
    expect(notice).to_have_class("flash flash-success")  # good news, not an error
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
    poll = create_poll(
        mod, "Какой формат следующей встречи удобнее?", ["Очно", "Онлайн"],
        results="always", open_now=False,
    )  # fmt: skip
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
    expect(post(mod, "до обрыва связи").locator(".like-count")).to_have_text("1", timeout=LIVE_MS)
    # Still offline: nothing of that has reached the phone.
    for text in missed:
        expect(post(away, text)).to_have_count(0)

    away.context.set_offline(False)
    expect(away.locator("#board-status")).to_have_text("Связь восстановлена", timeout=RECONNECT_MS)
    for text in missed:
        expect(post(away, text)).to_have_count(1, timeout=LOADED_MS)
    expect(post(away, "до обрыва связи").locator(".like-count")).to_have_text("1")
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
