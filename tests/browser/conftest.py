"""Real-browser fixtures: Debian's chromium driven by Playwright against a real `kb serve`."""

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, need

CHROMIUM = os.environ.get("KB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def browser():
    need(
        shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM),
        f"{CHROMIUM} is missing (Debian package chromium)",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def demo_server(tmp_path, database_url) -> Iterator[LiveServer]:
    """A real server with the demo network loaded; `.admin_password` holds the demo login."""
    server = LiveServer(tmp_path / "live", database_url).start()
    result = server.run_cli("demo")
    assert result.returncode == 0, result.stderr
    server.admin_password = result.stdout.strip().rsplit("/", 1)[-1].strip()
    yield server
    server.stop()


class PageProblems:
    """Console errors and CSP violations seen by a page; a test fails on any of them."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def watch(self, page) -> None:
        page.on("console", lambda m: self.messages.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.messages.append(str(e)))


@pytest.fixture
def new_page(browser):
    """new_page(viewport=DESKTOP) → a page in a fresh context; fails the test on JS errors."""
    contexts = []
    problems = PageProblems()

    def make(viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or DESKTOP, locale="ru-RU")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    yield make
    for context in contexts:
        context.close()
    assert problems.messages == [], problems.messages


def login(page, server: LiveServer, email: str, password: str) -> None:
    page.goto(server.url + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_selector("text=Выйти")


def assert_no_horizontal_scroll(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"
