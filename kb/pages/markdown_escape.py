"""Other people's text inside Markdown we generate: shown exactly as typed, never as markup.

Pages written by the application (survey results, a board's feedback, consulting-centre FAQ)
quote what respondents, participants and askers typed. Put into the Markdown raw, that text
would become live links, images, headings, our ``[[wikilink]]``/attachment syntax or HTML —
and long runs of ``[``/``](`` make the Markdown parser slow. These functions turn the text
into Markdown that ``kb.pages.render`` shows as the literal characters.

How (for Python-Markdown with our extensions): characters it can escape get a backslash,
``&``/``<``/``>`` become entities (a backslash before ``<`` is not an escape there), and at a
line's start ``=``/``~`` (setext heading, ``~~~`` fence) become entities, ``-``/``+`` and
``1.`` get a backslash. Leading and trailing spaces are dropped (no indented code block,
no trailing hard break), and so are control characters (Python-Markdown keeps its own
placeholders in ``\\x02``/``\\x03``).
"""

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BACKSLASHED = re.compile(r"([\\`*_\[\]#|])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ENTITY_CHARS = re.compile(r"[&<>]")
_LINE_START = {"=": "&#61;", "~": "&#126;", "-": "\\-", "+": "\\+"}
_ORDERED = re.compile(r"^(\d+)([.)])")


def _escape_line(line: str) -> str:
    line = " ".join(line.split())  # also tabs: no indented code, no trailing line break
    line = _ENTITY_CHARS.sub(lambda m: _ENTITIES[m.group(0)], line)
    line = _BACKSLASHED.sub(r"\\\1", line)
    if line[:1] in _LINE_START:
        line = _LINE_START[line[0]] + line[1:]
    return _ORDERED.sub(r"\1\\\2", line)


def escape_markdown_lines(text: str | None) -> list[str]:
    """The text's lines, each escaped; blank lines stay (as ``""``) for the caller to use."""
    text = _CONTROL.sub("", str(text or "").replace("\r\n", "\n").replace("\r", "\n"))
    return [_escape_line(line) for line in text.split("\n")]


# A link to a wiki page, the one piece of markup a methodist's answer keeps: it can only
# point inside the wiki (never an attachment, another site or an image).
_WIKILINK = re.compile(
    r"\[\[(?!\s*(?:файл|file)\s*:)([^\[\]|\n]{1,200})(\|[^\[\]\n]{1,200})?\]\]", re.I
)
_SLOT = re.compile("\ue000(\\d+)\ue001")


def escape_markdown_lines_keeping_wikilinks(text: str | None) -> list[str]:
    """Like ``escape_markdown_lines``; ``[[Страница]]``, ``[[Страница|текст]]`` stay links."""
    text = str(text or "").replace("\ue000", "").replace("\ue001", "")
    links: list[str] = []

    def keep(match: re.Match) -> str:
        links.append(match.group(0))
        return f"\ue000{len(links) - 1}\ue001"

    escaped = escape_markdown_lines(_WIKILINK.sub(keep, text))
    return [_SLOT.sub(lambda m: links[int(m.group(1))], line) for line in escaped]


def escape_markdown(text: str | None, *, separator: str = "  \n") -> str:
    """The text as Markdown showing it literally; non-blank lines joined by ``separator``
    (a hard line break by default; ``" "`` for one line: a table cell, heading, list item)."""
    return separator.join(line for line in escape_markdown_lines(text) if line)


def escape_markdown_inline(text: str | None) -> str:
    """One line (table cell, heading, list item): line breaks become spaces."""
    return escape_markdown(text, separator=" ")
