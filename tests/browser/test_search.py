"""Journeys 3 and 4: a PDF uploaded to a page is found by a word only inside it; Russian
search understands word forms, highlights them and narrows by a facet."""

import re
import time

import pytest
from playwright.sync_api import expect

from kb.pages.slugs import slug_for_title
from tests.browser.conftest import login
from tests.search.files import write_pdf

pytestmark = pytest.mark.server

# The index follows the database in a background worker: a saved page is searchable well
# within a second, a PDF once its text is extracted. 15 s covers a loaded CI machine.
INDEX_S = 15


def search(page, server, query: str) -> None:
    """Type the query into the header's search box, as a person does."""
    page.goto(server.url + "/")
    box = page.get_by_role("combobox", name="Поиск")
    box.fill(query)
    box.press("Enter")
    expect(page.get_by_role("heading", name="Поиск", level=1)).to_be_visible()


def search_until(page, server, query: str, result) -> None:
    """Search again (as a person would press «Найти» once more) until `result` shows up:
    indexing is asynchronous by design (docs/search.md)."""
    deadline = time.monotonic() + INDEX_S
    while True:
        search(page, server, query)
        if result.count():
            return
        if time.monotonic() > deadline:
            expect(result.first).to_be_visible(timeout=1)  # fails with the page's snapshot
        page.wait_for_timeout(300)


def test_pdf_upload_then_found_by_a_word_inside_it(new_page, shared_demo_server, tmp_path):
    server = shared_demo_server
    pdf = write_pdf(
        tmp_path / "Программа кружка.pdf",
        ["Программа кружка юных исследователей", "Опыты с магнитами и калейдоскопом"],
    )
    page = new_page()
    login(page, server, "admin@example.org", server.admin_password)
    url = f"{server.url}/wiki/{slug_for_title('Собираем вентилятор из WeDo 2.0')}"
    page.goto(url)
    files = page.locator("#files")
    expect(files).to_contain_text("К странице пока ничего не прикреплено.")
    # The word is nowhere yet.
    search(page, server, "калейдоскоп")
    expect(page.get_by_text("Ничего не найдено")).to_be_visible()

    page.goto(url)
    page.get_by_label("Прикрепить файл").set_input_files(pdf)
    page.get_by_role("button", name="Загрузить").click()
    # The upload goes with a progress bar, then the page reloads and lists the file.
    expect(files.get_by_role("link", name="Программа кружка.pdf")).to_be_visible()
    expect(files).not_to_contain_text("К странице пока ничего не прикреплено.")

    # «калейдоскопом» is in the PDF only; an inflected form finds the file and its page.
    hit = page.locator(
        ".search-hit-file", has=page.get_by_role("link", name="Программа кружка.pdf")
    )
    search_until(page, server, "калейдоскоп", hit)
    expect(hit).to_contain_text("Собираем вентилятор из WeDo 2.0")
    expect(hit.locator("mark")).to_have_text(re.compile("калейдоскоп", re.I))
    with page.expect_download() as download:
        hit.get_by_role("link", name="Программа кружка.pdf").click()
    assert download.value.suggested_filename == "Программа кружка.pdf"


def test_inflected_search_snippets_and_facet(new_page, shared_demo_server):
    server = shared_demo_server
    page = new_page()
    # «робототехнике» (dative) finds «робототехникой», «робототехника»… in two clubs.
    search(page, server, "робототехнике")
    results = page.locator(".search-results > li")
    club_page = results.filter(has=page.get_by_role("link", name="Растим инженеров", exact=True))
    howto = results.filter(has=page.get_by_role("link", name="Как пользоваться методкабинетом"))
    expect(club_page).to_have_count(1)
    expect(howto).to_have_count(1)
    marks = club_page.locator(".snippet mark")
    expect(marks.first).to_be_visible()
    for word in marks.all_inner_texts():
        assert word.lower().startswith("робототехник"), word
    assert "робототехникой" in [w.lower() for w in marks.all_inner_texts()]
    expect(page.get_by_text(re.compile(r"Найдено \d+ материал"))).to_be_visible()

    # Narrow to one club with the facet; the chip shows the filter and removes it.
    facets = page.get_by_role("complementary", name="Уточнить поиск")
    facets.get_by_role("link", name="Растим инженеров").click()
    expect(page.locator(".search-active")).to_contain_text("Клуб: Растим инженеров")
    expect(club_page).to_have_count(1)
    expect(howto).to_have_count(0)
    for meta in results.locator(".meta").all_inner_texts():
        assert meta.startswith("Растим инженеров"), meta
    page.locator(".search-active").get_by_role("link", name=re.compile("Растим инженеров")).click()
    expect(howto).to_have_count(1)
    expect(page.locator(".search-active")).to_have_count(0)
