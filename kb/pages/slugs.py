"""Page names in URLs: the title with spaces as ``_``, Unicode kept, NFC-normalized."""

import re
import unicodedata
from urllib.parse import quote

MAX_SLUG_LENGTH = 255
_SPACES = re.compile(r"\s+")
# Characters that would break a path segment or read as a different URL.
_UNSAFE = re.compile(r"[/\\]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


def slug_for_title(title: str) -> str:
    """«Растим инженеров» → «Растим_инженеров» (a slash becomes a dash)."""
    text = unicodedata.normalize("NFC", title).strip()
    text = _UNSAFE.sub("-", text)
    return _SPACES.sub("_", text)


def title_for_slug(slug: str) -> str:
    return slug.replace("_", " ")


def slug_problem(slug: str) -> str | None:
    """Why ``slug`` cannot name a page (a Russian message), or None when it can."""
    if not slug or not slug.strip("_"):
        return "Пустое имя страницы."
    if len(slug) > MAX_SLUG_LENGTH:
        return f"Имя страницы длиннее {MAX_SLUG_LENGTH} символов."
    if _CONTROL.search(slug):
        return "В имени страницы есть управляющие символы."
    if ".." in slug or "/" in slug or "\\" in slug:
        return "Имя страницы не может содержать «..», «/» или «\\»."
    if slug.startswith("."):
        return "Имя страницы не может начинаться с точки."
    if slug != unicodedata.normalize("NFC", slug):
        return "Имя страницы должно быть в форме NFC."
    return None


def page_path(slug: str) -> str:
    """The page's URL path, as written into stored HTML (wikilinks are found by it)."""
    return "/wiki/" + quote(slug, safe="")
