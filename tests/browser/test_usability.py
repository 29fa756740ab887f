"""The usability round (issue «What teachers trip over»): the journeys that had a dead end or
friction, walked in Chromium on a phone (360 px) and on a desktop."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, login
from tests.browser.journeys import create_poll, guest, moderator, post, publish

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


def test_a_guest_reads_the_board_first_and_writes_at_the_top(new_page, shared_demo_server):
    """On a phone: the posts are readable before joining, the post box comes before the
    status and sort controls, and the host's screen link and tools are the host's only."""
    server = shared_demo_server
    host, code = moderator(new_page, server, "Что унесёте с семинара?")
    publish(host, "Начинаем: напишите одну мысль")
    phone = new_page(PHONE)
    phone.goto(f"{server.url}/b/{code}")
    expect(phone.get_by_role("heading", name="Присоединиться к доске")).to_be_visible()
    expect(post(phone, "Начинаем: напишите одну мысль")).to_be_visible()
    expect(phone.get_by_role("link", name="Экран для трансляции")).to_have_count(0)
    phone.get_by_label("Ваше имя").fill("Вера")
    phone.get_by_role("button", name="Присоединиться").click()
    box = phone.get_by_label("Ваша запись")
    expect(box).to_be_visible()
    assert box.bounding_box()["y"] < phone.locator("#board-status").bounding_box()["y"]
    assert box.bounding_box()["y"] < phone.locator("#board-sort").bounding_box()["y"]
    card = post(phone, "Начинаем")
    expect(card.get_by_role("button", name="Нравится 0")).to_be_visible()
    expect(card.get_by_text("Ведущему")).to_have_count(0)
    # the host gets the tools folded in one menu per card
    host_card = post(host, "Начинаем")
    expect(host_card.get_by_role("button", name="Скрыть")).to_be_hidden()
    host_card.get_by_text("Ведущему").click()
    expect(host_card.get_by_role("button", name="Скрыть")).to_be_visible()


def test_a_post_written_offline_is_sent_when_the_connection_returns(new_page, shared_demo_server):
    host, code = moderator(new_page, shared_demo_server, "Связь пропадает")
    phone = guest(new_page, shared_demo_server, code, "Нина", viewport=PHONE)
    phone.context.set_offline(True)
    expect(phone.locator("#board-status")).to_contain_text("Нет связи", timeout=30_000)
    phone.get_by_label("Ваша запись").fill("Написано в метро")
    phone.get_by_role("button", name="Опубликовать").click()
    expect(phone.locator("#board-error")).to_contain_text("сохранена на этом устройстве")
    # the tab is closed while offline: the post waits on the device, not in the page
    context = phone.context
    phone.close()
    context.set_offline(False)
    again = new_page(context=context)
    again.goto(f"{shared_demo_server.url}/b/{code}")
    expect(post(host, "Написано в метро")).to_be_visible(timeout=30_000)
    expect(post(again, "Написано в метро")).to_have_count(1)
    expect(again.get_by_label("Ваша запись")).to_have_value("")


def test_poll_results_after_answering_or_when_the_host_shows_them(new_page, shared_demo_server):
    host, code = moderator(new_page, shared_demo_server, "Опросы с результатами")
    phone = guest(new_page, shared_demo_server, code, "Лена", viewport=PHONE)
    create_poll(host, "Удобно ли время?", ["Да", "Нет"])
    poll = phone.locator("#polls .poll", has_text="Удобно ли время?")
    expect(poll).to_contain_text("Результаты появятся после вашего ответа.")
    expect(poll.locator(".poll-count")).to_have_count(0)
    poll.get_by_label("Да").check()
    poll.get_by_role("button", name="Ответить").click()
    expect(poll.locator(".poll-bar", has_text="Да").locator(".poll-count")).to_have_text("1 · 100%")

    create_poll(host, "Кто победит?", ["Синие", "Красные"], results="revealed")
    secret = phone.locator("#polls .poll", has_text="Кто победит?")
    secret.get_by_label("Синие").check()
    secret.get_by_role("button", name="Ответить").click()
    expect(secret.locator(".poll-voted")).to_have_text("Ваш ответ учтён.")
    expect(secret).to_contain_text("Результаты покажет ведущий.")
    expect(secret.locator(".poll-count")).to_have_count(0)
    host_poll = host.locator("#polls .poll", has_text="Кто победит?")
    expect(host_poll.locator(".poll-bar", has_text="Синие").locator(".poll-count")).to_have_text(
        "1 · 100%"
    )
    host_poll.get_by_role("button", name="Показать результаты всем").click()
    expect(secret.locator(".poll-bar", has_text="Синие").locator(".poll-count")).to_have_text(
        "1 · 100%"
    )


FULL_HD = {"width": 1920, "height": 1080}
LAYOUT_SHIFT = """() => {
    window.__shift = 0;
    new PerformanceObserver(list => {
        for (const entry of list.getEntries())
            if (!entry.hadRecentInput) window.__shift += entry.value;
    }).observe({type: "layout-shift", buffered: true});
}"""


def test_the_wall_shows_every_post_and_does_not_jump(new_page, shared_demo_server):
    """20 posts on a 1080p projector: the column scrolls through them by itself, the pinned
    one stays on top, new posts and a poll move nothing else (layout shift < 0.1)."""
    server = shared_demo_server
    host, code = moderator(new_page, server, "Стена на проекторе")
    for number in range(1, 21):
        publish(host, f"Мысль участника номер {number}: " + "очень полезно " * 4)
    first = post(host, "номер 1:")
    first.get_by_text("Ведущему").click()
    first.get_by_role("button", name="Закрепить").click()
    wall = new_page(FULL_HD, context=host.context)
    wall.add_init_script(script=f"({LAYOUT_SHIFT})()")
    wall.goto(f"{server.url}/b/{code}/wall")
    expect(wall.locator("#board-status")).to_have_text("На связи")
    pinned = wall.locator(".wall-pinned article.post")
    expect(pinned).to_have_count(1)
    expect(pinned).to_contain_text("номер 1:")
    scroll = wall.locator(".wall-scroll")
    expect(scroll.locator("article.post")).to_have_count(19)
    assert scroll.evaluate("el => el.scrollHeight > el.clientHeight + 100")
    font = float(
        scroll.locator(".post-text").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    )
    assert font >= 24, f"{font} px is not readable from the back of a room"
    # the oldest posts come into view by themselves (a step every 7 s), the pin stays put
    pin_top = pinned.bounding_box()["y"]
    deadline = time.monotonic() + 20
    while scroll.evaluate("el => el.scrollTop") == 0:
        assert time.monotonic() < deadline, "the wall never moved on to older posts"
        wall.wait_for_timeout(250)
    assert pinned.bounding_box()["y"] == pin_top
    publish(host, "Новая запись во время показа")
    create_poll(host, "Продолжим после перерыва?", ["Да", "Нет"], results="always")
    expect(wall.locator(".wall-polls .poll")).to_be_visible()
    expect(wall.locator(".wall-scroll")).to_contain_text("Новая запись во время показа")
    shift = wall.evaluate("window.__shift")
    assert shift < 0.1, f"the wall moved: cumulative layout shift {shift:.3f}"
    overflow = wall.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


@SIZES
def test_a_survey_is_built_on_one_page_and_saves_itself(new_page, shared_demo_server, viewport):
    """Four questions used to take 17 actions with a reload each: now one page, no «Сохранить»."""
    server = shared_demo_server
    page = new_page(viewport)
    login(page, server, "admin@example.org", server.admin_password)
    page.goto(server.url + "/surveys/new")
    page.get_by_label("Название").fill("Летняя площадка: что нужно педагогам")
    page.get_by_label("Анонимный опрос").check()
    page.get_by_role("button", name="Создать и перейти к вопросам").click()
    saved = page.get_by_role("status").filter(has_text="сохран")

    page.get_by_role("button", name="Добавить вопрос").click()
    first = page.get_by_role("article", name="Вопрос 1")
    expect(first.get_by_label("Текст вопроса")).to_be_focused()
    expect(first.get_by_label("Текст вопроса")).to_have_value("")  # a placeholder, not text
    first.get_by_label("Текст вопроса").fill("Какие игры вы проводите на улице?")
    first.get_by_label("Тип вопроса").select_option("multiple")
    first.get_by_label("Варианты ответа — по одному в строке").fill("Подвижные\nС мячом\nЭстафеты")
    first.get_by_role("button", name="Копия").click()
    second = page.get_by_role("article", name="Вопрос 2")
    second.get_by_label("Текст вопроса").fill("Каких игр не хватает?")
    page.get_by_role("button", name="Добавить вопрос").click()
    third = page.get_by_role("article", name="Вопрос 3")
    third.get_by_label("Тип вопроса").select_option("scale")
    third.get_by_label("Текст вопроса").fill("Насколько удобна площадка?")
    page.get_by_role("button", name="Добавить вопрос").click()
    fourth = page.get_by_role("article", name="Вопрос 4")
    fourth.get_by_label("Тип вопроса").select_option("long_text")
    fourth.get_by_label("Текст вопроса").fill("Что ещё вам нужно?")
    fourth.get_by_role("button", name="Выше").click()  # the open question goes before the scale
    expect(
        page.get_by_role("article", name="Вопрос 3").get_by_label("Текст вопроса")
    ).to_have_value("Что ещё вам нужно?")
    expect(saved).to_have_text("Все изменения сохранены.", timeout=10_000)

    page.reload()
    texts = page.locator(".builder-question").get_by_label("Текст вопроса")
    expect(texts).to_have_count(4)
    expect(texts.nth(0)).to_have_value("Какие игры вы проводите на улице?")
    expect(texts.nth(1)).to_have_value("Каких игр не хватает?")
    expect(texts.nth(2)).to_have_value("Что ещё вам нужно?")
    expect(texts.nth(3)).to_have_value("Насколько удобна площадка?")
    expect(
        page.get_by_role("article", name="Вопрос 2").get_by_label(
            "Варианты ответа — по одному в строке"
        )
    ).to_have_value("Подвижные\nС мячом\nЭстафеты")
    # an empty question is kept on the screen with a note, and not stored
    page.get_by_role("button", name="Добавить вопрос").click()
    expect(page.get_by_role("article", name="Вопрос 5")).to_contain_text(
        "без него вопрос не сохраняется"
    )
    expect(saved).to_have_text("Сохранено, кроме незаполненных вопросов.", timeout=10_000)

    page.get_by_role("link", name="Готово — к волнам").click()
    page.get_by_role("button", name="Начать приём ответов").click()
    link = page.get_by_label("Ссылка на опрос").input_value()
    guest = new_page(PHONE)
    guest.goto(link)
    expect(guest.get_by_text("Какие игры вы проводите на улице?")).to_be_visible()
    expect(guest.get_by_text("Насколько удобна площадка?")).to_be_visible()
