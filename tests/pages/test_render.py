"""Rendering: Markdown features, wikilinks, red links that follow the wiki, sanitizing."""

import re
from html.parser import HTMLParser

import pytest

from kb.pages import service as pages
from kb.pages.render import ALLOWED_TAGS, mark_missing_links, render, sanitize
from tests.conftest import SHARED_DIR

DANGEROUS_URL = re.compile(r"^\s*(javascript|vbscript|data|livescript)\s*:", re.IGNORECASE)


class Inspector(HTMLParser):
    """Collects anything executable left in sanitized HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag {tag}")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.problems.append(f"attribute {name}")
            compact = re.sub(r"[\x00-\x20]", "", value or "")
            if name in ("href", "src") and DANGEROUS_URL.match(compact):
                self.problems.append(f"url {value}")

    handle_startendtag = handle_starttag


def problems(html: str) -> list[str]:
    inspector = Inspector()
    inspector.feed(html)
    return inspector.problems


def payloads() -> list[str]:
    lines = []
    for path in sorted(SHARED_DIR.glob("security/*.txt")):
        lines += [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines


def test_markdown_features():
    html = render(
        "# Конспект\n\n[TOC]\n\n## Ход занятия\n\n| Шаг | Время |\n|:--|--:|\n| 1 | 5 мин |\n\n"
        "```python\nprint('привет')\n```\n\n1. раз\n2. два\n"
    ).html
    assert '<h2 id="ход-занятия">' in html  # Cyrillic anchors (slugify_unicode)
    assert '<a href="#ход-занятия">' in html
    assert '<td align="right">5 мин</td>' in html and "style=" not in html
    assert '<code class="language-python">' in html
    assert "<ol>" in html


def test_wikilinks_and_labels():
    result = render("См. [[Растим инженеров]] и [[Пчёлки Bee-Bot: первое занятие|пчёлки]].")
    assert result.links == {"Растим_инженеров", "Пчёлки_Bee-Bot:_первое_занятие"}
    assert '<a class="wikilink" href="/wiki/%D0%A0' in result.html
    assert ">пчёлки</a>" in result.html
    assert "`[[x]]`" not in render("`[[x]]`").html and not render("`[[x]]`").links


def test_bad_wikilink_targets_stay_text():
    result = render("[[../../etc]] и [[a\x07b]]")
    assert not result.links and "wikilink" not in result.html


def test_attachment_links_point_to_the_page_files():
    result = render("![Схема](attachment:схема.png) и [[Файл:план занятия.pdf]]", page_id=7)
    assert 'src="/files/7/%D1%81%D1%85%D0%B5%D0%BC%D0%B0.png"' in result.html
    assert 'href="/files/7/%D0%BF%D0%BB%D0%B0%D0%BD%20' in result.html
    assert result.attachments == {"схема.png", "план занятия.pdf"}


def test_external_links_get_rel_and_internal_do_not():
    html = sanitize(
        '<a href="https://пример.рф/x" rel="opener">ext</a> <a href="/wiki/X" rel="me">in</a>'
    )
    assert 'rel="nofollow noopener noreferrer"' in html
    assert '<a href="/wiki/X">in</a>' in html
    assert 'rel="nofollow noopener noreferrer"' in render("[x](//evil.example/)").html


def test_sanitizer_drops_classes_and_ids_it_does_not_know():
    html = sanitize('<p class="site-nav" id="site-nav">x</p><h2 id="ok" class="wikilink">y</h2>')
    assert html == '<p>x</p><h2 id="ok" class="wikilink">y</h2>'


def test_red_links_are_marked_cheaply():
    html = render("[[Есть]] [[Нет]]").html
    marked = mark_missing_links(html, {"Есть"})
    assert marked.count("missing") == 1
    assert '<a class="wikilink missing" href="/wiki/%D0%9D%D0%B5%D1%82/edit"' in marked


def test_red_links_follow_creation_deletion_and_rename(ctx):
    pages.put_page("Ссылки", title=None, body="[[Цель]]", author=ctx["editor"], base_revision=None)
    stored_html = pages.find_page("Ссылки").html

    def shown():
        return pages.display_html(pages.find_page("Ссылки").html)

    assert "missing" in shown()
    pages.put_page("Цель", title=None, body="есть", author=ctx["editor"], base_revision=None)
    assert "missing" not in shown()
    target = pages.find_page("Цель")
    pages.rename_page(target, "Цель занятия", ctx["editor"])
    assert "missing" not in shown()  # the old name redirects
    pages.delete_page(target, ctx["admin"])
    assert "missing" in shown()
    pages.restore_page(target, ctx["admin"])
    assert "missing" not in shown()
    assert pages.find_page("Ссылки").html == stored_html  # stored HTML never re-rendered


def test_shared_xss_payloads_render_inert(shared_dir):
    lines = payloads()
    assert len(lines) > 500
    for payload in lines:
        for body in (payload, f"[x]({payload})", f"[[{payload}]]", f"![a]({payload})"):
            html = render(body).html
            assert not problems(html), (payload, html)


@pytest.mark.parametrize(
    "body",
    [
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href="\u200bjavascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        '<img src="x" onerror="alert(1)">',
        "<svg><script>alert(1)</script></svg>",
        '<iframe src="https://evil.example"></iframe>',
        "<style>body{display:none}</style>",
        '<div style="background:url(javascript:alert(1))">x</div>',
        '<form action="https://evil.example"><button>x</button></form>',
    ],
)
def test_known_tricks_render_inert(body):
    html = render(body).html
    assert not problems(html), html
    assert "<script" not in html and "<iframe" not in html and "<form" not in html
