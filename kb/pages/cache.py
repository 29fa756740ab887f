"""Whole page views for guests, kept rendered and compressed in each process.

A guest reading a page has nothing personal on it: no forms (editing, uploading and
deleting are for signed-in people), so the view is rendered without a CSRF token and
without touching the session, and every guest gets the same bytes. They are kept
gzip-compressed (about a quarter of the HTML) within ``KB_PAGE_CACHE_MB`` and sent as they
are to every client that accepts gzip.

An entry is valid while the search change log has not moved: every page and attachment
change writes a row there in its own transaction, so an edit, rename, deletion or restore,
a new link from another page (backlinks, red links) and an attachment all invalidate it.
The log's last id is read (one indexed query) at most every ``VERSION_TTL`` seconds, and at
once after a change committed in this process: another process's change reaches guests here
within half a second, as it reaches this process's search index. What the log does not see
(a person's or a space's new name) is covered by ``MAX_AGE``.
"""

import gzip
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Response, current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

from kb.database import db
from kb.search.changes import changes_committed
from kb.search.models import SearchChange

MAX_AGE = 120.0  # seconds
VERSION_TTL = 0.5  # seconds; the search indexer polls the change log as often
ENTRY_OVERHEAD = 300  # bytes a kept view costs besides its compressed HTML (key, entry, dict)


@dataclass(frozen=True)
class Entry:
    version: int
    stored_at: float
    gzipped: bytes


class GuestPageCache:
    """An LRU of compressed page views keyed by (slug, locale), bounded in bytes."""

    def __init__(self, budget_bytes: int):
        self.budget = budget_bytes
        self.used = 0
        self._entries: OrderedDict[tuple[str, str], Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._version: int | None = None
        self._version_read_at = 0.0

    def version(self) -> int:
        """The change log's last id, read again when older than ``VERSION_TTL``."""
        with self._lock:
            if self._version is not None:
                if time.monotonic() - self._version_read_at < VERSION_TTL:
                    return self._version
        version = db.session.scalar(sa.select(sa.func.max(SearchChange.id))) or 0
        with self._lock:
            self._version, self._version_read_at = version, time.monotonic()
        return version

    def forget_version(self, _app=None, **_kwargs) -> None:
        """A change was committed here: read the log again on the next view."""
        with self._lock:
            self._version = None

    def get(self, key: tuple[str, str], version: int) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.version != version or time.monotonic() - entry.stored_at > MAX_AGE:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry.gzipped

    def put(self, key: tuple[str, str], version: int, gzipped: bytes) -> None:
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = Entry(version, time.monotonic(), gzipped)
            self.used += len(gzipped) + ENTRY_OVERHEAD
            while self.used > self.budget and self._entries:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple[str, str]) -> None:
        self.used -= len(self._entries.pop(key).gzipped) + ENTRY_OVERHEAD

    def __len__(self) -> int:
        return len(self._entries)


def init_app(app) -> None:
    budget = app.config["KB_PAGE_CACHE_MB"] * 1024 * 1024
    app.extensions["kb_guest_pages"] = GuestPageCache(budget) if budget > 0 else None
    if budget > 0:
        changes_committed.connect(app.extensions["kb_guest_pages"].forget_version, sender=app)


class GuestView:
    """One page request's use of the cache: ``cached()`` before rendering, ``keep()`` after.

    ``context`` goes into the template: for a guest's plain view it leaves the CSRF token out.
    """

    def __init__(self, slug: str):
        self.cache: GuestPageCache | None = current_app.extensions.get("kb_guest_pages")
        self.key = (slug, str(get_locale()))
        self.version: int | None = None
        self.context = {"csrf_free": _is_plain_guest_request()}
        if self.cache is not None and self.context["csrf_free"]:
            # Read before rendering: a change committed meanwhile makes the entry stale.
            self.version = self.cache.version()

    def cached(self) -> Response | None:
        if self.version is None:
            return None
        gzipped = self.cache.get(self.key, self.version)
        if gzipped is None:
            return None
        if request.accept_encodings["gzip"]:
            response = Response(gzipped, mimetype="text/html")
            response.headers["Content-Encoding"] = "gzip"
            return response
        return Response(gzip.decompress(gzipped), mimetype="text/html")

    def keep(self, html: str) -> str:
        if self.version is not None:
            self.cache.put(self.key, self.version, gzip.compress(html.encode(), 6))
        return html


def _is_plain_guest_request() -> bool:
    """A guest with nothing personal to show (no flashed message) asking for the current text."""
    return not current_user.is_authenticated and not request.args and not session.get("_flashes")
