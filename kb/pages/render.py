"""Markdown → safe HTML, done once per revision at save time (never on page view).

``render_markdown`` is the whole pipeline: Python-Markdown with our wikilink and attachment
syntax, then ``sanitize`` — the one and only place where HTML is cleaned (bleach is no longer
maintained: keep the allowlist tight, the strict CSP is the second wall).

Wikilinks are stored as ``<a class="wikilink" href="/wiki/<quoted slug>">``; whether they are
red (missing page) is decided on view by ``mark_missing_links`` with one cheap query, so
stored HTML stays correct when the target appears, disappears or is renamed.
"""

import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field
from html import escape
from urllib.parse import quote, unquote

import bleach
import markdown
from bleach.html5lib_shim import Filter
from markdown.extensions import Extension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension, slugify_unicode
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

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


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=allow_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[ExternalLinks],
)


def sanitize(html: str) -> str:
    """The single sanitizing function for user-authored HTML."""
    return _cleaner.clean(html)


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


class WikiExtension(Extension):
    def __init__(self, page_id: int | None = None, **kwargs):
        self.page_id = page_id
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

    def reset(self):
        pass


@dataclass
class Rendered:
    html: str
    links: set[str] = field(default_factory=set)
    attachments: set[str] = field(default_factory=set)


def render(body: str, page_id: int | None = None) -> Rendered:
    md = markdown.Markdown(
        extensions=[
            TableExtension(use_align_attribute=True),
            "fenced_code",
            "sane_lists",
            TocExtension(slugify=slugify_unicode, toc_depth="2-4"),
            WikiExtension(page_id=page_id),
        ],
        output_format="html",
    )
    html = md.convert(body)
    return Rendered(sanitize(html), set(md.wikilink_targets), set(md.attachment_names))


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
