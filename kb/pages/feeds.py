"""Atom feeds of recent changes (global and per space), built with xml.etree."""

import xml.etree.ElementTree as etree
from urllib.parse import quote

from kb.pages.service import Change
from kb.urls import base_url

ATOM = "http://www.w3.org/2005/Atom"
KIND_LABELS = {
    "create": "создана",
    "edit": "изменена",
    "rename": "переименована",
    "move": "перенесена",
    "delete": "удалена",
    "restore": "восстановлена",
    "revert": "возвращена к прежней версии",
}


def _stamp(moment) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


def atom_feed(*, title: str, feed_url: str, site_url: str, changes: list[Change]) -> bytes:
    etree.register_namespace("", ATOM)
    feed = etree.Element(f"{{{ATOM}}}feed")
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "ru")

    def add(parent, tag, text=None, **attrs):
        element = etree.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    add(feed, "id", feed_url)
    add(feed, "title", title)
    add(feed, "link", rel="self", href=feed_url, type="application/atom+xml")
    add(feed, "link", rel="alternate", href=site_url, type="text/html")
    updated = changes[0].revision.created_at if changes else None
    add(feed, "updated", _stamp(updated) if updated else "1970-01-01T00:00:00Z")
    root = base_url()
    for change in changes:
        revision = change.revision
        page_url = f"{root}/wiki/{quote(change.page.slug, safe='')}"
        entry = add(feed, "entry")
        add(entry, "id", f"{root}/pages/{change.page.id}/revisions/{revision.number}")
        kind = KIND_LABELS.get(revision.kind, revision.kind)
        add(entry, "title", f"{revision.title} — {kind} (версия {revision.number})")
        link = page_url
        if revision.parent_number:
            link = f"{page_url}/diff?from={revision.parent_number}&to={revision.number}"
        add(entry, "link", rel="alternate", href=link, type="text/html")
        add(entry, "updated", _stamp(revision.created_at))
        author = add(entry, "author")
        name = change.author.display_name if change.author else "—"
        add(author, "name", name)
        delta = f"{change.delta:+d} байт"
        add(entry, "summary", f"{revision.comment or 'Без описания'} ({delta})")
        add(entry, "category", term=change.page.space.slug, label=change.page.space.title)
    return etree.tostring(feed, encoding="utf-8", xml_declaration=True)
