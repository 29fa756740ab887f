"""Refresh docs/screenshots/*.png from the real product (`make screenshots`).

Starts `kb serve` with the demo network in a temporary data dir, fills a seminar board with a
few posts and a poll the way people would (guests in their own browser contexts), and takes
desktop and phone screenshots of the home page, a wiki page, the editor, search results, the
board and the presenter wall — with the same Chromium setup as the browser tests
(tests/browser/conftest.py: Debian's /usr/bin/chromium, never a downloaded browser).
"""

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from kb.pages.slugs import slug_for_title  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    login,
    start_demo_server,
)
from tests.browser.journeys import create_poll, guest, moderator, publish  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PAGE_TITLE = "Пчёлки Bee-Bot: первое занятие"
WALL = {"width": 1280, "height": 720}  # a projector's 16:9


class Browser:
    def __init__(self, browser) -> None:
        self.browser = browser
        self.contexts = []

    def new_page(self, viewport=None, context=None):
        if context is None:
            context = self.browser.new_context(viewport=viewport or DESKTOP, locale="ru-RU")
            context.set_default_timeout(15_000)
            self.contexts.append(context)
        return context.new_page()

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def fill_board(people: Browser, server) -> str:
    """A seminar board as it looks half-way through: posts, likes, a comment, a live poll."""
    mod, code = moderator(people.new_page, server, "Семинар «Робототехника с дошкольниками»")
    mod.get_by_text("Панель ведущего").click()
    mod.get_by_role("link", name="Настройки и колонки").click()
    mod.get_by_label("Описание").fill("Что вы возьмёте в работу после сегодняшней встречи?")
    mod.get_by_label("Колонки").fill("Что понравилось\nЧто возьму в работу\nВопросы спикеру")
    mod.get_by_role("button", name="Сохранить").click()
    expect(mod.locator("#board-status")).to_have_text("На связи")
    create_poll(mod, "Какой набор вы уже используете?", ["Bee-Bot", "LEGO WeDo 2.0", "Наураша"])

    posts = [
        ("Анна Петрова", "Что понравилось", "Игра «Зеркало» для поворотов — гениально просто!"),
        ("Ольга", "Что возьму в работу", "Коврик с овощами для Bee-Bot сделаем с родителями."),
        ("", "Вопросы спикеру", "Сколько роботов нужно на группу из 12 детей?"),
        ("Ирина", "Что понравилось", "Дети сами предлагают маршруты — это лучшее в занятии."),
        ("Мария", "Что возьму в работу", "Попробуем вентилятор из WeDo 2.0 в подготовительной."),
    ]
    votes = ["Bee-Bot", "Bee-Bot", "LEGO WeDo 2.0", "Наураша", "Bee-Bot"]
    guests = []
    for (name, column, text), vote in zip(posts, votes, strict=True):
        page = guest(people.new_page, server, code, name)
        page.locator("#post-column").select_option(label=column)
        publish(page, text)
        answer = page.locator("#polls .poll")
        answer.get_by_label(vote).check()
        answer.get_by_role("button", name="Ответить").click()
        expect(answer.locator(".poll-voted")).to_be_visible()
        guests.append(page)
    for page in guests[1:4]:
        card = page.locator("article.post", has_text="Зеркало")
        card.get_by_role("button", name="Нравится").click()
        expect(card.locator(".like")).to_have_attribute("aria-pressed", "true")
    card = mod.locator("article.post", has_text="Сколько роботов")
    card.locator(".comments > summary").click()
    card.get_by_label("Комментировать").fill("Достаточно двух: дети работают парами.")
    card.get_by_role("button", name="Отправить").click()
    expect(card).to_contain_text("Достаточно двух")
    return code


def shoot(page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    path = OUT / f"{name}.png"
    page.screenshot(path=path, animations="disabled", caret="hide")
    print(f"  {path.relative_to(ROOT)}")


def screenshots(people: Browser, server, code: str) -> None:
    page_url = f"{server.url}/wiki/{slug_for_title(PAGE_TITLE)}"
    for kind, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = people.new_page(viewport)
        page.goto(server.url + "/")
        shoot(page, f"home-{kind}")
        page.goto(page_url)
        shoot(page, f"page-{kind}")
        page.goto(server.url + "/search?q=" + "робототехнике")
        expect(page.locator(".search-results")).to_be_visible()
        shoot(page, f"search-{kind}")

        board = guest(people.new_page, server, code, "Светлана", viewport=viewport)
        expect(board.locator("article.post")).to_have_count(5)
        shoot(board, f"board-{kind}")

    for name, viewport in (("desktop", WALL), ("phone", PHONE)):
        wall = people.new_page(viewport)
        wall.goto(f"{server.url}/b/{code}/wall")
        expect(wall.locator("article.post")).to_have_count(5)
        shoot(wall, f"wall-{name}")

    # Last: an open editor shows «Сейчас редактирует» on the page for everybody else.
    for kind, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        editor = people.new_page(viewport)
        login(editor, server, "admin@example.org", server.admin_password)
        editor.goto(page_url + "/edit")
        expect(editor.locator("textarea").first).to_be_visible()
        shoot(editor, f"editor-{kind}")
        editor.context.close()
        people.contexts.remove(editor.context)


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kb-screenshots-") as tmp:
        server = start_demo_server(Path(tmp) / "live", None)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                people = Browser(browser)
                try:
                    code = fill_board(people, server)
                    print(f"Screenshots of {server.url} (board {code}):")
                    screenshots(people, server, code)
                finally:
                    people.close()
                    browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
