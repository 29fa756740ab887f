"""Hypothesis fuzzing of the Markdown → HTML pipeline (kb/pages/render.py).

Inputs mix Markdown syntax, our wikilink/attachment syntax, HTML fragments and the shared
payloads; the stored HTML (and the view-time red-link marking) must stay inert.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.pages.render import mark_missing_links, render
from tests.conftest import SHARED_DIR, need
from tests.security.inert import dangers, load_payloads

HAVE_PAYLOADS = (SHARED_DIR / "security").is_dir()
# the strategies are built at import; without the lists every test below skips (fails in CI)
PAYLOADS = load_payloads(SHARED_DIR) if HAVE_PAYLOADS else ["<script>"]


@pytest.fixture(autouse=True, scope="module")
def payload_lists():
    need(HAVE_PAYLOADS, f"{SHARED_DIR / 'security'} is missing: the XSS payload lists")


PIECES = [
    "[", "]", "(", ")", "<", ">", '"', "'", "`", "```", "\n", "\n\n", "    ", "*", "_", "#",
    "|", "-", "!", "&", ";", ":", "/", "\\", "=", "javascript:", "JaVaScRiPt:", "vbscript:",
    "data:text/html,", "&#106;avascript:", "java\tscript:", "java&#x09;script:", "&colon;",
    "[[", "]]", "[[Страница|", "[[attachment:", "[[файл:", "![x](", "[x](", "<a href=",
    "<img src=x onerror=", "<svg/onload=", "<iframe src=", "<script>", "</script>", "<!--",
    "-->", "<style>", "<base href=", "<meta http-equiv=refresh content=0;url=", "onclick=",
    "<math><mi xlink:href=", "<form action=", "<button formaction=", "{: onclick=x}",
    "<details open ontoggle=", "\u200b", "\u202e", "\x00", "Ёлка", "http://example.org/",
]  # fmt: skip

markdownish = st.lists(
    st.one_of(st.sampled_from(PIECES), st.sampled_from(PAYLOADS), st.text(max_size=12)),
    max_size=30,
).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdownish)
def test_rendered_markdown_is_inert(body):
    rendered = render(body, 1)
    assert not dangers(rendered.html), (body, rendered.html)
    marked = mark_missing_links(rendered.html, set())
    assert not dangers(marked), (body, marked)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(PAYLOADS), st.sampled_from(PAYLOADS), st.sampled_from(PIECES))
def test_payloads_inside_links_and_code(first, second, piece):
    body = f"[{first}]({second})\n\n[[{first}|{second}]]\n\n`{piece}{first}`\n\n> {second}"
    html = render(body, 7).html
    assert not dangers(html), (body, html)
