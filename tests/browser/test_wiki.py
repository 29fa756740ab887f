"""Journeys 1 and 2: a page from a template with preview; two editors at once (merge,
conflict, «Сейчас редактирует»). Each person is a separate browser context."""

import re

import pytest
from playwright.sync_api import expect

from kb.pages.slugs import slug_for_title
from tests.browser.conftest import login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.server

OLGA = "olga.editor@example.org"
# «Сейчас редактирует» travels over Socket.IO like the board; allow a loaded CI machine 5 s.
PRESENCE_MS = 5_000


@pytest.fixture(scope="module")
def second_editor(shared_demo_server) -> str:
    """A second editor with a password (the demo's colleagues have none)."""
    result = shared_demo_server.run_cli(
        "user",
        "add",
        OLGA,
        "--name",
        "Ольга Смирнова",
        "--role",
        "editor",
        "--org",
        "Колокольчик",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    return OLGA


def containing(fragment: str) -> re.Pattern:
    return re.compile(re.escape(fragment))


def admin(new_page, server):
    page = new_page()
    login(page, server, "admin@example.org", server.admin_password)
    return page


def editor_text(page):
    return page.get_by_label("Текст страницы", exact=True)


def save(page) -> None:
    page.get_by_role("button", name="Сохранить", exact=True).click()


def test_page_from_template_with_preview(new_page, shared_demo_server):
    server = shared_demo_server
    page = admin(new_page, server)
    page.goto(server.url + "/")
    page.get_by_role("link", name="Создать страницу").click()
    title = "Датчик света: день и ночь"
    page.get_by_label("Название").fill(title)
    page.get_by_label("Пространство").select_option(label="Цифровая лаборатория")
    page.get_by_label("Конспект занятия").check()
    page.get_by_role("button", name="Дальше").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Новая страница «{title}»")
    text = editor_text(page)
    expect(text).to_have_value(containing("## Ход занятия"))
    body = text.input_value().replace(
        "Чему научатся дети на этом занятии.",
        "Дети узнают, как **датчик освещённости** отличает день от ночи.",
    )
    text.fill(body)
    page.get_by_label("Метки через запятую").fill("Наураша, старшая группа")

    page.get_by_role("tab", name="Предпросмотр").click()
    preview = page.locator("#preview-panel")
    expect(preview.get_by_role("heading", name="Ход занятия")).to_be_visible()
    expect(preview.locator("strong")).to_have_text("датчик освещённости")
    expect(text).to_be_hidden()
    page.get_by_role("tab", name="Текст").click()
    expect(text).to_be_visible()
    save(page)

    expect(page.locator(".flashes")).to_contain_text("Страница создана.")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    content = page.locator(".wiki-content")
    expect(content.get_by_role("heading", name="Возрастная группа")).to_be_visible()
    expect(content.locator("strong")).to_have_text("датчик освещённости")
    expect(content).not_to_contain_text("**")
    expect(page.get_by_role("link", name="Цифровая лаборатория").first).to_be_visible()

    page.get_by_role("link", name="Последние изменения").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Последние изменения")
    expect(page.get_by_role("link", name=title).first).to_be_visible()


def make_page(page, server, title: str, lines: list[str]) -> str:
    slug = slug_for_title(title)
    page.goto(f"{server.url}/wiki/{slug}/edit")
    editor_text(page).fill("\n\n".join(lines) + "\n")
    save(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return f"{server.url}/wiki/{slug}"


def test_two_editors_merge_conflict_and_presence(new_page, shared_demo_server, second_editor):
    server = shared_demo_server
    organizer = admin(new_page, server)
    url = make_page(
        organizer,
        server,
        "План недели технического творчества",
        ["Понедельник: конструируем из LEGO.", "Среда: Bee-Bot.", "Пятница: выставка работ."],
    )
    olga = new_page()
    login(olga, server, second_editor, PASSWORD)
    olga.goto(url)
    presence = olga.get_by_text("Сейчас редактирует")
    expect(presence).to_be_hidden()

    # The organizer starts editing: Olga, reading the page, sees it.
    organizer.goto(url + "/edit")
    expect(presence).to_have_text("Сейчас редактирует: Организатор сети (ДДТ)", timeout=PRESENCE_MS)
    olga.get_by_role("link", name="Править").click()
    expect(organizer.get_by_text("Сейчас редактирует")).to_contain_text(
        "Ольга Смирнова", timeout=PRESENCE_MS
    )

    # Non-overlapping edits: the first line here, the last line there; both survive.
    mine = editor_text(organizer)
    mine.fill(mine.input_value().replace("из LEGO", "из LEGO Duplo"))
    theirs = editor_text(olga)
    theirs.fill(theirs.input_value().replace("выставка работ", "выставка работ для родителей"))
    save(organizer)
    expect(organizer.locator(".flashes")).to_contain_text("Изменения сохранены (версия 2)")
    save(olga)
    expect(olga.locator(".flashes")).to_contain_text("Правки не пересеклись и объединены")
    for text in ("из LEGO Duplo", "выставка работ для родителей"):
        expect(olga.locator(".wiki-content")).to_contain_text(text)
    organizer.reload()
    expect(organizer.locator(".wiki-content")).to_contain_text("выставка работ для родителей")
    # Nobody edits any more: the line disappears.
    expect(organizer.get_by_text("Сейчас редактирует")).to_be_hidden(timeout=PRESENCE_MS)

    # Overlapping edits of the same line: the second editor gets the conflict view and
    # keeps her text.
    organizer.goto(url + "/edit")
    olga.goto(url + "/edit")
    mine = editor_text(organizer)
    mine.fill(mine.input_value().replace("Среда: Bee-Bot.", "Среда: Bee-Bot и коврик-поле."))
    theirs = editor_text(olga)
    olga_text = theirs.input_value().replace("Среда: Bee-Bot.", "Среда: роботы-пчёлки.")
    theirs.fill(olga_text)
    save(organizer)
    expect(organizer.locator(".flashes")).to_contain_text("Изменения сохранены (версия 4)")
    # the conflict view is answered with HTTP 409, which Chromium logs as a failed load
    new_page.allow("status of 409 (CONFLICT)")
    save(olga)
    expect(olga.get_by_role("heading", name="Конфликт правок")).to_be_visible()
    expect(editor_text(olga)).to_have_value(olga_text)
    expect(olga.get_by_label("Сохранённая версия")).to_have_value(
        containing("Среда: Bee-Bot и коврик-поле.")
    )
    # One place to decide, shown as her version and the colleague's, no conflict markers.
    place = olga.get_by_role("group", name="Место 1 из 1: выберите вариант")
    expect(place).to_contain_text("Среда: роботы-пчёлки.")
    expect(place).to_contain_text("Среда: Bee-Bot и коврик-поле.")
    expect(olga.locator(".conflict")).not_to_contain_text("=======")
    # She keeps both, moves the choice into the editor and saves on top of the colleague's.
    place.get_by_label("Оставить обе").check()
    olga.get_by_role("button", name="Перенести выбранное в редактор").click()
    both = "Среда: роботы-пчёлки.\nСреда: Bee-Bot и коврик-поле."
    expect(editor_text(olga)).to_have_value(containing(both))
    expect(editor_text(olga)).to_have_value(containing("выставка работ для родителей"))
    expect(editor_text(olga)).not_to_have_value(containing("<<<<<<<"))
    save(olga)
    expect(olga.locator(".flashes")).to_contain_text("Изменения сохранены (версия 5)")
    expect(olga.locator(".wiki-content")).to_contain_text("Среда: роботы-пчёлки.")
    expect(olga.locator(".wiki-content")).to_contain_text("Bee-Bot и коврик-поле.")
