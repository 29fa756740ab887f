"""Markdown → safe HTML, done once per revision at save time (never on page view).

``render_markdown`` is the whole pipeline: Python-Markdown with our wikilink and attachment
syntax, then ``sanitize`` — the one and only place where HTML is cleaned (bleach is no longer
maintained: keep the allowlist tight, the strict CSP is the second wall).

Rendering runs inside save and preview requests, so its cost is bounded (``RenderBudget``):
nesting deeper than ``MAX_NESTING`` is refused before Python-Markdown recurses into it, link
brackets are matched within a window, and the whole pipeline ticks a CPU budget that also
yields to the other requests of the worker (``time.sleep(0)`` is a gevent switch in
``kb serve``).

Wikilinks are stored as ``<a class="wikilink" href="/wiki/<quoted slug>">``; whether they are
red (missing page) is decided on view by ``mark_missing_links`` with one cheap query, so
stored HTML stays correct when the target appears, disappears or is renamed.
"""

import re
import time
import xml.etree.ElementTree as etree
from contextvars import ContextVar
from dataclasses import dataclass, field
from html import escape
from urllib.parse import quote, unquote

import bleach
import markdown
import markdown.htmlparser
from bleach import html5lib_shim
from bleach.html5lib_shim import Filter
from flask_babel import gettext as _
from markdown.extensions import Extension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension, slugify_unicode
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

from kb.errors import InvalidInput
from kb.pages.slugs import page_path, slug_for_title, slug_problem

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
        "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th",
        "thead", "tr", "u", "ul",
    }
)  # fmt: skip
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
TAG_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
    "ol": {"start"},
    "abbr": {"title"},
}
# Classes our own Markdown produces; anything else is dropped (no styling tricks, no spoofing).
ALLOWED_CLASS = re.compile(r"^(wikilink|attachment|toc|language-[A-Za-z0-9_+#-]{1,30})$")
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "tel"})
NUMBER = re.compile(r"^\d{1,4}$")
ALIGN = frozenset({"left", "right", "center"})
EXTERNAL_REL = "nofollow noopener noreferrer"
ATTACHMENT_PREFIXES = ("attachment:", "файл:", "Файл:")
MAX_LINK_TEXT = 255
MAX_NESTING = 20  # lists and quotes inside each other (Python-Markdown recurses per level)
MAX_LINK_SCAN = 1000  # characters searched for the end of a link's [text] or (target)
MAX_LINK_BRACKETS = 32  # brackets inside one link's [text] or (target)
RENDER_CPU_SECONDS = 20.0  # Markdown + sanitizing of one body (a plain 1 MB page takes ~10 s)
YIELD_EVERY = 0.01  # seconds of rendering between two switches to other requests


class RenderBudget:
    """CPU time allowed to one render; ``tick`` also lets other requests of the worker run."""

    def __init__(self, seconds: float = RENDER_CPU_SECONDS):
        self.left = seconds
        self.since = time.thread_time()
        self.calls = 0

    def tick(self) -> None:
        self.calls += 1
        if self.calls % 64:
            return
        now = time.thread_time()
        spent = now - self.since
        if spent < YIELD_EVERY:
            return
        self.left -= spent
        if self.left < 0:
            raise InvalidInput(
                _(
                    "Текст слишком сложен для обработки: разметка не уложилась в отведённое "
                    "время. Разделите страницу на несколько или упростите разметку."
                )  # fmt: skip
            )
        time.sleep(0)  # a gevent switch: other requests are served meanwhile
        self.since = time.thread_time()  # what other requests spent is not ours


MAX_HTML_NESTING = 100  # raw HTML elements left open inside each other
# Elements that never hold others, or that the HTML parser closes by itself.
_NOT_NESTING = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot",
        "option", "optgroup", "rb", "rt", "rp", "colgroup", "caption",
    }
)  # fmt: skip
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]{0,30})(?:[\s/][^<>]{0,1024})?>")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_RULE = re.compile(r"^ {0,3}([-*_])( *\1){2,} *$")
_CONTAINER = re.compile(r" {0,3}>| {0,3}(?:[-*+]|\d{1,9}[.)])(?=[ \t])|\t| {4}")


def check_nesting(body: str) -> None:
    """Refuse raw HTML elements nested deeper than ``MAX_HTML_NESTING`` (the sanitizer's
    HTML parser looks through all open elements for each new one), and lists and quotes
    nested deeper than ``MAX_NESTING`` (counted generously: every quote marker, list marker
    and indentation step of a line is a level).

    Python-Markdown parses each level by recursion, and its cost grows with the square of
    the depth, so a few KB of nesting would take seconds and end in ``RecursionError``.
    """
    open_elements = 0
    for tag in _TAG.finditer(body):
        if tag.group(2).lower() in _NOT_NESTING or tag.group(0).endswith("/>"):
            continue
        open_elements = max(open_elements - 1, 0) if tag.group(1) else open_elements + 1
        if open_elements > MAX_HTML_NESTING:
            raise InvalidInput(
                _(
                    "Слишком много незакрытых HTML-тегов друг в друге: больше %(n)s. "
                    "Закройте теги или уберите лишние.",
                    n=MAX_HTML_NESTING,
                )  # fmt: skip
            )
    fence = None
    for line in body.splitlines():
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            continue
        if _RULE.match(line) or not line.strip():
            continue
        depth, at, markers = 0, 0, 0
        while True:  # each step moves past the line's prefix: linear in its length
            step = _CONTAINER.match(line, at)
            if not step or step.end() == at:
                break
            depth += 1
            markers += step.group(0).strip() not in ("", "\t")
            at = step.end()
            while at < len(line) and line[at] == " " and line[at : at + 4] != "    ":
                at += 1
        # Indentation alone (a code block, a continuation line, spaces pasted from Word) is
        # no new level: only a line with a quote or list marker opens one.
        if depth > MAX_NESTING and markers:
            raise InvalidInput(
                _(
                    "Слишком глубокая вложенность списков или цитат: больше %(n)s уровней. "
                    "Упростите структуру текста.",
                    n=MAX_NESTING,
                )  # fmt: skip
            )


def allow_attribute(tag: str, name: str, value: str) -> bool:
    """The attribute allowlist (bleach additionally checks URL protocols)."""
    if name == "class":
        return all(ALLOWED_CLASS.match(part) for part in value.split()) and bool(value.strip())
    if name == "id":
        return tag in HEADINGS and len(value) <= 120
    if name in {"width", "height", "colspan", "rowspan", "start"}:
        return tag in TAG_ATTRIBUTES and name in TAG_ATTRIBUTES[tag] and bool(NUMBER.match(value))
    if name == "align":
        return name in TAG_ATTRIBUTES.get(tag, ()) and value in ALIGN
    return name in TAG_ATTRIBUTES.get(tag, ())


class ExternalLinks(Filter):
    """Give links that leave the site ``rel="nofollow noopener noreferrer"``."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "a":
                attrs = token["data"]
                href = attrs.get((None, "href"), "")
                if re.match(r"^\s*(https?:)?//", href, re.IGNORECASE):
                    attrs[(None, "rel")] = EXTERNAL_REL
                else:
                    attrs.pop((None, "rel"), None)
            yield token


_EtreeWalker = html5lib_shim.getTreeWalker("etree")


class _Walker(_EtreeWalker):
    """html5lib's etree walker finds a node's place among its siblings with ``list.index``
    (quadratic for a page of many paragraphs or a long list); this one remembers it."""

    def __init__(self, tree):
        super().__init__(tree)
        self._positions: dict[int, dict[int, int]] = {}

    def getParentNode(self, node):  # noqa: N802 (html5lib API)
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            return (element, key, parents, None) if parents else element
        parent = parents.pop()
        if not parents:
            return parent
        grand = parents[-1]
        positions = self._positions.get(id(grand))
        if positions is None:
            positions = {id(child): i for i, child in enumerate(grand)}
            self._positions[id(grand)] = positions
        return parent, positions[id(parent)], parents, None


def _budget_filter(budget: RenderBudget):
    class Budgeted(Filter):
        def __iter__(self):
            for token in super().__iter__():
                budget.tick()
                yield token

    return Budgeted


def sanitize(html: str, budget: RenderBudget | None = None) -> str:
    """The single sanitizing function for user-authored HTML."""
    filters = [ExternalLinks] + ([_budget_filter(budget)] if budget else [])
    # A cleaner per call: the parser keeps state, and a budgeted render yields mid-way.
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=allow_attribute,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=filters,
    )
    cleaner.walker = _Walker
    return cleaner.clean(html)


def file_path(page_id: int, filename: str) -> str:
    return f"/files/{page_id}/{quote(filename, safe='')}"


class WikiLinks(InlineProcessor):
    """``[[Title]]`` and ``[[Title|label]]`` → a link to the page (red if missing, on view)."""

    def handleMatch(self, m, data):  # noqa: N802 (Python-Markdown API)
        target, label = m.group(1).strip(), (m.group(2) or m.group(1)).strip()
        if target.startswith(ATTACHMENT_PREFIXES):
            name = target.split(":", 1)[1].strip()
            element = etree.Element("a")
            element.set("href", "attachment:" + name)
            element.text = label if m.group(2) else name
            return element, m.start(0), m.end(0)
        slug = slug_for_title(target)
        if slug_problem(slug) or len(label) > MAX_LINK_TEXT:
            return None, None, None
        element = etree.Element("a")
        element.set("href", page_path(slug))
        element.set("class", "wikilink")
        element.text = label
        self.md.wikilink_targets.add(slug)
        return element, m.start(0), m.end(0)


class AttachmentLinks(Treeprocessor):
    """``![схема](attachment:схема.png)`` and ``[план](attachment:план.pdf)`` → the page's file."""

    def run(self, root):
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value and value.startswith(ATTACHMENT_PREFIXES):
                    name = unquote(value.split(":", 1)[1]).strip()
                    self.md.attachment_names.add(name)
                    page_id = self.md.page_id
                    element.set(attribute, file_path(page_id, name) if page_id else "#")
                    element.set("class", "attachment")


class _BoundedStartTag:
    """Python's ``html.parser`` (which Python-Markdown runs over the whole body to find raw
    HTML) matches each ``<tag`` with a regex that may run to the end of the text: quadratic
    for thousands of unclosed ``<a``. A start tag longer than this is treated as text."""

    def __init__(self, pattern: re.Pattern, limit: int = 1024):
        self.pattern, self.limit = pattern, limit

    def match(self, string: str, pos: int = 0):
        budget = _current_budget.get()
        if budget:
            budget.tick()
        return self.pattern.match(string, pos, pos + self.limit)


_current_budget: ContextVar["RenderBudget | None"] = ContextVar("render_budget", default=None)


_html = markdown.htmlparser.htmlparser  # Python-Markdown's own patched copy of html.parser
if not isinstance(_html.locatestarttagend_tolerant, _BoundedStartTag):
    _html.locatestarttagend_tolerant = _BoundedStartTag(_html.locatestarttagend_tolerant)

LINK_PATTERNS = (
    "reference", "link", "image_link", "image_reference", "short_reference", "short_image_ref",
)  # fmt: skip
_BRACKETS = re.compile(r"[\[\]]")


def _bounded_get_text(data: str, index: int) -> tuple[str, int, bool]:
    """Python-Markdown's ``getText`` (the ``[text]`` of a link, nested brackets allowed),
    looking at most ``MAX_LINK_SCAN`` characters and ``MAX_LINK_BRACKETS`` brackets ahead:
    the original walks to the end of the paragraph from every ``[``."""
    end = min(len(data), index + MAX_LINK_SCAN)
    depth = 1
    for seen, bracket in enumerate(_BRACKETS.finditer(data, index, end)):
        if seen >= MAX_LINK_BRACKETS:
            break
        depth += 1 if bracket.group() == "[" else -1
        if depth == 0:
            return data[index : bracket.start()], bracket.end(), True
    return "", index, False


def _bounded_get_link(get_link):
    """``getLink`` (the ``(target "title")`` of a link) within ``MAX_LINK_SCAN`` characters."""

    def bounded(data: str, index: int):
        window = data[index : index + MAX_LINK_SCAN]
        if ")" not in window:
            return "", None, index, False
        href, title, end, handled = get_link(window, 0)
        return href, title, index + end, handled

    return bounded


def _budgeted(handler, budget: RenderBudget):
    def call(*args):
        budget.tick()
        return handler(*args)

    return call


class WikiExtension(Extension):
    def __init__(self, page_id: int | None = None, budget: RenderBudget | None = None, **kwargs):
        self.page_id = page_id
        self.budget = budget or RenderBudget()
        super().__init__(**kwargs)

    def extendMarkdown(self, md):  # noqa: N802 (Python-Markdown API)
        md.page_id = self.page_id
        md.wikilink_targets = set()
        md.attachment_names = set()
        md.registerExtension(self)
        md.inlinePatterns.register(
            WikiLinks(r"\[\[([^\[\]|\n]+?)(?:\|([^\[\]\n]+?))?\]\]", md), "wikilink", 175
        )
        md.treeprocessors.register(AttachmentLinks(md), "attachment_links", 1)
        for name in LINK_PATTERNS:
            pattern = md.inlinePatterns[name]
            pattern.getText = _bounded_get_text
            if hasattr(pattern, "getLink"):
                pattern.getLink = _bounded_get_link(pattern.getLink)
        # Every inline match and every block test ticks the budget (and yields).
        for pattern in md.inlinePatterns:
            pattern.handleMatch = _budgeted(pattern.handleMatch, self.budget)
        for processor in md.parser.blockprocessors:
            processor.test = _budgeted(processor.test, self.budget)

    def reset(self):
        pass


@dataclass
class Rendered:
    html: str
    links: set[str] = field(default_factory=set)
    attachments: set[str] = field(default_factory=set)


def render(body: str, page_id: int | None = None) -> Rendered:
    """Markdown → sanitized HTML, with the wiki links and attachments it names.

    Raises ``InvalidInput`` for nesting deeper than ``MAX_NESTING`` and for a body whose
    rendering does not fit ``RENDER_CPU_SECONDS``.
    """
    check_nesting(body)
    budget = RenderBudget()
    md = markdown.Markdown(
        extensions=[
            TableExtension(use_align_attribute=True),
            "fenced_code",
            "sane_lists",
            TocExtension(slugify=slugify_unicode, toc_depth="2-4"),
            WikiExtension(page_id=page_id, budget=budget),
        ],
        output_format="html",
    )
    token = _current_budget.set(budget)
    try:
        html = md.convert(body)
    finally:
        _current_budget.reset(token)
    return Rendered(sanitize(html, budget), set(md.wikilink_targets), set(md.attachment_names))


def render_markdown(body: str, page_id: int | None = None) -> str:
    return render(body, page_id).html


WIKILINK_TAG = re.compile(r'<a class="wikilink" href="/wiki/([^"?#]+)">')


def linked_slugs(html: str) -> set[str]:
    return {unquote(m.group(1)) for m in WIKILINK_TAG.finditer(html)}


def mark_missing_links(html: str, existing: set[str]) -> str:
    """Turn wikilinks to pages not in ``existing`` into red «create» links (string work only)."""

    def replace(match: re.Match) -> str:
        slug = unquote(match.group(1))
        if slug in existing:
            return match.group(0)
        title = escape(f"Страницы «{slug.replace('_', ' ')}» ещё нет — создать", quote=True)
        return (
            f'<a class="wikilink missing" href="/wiki/{match.group(1)}/edit" '
            f'title="{title}" rel="nofollow">'
        )

    return WIKILINK_TAG.sub(replace, html)
