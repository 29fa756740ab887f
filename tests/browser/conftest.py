"""Real-browser fixtures: Debian's chromium driven by Playwright against a real `kb serve`."""

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

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


AXE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe-core" / "axe.min.js"


def start_demo_server(data_dir: Path, database_url: str | None) -> LiveServer:
    server = LiveServer(data_dir, database_url).start()
    result = server.run_cli("demo")
    if result.returncode != 0:
        server.stop()
        raise RuntimeError(f"kb demo failed: {result.stderr}")
    server.admin_password = result.stdout.strip().rsplit("/", 1)[-1].strip()
    return server


@pytest.fixture
def demo_server(tmp_path, database_url) -> Iterator[LiveServer]:
    """A real server with the demo network loaded; `.admin_password` holds the demo login."""
    server = start_demo_server(tmp_path / "live", database_url)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_database_url(postgres) -> str | None:
    """Like `database_url`, once per module (for a server that a module's tests share)."""
    if postgres is None:
        return None
    name = f"kb_{uuid.uuid4().hex[:16]}"
    postgres.execute(f"CREATE DATABASE {name} TEMPLATE kb_template")
    return postgres.url(name)


@pytest.fixture(scope="module")
def shared_demo_server(tmp_path_factory, module_database_url) -> Iterator[LiveServer]:
    """One demo server for a whole module: tests must not depend on each other's data
    (each makes its own board or page with a unique title)."""
    server = start_demo_server(tmp_path_factory.mktemp("demo") / "live", module_database_url)
    yield server
    server.stop()


class PageProblems:
    """Console errors and CSP violations seen by a page; a test fails on any of them."""

    # What Chromium logs when a test takes a context offline (`context.set_offline(True)`)
    # and the page tries to reconnect: the network's doing, expected, not the page's.
    OFFLINE = "net::ERR_INTERNET_DISCONNECTED"

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.allowed: list[str] = [self.OFFLINE]

    def console(self, message) -> None:
        if message.type == "error" and not any(a in message.text for a in self.allowed):
            self.messages.append(message.text)

    def watch(self, page) -> None:
        page.on("console", self.console)
        page.on("pageerror", lambda e: self.messages.append(str(e)))


@pytest.fixture
def new_page(browser):
    """new_page(viewport=DESKTOP) → a page in a fresh context (a separate person: own
    cookies and storage); new_page(context=page.context) → another tab of the same person.
    Fails the test on JS errors and CSP violations in any of them."""
    contexts = []
    problems = PageProblems()

    def make(viewport: dict | None = None, context=None):
        if context is None:
            context = browser.new_context(viewport=viewport or DESKTOP, locale="ru-RU")
            context.set_default_timeout(10_000)
            contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    # new_page.allow("…409 (CONFLICT)") when a test expects the browser to log that
    make.allow = problems.allowed.append
    yield make
    for context in contexts:
        context.close()
    assert problems.messages == [], problems.messages


def login(page, server: LiveServer, email: str, password: str) -> None:
    page.goto(server.url + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.form-stack button[type=submit]")
    # «Выйти» is in the menu, which a phone keeps folded
    page.wait_for_selector("text=Выйти", state="attached")


def assert_no_horizontal_scroll(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


# axe-core is served by the app itself (static/vendor), so the page's CSP (`script-src
# 'self'`) allows it; `add_script_tag(path=…)` would inline it and CSP blocks inline scripts.
AXE_URL = "/static/vendor/axe-core/axe.min.js"
SERIOUS = ("serious", "critical")


def axe_violations(page) -> list[dict]:
    """Run the axe-core scan on what the page shows now; every violation with its nodes."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + " — " + n.failureSummary),
            }));
        }"""
    )


def assert_accessible(page) -> list[dict]:
    """No serious or critical axe violations; returns the minor ones (for reports)."""
    violations = axe_violations(page)
    serious = [v for v in violations if v["impact"] in SERIOUS]
    assert not serious, f"{page.url}: " + "\n".join(
        f"[{v['impact']}] {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"][:5])
        for v in serious
    )
    return [v for v in violations if v["impact"] not in SERIOUS]


def assert_controls_reachable(page) -> None:
    """Every visible link, button and field lies within the viewport's width (a finger can
    reach it without sideways scrolling) and is big enough to tap (at least 24×24 px, WCAG
    2.2 target size; inline links in running text are exempt, those of the menu are not).
    Content inside its own horizontally scrollable box (a wide table) is reachable by
    scrolling that box."""
    problems = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const scrollsInside = el => {
                for (let p = el.parentElement; p; p = p.parentElement) {
                    const style = getComputedStyle(p);
                    if (/(auto|scroll)/.test(style.overflowX) && p.scrollWidth > p.clientWidth)
                        return true;
                }
                return false;
            };
            // inline links in text and crumbs have room around them (WCAG's spacing
            // exception); the phone menu's links are a list of targets and must be big
            const inline = el => el.tagName === "A" && getComputedStyle(el).display === "inline"
                && !el.closest(".site-nav");
            const out = [];
            for (const el of document.querySelectorAll(
                    "a[href], button, input:not([type=hidden]), select, textarea, summary")) {
                const r = el.getBoundingClientRect();
                if (r.width <= 1 || r.height <= 1 || el.closest(".skip-link, .visually-hidden"))
                    continue;
                if (getComputedStyle(el).visibility === "hidden") continue;
                const name = (el.innerText || el.getAttribute("aria-label") || el.name
                              || el.id || el.tagName).trim().slice(0, 40);
                const [x1, x2, w, h] = [r.left, r.right, r.width, r.height].map(Math.round);
                if ((r.left < -1 || r.right > width + 1) && !scrollsInside(el))
                    out.push(`${name}: outside the screen (${x1}..${x2} of ${width})`);
                else if (!inline(el) && !["checkbox", "radio"].includes(el.type)
                         && (w < 24 || h < 24))
                    out.push(`${name}: too small to tap (${w}×${h})`);
            }
            return out;
        }"""
    )
    assert problems == [], f"{page.url}: " + "; ".join(problems)
