"""Whole rendered page views for guests, kept in each process.

Two guests see the same page view except for their CSRF token (the ``<meta>`` tag and the
hidden inputs), so the rendered HTML is kept with the token replaced by a marker, and the
marker is replaced by the asking session's own token on the way out: the security design
(a token per session, in the HTML) stays as it is.

An entry is valid while the search change log has not moved: every page and attachment
change writes a row there in its own transaction, so an edit, rename, deletion or restore,
a new link from another page (backlinks, red links) and an attachment all invalidate it,
in every process, at the cost of one indexed query. What the log does not see (a person's or
a space's new name) is covered by ``MAX_AGE``.
"""

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from kb.database import db
from kb.search.models import SearchChange

MAX_AGE = 30.0  # seconds


@dataclass(frozen=True)
class Entry:
    version: int
    stored_at: float
    html: str


class GuestPageCache:
    """A bounded LRU of rendered page views keyed by (slug, locale)."""

    def __init__(self, size: int):
        self.size = size
        self.marker = f"kb-csrf-{secrets.token_hex(16)}"
        self._entries: OrderedDict[tuple[str, str], Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], version: int) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.version != version or time.monotonic() - entry.stored_at > MAX_AGE:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry.html

    def put(self, key: tuple[str, str], version: int, html: str) -> None:
        with self._lock:
            self._entries[key] = Entry(version, time.monotonic(), html)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def init_app(app) -> None:
    size = app.config["KB_PAGE_CACHE_SIZE"]
    app.extensions["kb_guest_pages"] = GuestPageCache(size) if size > 0 else None


def _cache() -> GuestPageCache | None:
    return current_app.extensions.get("kb_guest_pages")


class GuestView:
    """One page request's use of the cache: ``cached()`` before rendering, ``keep()`` after."""

    def __init__(self, slug: str):
        self.cache = _cache()
        self.key = (slug, str(get_locale()))
        self.version: int | None = None
        if self.cache is not None and _is_plain_guest_request():
            # Read before rendering: a change committed meanwhile makes the entry stale.
            self.version = db.session.scalar(sa.select(sa.func.max(SearchChange.id))) or 0

    def cached(self) -> str | None:
        if self.version is None:
            return None
        html = self.cache.get(self.key, self.version)
        return None if html is None else html.replace(self.cache.marker, generate_csrf())

    def keep(self, html: str) -> str:
        if self.version is not None:
            self.cache.put(self.key, self.version, html.replace(generate_csrf(), self.cache.marker))
        return html


def _is_plain_guest_request() -> bool:
    """A guest with nothing personal to show (no flashed message) asking for the current text."""
    return not current_user.is_authenticated and not request.args and not session.get("_flashes")
