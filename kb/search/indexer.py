"""Keeping the index in step with the database (the database is the truth).

* :func:`catch_up` applies the rows of ``search_changes`` in id order, re-reading each
  changed page/attachment from the database (so applying a change twice is harmless), and
  commits the new position together with the documents (see ``kb.search.index``).
* Gaps: on PostgreSQL a transaction can commit id 7 while id 6 is still open. Ids skipped
  over are kept in the state as *gaps* and looked up again at every catch-up until they
  appear or ``GAP_TTL`` seconds pass (a rolled-back transaction leaves a gap for ever).
  SQLite has one writer at a time, so ids always commit in order there.
* :func:`extract_pending` reads attachment text (``text_status == "pending"``) in child
  processes and stores it in the database with a new change row, which the next catch-up
  applies. The pending state lives in the database, so it survives restarts.
* :func:`rebuild` builds a new generation from the tables while search keeps answering from
  the old one, catches it up under the write lock and swaps it in.
* :class:`IndexWorker` runs all this in the background of a serving process (a greenlet
  under gevent); a commit that recorded a change wakes it at once.
"""

import html
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy import orm as so
from whoosh.writing import IndexWriter

from kb.database import db
from kb.pages.models import Attachment, AttachmentVersion, Page, Revision
from kb.search.analysis import normalize_text
from kb.search.extract import Extracted, extract_text
from kb.search.index import (
    EXTRACT_LOCK,
    REBUILD_LOCK,
    SCHEMA_VERSION,
    WRITE_LOCK,
    IndexBusy,
    IndexMissing,
    current_generation,
    file_lock,
    index_root,
    lock_is_held,
    new_generation,
    open_generation,
    open_searcher,
    read_state,
    state_document,
    swap_generation,
)
from kb.search.models import SearchChange

log = logging.getLogger(__name__)

BATCH = 500  # changes per Whoosh commit
GAP_TTL = 600.0  # seconds a missing change id is looked for again
GAP_LOOKBACK = 1000  # after a rebuild: ids this far below the snapshot may still commit
MAX_GAPS = 10_000
WRITE_LOCK_TIMEOUT = 30.0
REBUILD_LOCK_TIMEOUT = 3600.0
WHOOSH_LOCK_TIMEOUT = 10.0
EXTRACT_BATCH = 20
REBUILD_CHUNK = 200
PARALLEL_REBUILD_MIN = 2000  # pages: below this, child processes cost more than they save
WORKER_INTERVAL = 30.0
# How often the worker asks the database for changes committed by *other* processes or
# machines (its own commits wake it at once). One indexed MAX() query per poll.
CHANGE_POLL_INTERVAL = 0.5

Progress = Callable[[int], None]


class StaleIndex(Exception):
    """The index has no state or an older schema: it must be rebuilt."""


# --- documents ----------------------------------------------------------------------------


BLOCK_TAGS = {"p", "div", "li", "tr", "br", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "td", "th"}


class _TextParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Text of the page's rendered (sanitized) HTML: no Markdown syntax, no tags."""
    parser = _TextParser()
    parser.feed(markup or "")
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return html.unescape("\n".join(line for line in lines if line))


def _creator(session: so.Session, page: Page):
    prefetched = session.info.get(FIRST_REVISIONS, {})
    revision = prefetched.get(page.id) or session.scalar(
        sa.select(Revision).where(Revision.page_id == page.id).order_by(Revision.number).limit(1)
    )
    return (revision.author if revision else None) or page.updated_by


FIRST_REVISIONS = "kb_search_first_revisions"
LIVE_ATTACHMENTS = "kb_search_live_attachments"


def _prefetch(session: so.Session, page_ids: list[int]) -> None:
    """Load a chunk of pages with their tags, authors and first revisions in four queries.

    The documents then read them from the session instead of querying page by page (a
    rebuild of 10,000 pages otherwise runs some 60,000 small queries).
    """
    session.scalars(
        sa.select(Page)
        .where(Page.id.in_(page_ids))
        .options(so.selectinload(Page.tags), so.joinedload(Page.updated_by))
    ).all()
    first = (
        sa.select(Revision.page_id, sa.func.min(Revision.number).label("number"))
        .where(Revision.page_id.in_(page_ids))
        .group_by(Revision.page_id)
        .subquery()
    )
    revisions = session.scalars(
        sa.select(Revision)
        .join(first, (Revision.page_id == first.c.page_id) & (Revision.number == first.c.number))
        .options(so.joinedload(Revision.author))
    ).all()
    session.info[FIRST_REVISIONS] = {revision.page_id: revision for revision in revisions}
    attachments: dict[int, list[Attachment]] = {page_id: [] for page_id in page_ids}
    for attachment in session.scalars(
        sa.select(Attachment)
        .where(Attachment.page_id.in_(page_ids), Attachment.deleted.is_(False))
        .options(so.selectinload(Attachment.versions).joinedload(AttachmentVersion.uploader))
        .order_by(Attachment.id)
    ):
        attachments[attachment.page_id].append(attachment)
    session.info[LIVE_ATTACHMENTS] = attachments


def _common(page: Page) -> dict:
    tags = [tag.name.replace(",", " ") for tag in page.tags]
    fields = {
        "page_id": str(page.id),
        "slug": page.slug,
        "page_title": page.title,
        "space": page.space.slug,
        "space_title": page.space.title,
    }
    if tags:
        fields["tag"] = ",".join(tags)  # filter and facet; only pages match tags as words
    return fields


def page_document(session: so.Session, page: Page) -> dict:
    text = normalize_text(html_to_text(page.html))
    title = normalize_text(page.title)
    author = _creator(session, page)
    doc = {
        **_common(page),
        "doc_id": f"page:{page.id}",
        "kind": "page",
        "title": title,
        "title_exact": title,
        "tags_text": " ".join(tag.name for tag in page.tags),
        "body": text,
        "body_exact": text,
        "updated": page.updated_at,
    }
    if author is not None:
        doc["author"] = author.name
        if author.organization is not None:
            doc["org"] = author.organization.short_name
    return doc


def attachment_document(attachment: Attachment) -> dict | None:
    if attachment.deleted or not attachment.versions:
        return None
    version = attachment.current
    page = attachment.page
    text = normalize_text(version.text or "") if version.text_status == "ok" else ""
    doc = {
        **_common(page),
        "doc_id": f"attachment:{attachment.id}",
        "kind": "attachment",
        "attachment_id": str(attachment.id),
        "filename": normalize_text(attachment.filename),
        "page_ref": normalize_text(page.title),
        "updated": version.created_at,
    }
    if text:
        doc["body"] = text
        doc["body_exact"] = text
    uploader = version.uploader
    if uploader is not None:
        doc["author"] = uploader.name
        if uploader.organization is not None:
            doc["org"] = uploader.organization.short_name
    return doc


def _index_page(writer: IndexWriter, session: so.Session, page_id: int) -> int:
    """(Re)index a page and all its attachments; returns the number of documents added."""
    writer.delete_by_term("page_id", str(page_id))
    page = session.get(Page, page_id)
    if page is None or page.deleted:
        return 0
    writer.add_document(**page_document(session, page))
    added = 1
    attachments = session.info.get(LIVE_ATTACHMENTS, {}).get(page_id)
    if attachments is None:
        attachments = session.scalars(
            sa.select(Attachment)
            .where(Attachment.page_id == page_id, Attachment.deleted.is_(False))
            .order_by(Attachment.id)
        )
    for attachment in attachments:
        doc = attachment_document(attachment)
        if doc is not None:
            writer.add_document(**doc)
            added += 1
    return added


def _index_attachment(writer: IndexWriter, session: so.Session, attachment_id: int) -> None:
    writer.delete_by_term("doc_id", f"attachment:{attachment_id}")
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.page is None or attachment.page.deleted:
        return
    doc = attachment_document(attachment)
    if doc is not None:
        writer.add_document(**doc)


# --- catching up with the change log ------------------------------------------------------


@contextmanager
def _transaction_kind(write: bool):
    """Tell kb.database which BEGIN this context's new SQLite transactions need."""
    had = "db_write" in g
    previous = g.get("db_write")
    g.db_write = write
    try:
        yield
    finally:
        if had:
            g.db_write = previous
        else:
            g.pop("db_write", None)


@contextmanager
def read_session():
    """A session of its own (never touches the caller's ``db.session``), reading only.

    A plain BEGIN: WAL readers never wait for (nor block) writers.
    """
    with _transaction_kind(write=False), so.Session(db.engine) as session:
        yield session


@contextmanager
def _write_session():
    """A session whose SQLite transaction starts with BEGIN IMMEDIATE (see kb.database)."""
    with _transaction_kind(write=True), so.Session(db.engine) as session:
        session.info["kb_search_changed"] = True
        yield session


def _load_state(ix) -> dict:
    with ix.searcher() as searcher:
        state = read_state(searcher)
    if state is None or state.get("schema") != SCHEMA_VERSION:
        raise StaleIndex("index state missing or schema changed")
    return state


def _apply_changes(ix) -> int:
    """Apply every committed change after the index's position; call under the write lock."""
    total = 0
    while True:
        state = _load_state(ix)
        applied = int(state["applied"])
        gaps = {int(k): float(v) for k, v in state.get("gaps", {}).items()}
        with read_session() as session:
            columns = (SearchChange.id, SearchChange.entity, SearchChange.entity_id)
            rows = session.execute(
                sa.select(*columns)
                .where(SearchChange.id > applied)
                .order_by(SearchChange.id)
                .limit(BATCH)
            ).all()
            found = []
            if gaps:
                found = session.execute(
                    sa.select(*columns).where(SearchChange.id.in_(list(gaps)))
                ).all()
            now = time.time()
            expired = [gap for gap, since in gaps.items() if now - since > GAP_TTL]
            if not rows and not found and not expired:
                return total

            new_applied = rows[-1].id if rows else applied
            seen = {row.id for row in rows}
            for missing in range(max(applied + 1, new_applied - MAX_GAPS), new_applied):
                if missing not in seen:
                    gaps[missing] = now
            for row in found:
                gaps.pop(row.id, None)
            for gap in expired:
                gaps.pop(gap, None)
            if len(gaps) > MAX_GAPS:
                gaps = dict(sorted(gaps.items())[-MAX_GAPS:])

            pages = {row.entity_id for row in [*rows, *found] if row.entity == "page"}
            attachments = {row.entity_id for row in [*rows, *found] if row.entity == "attachment"}
            if attachments:
                # A page refresh re-adds its attachments: never add one document twice.
                covered = session.scalars(
                    sa.select(Attachment.id).where(
                        Attachment.id.in_(attachments), Attachment.page_id.in_(pages or [-1])
                    )
                ).all()
                attachments -= set(covered)
            writer = ix.writer(timeout=WHOOSH_LOCK_TIMEOUT)
            try:
                for page_id in sorted(pages):
                    _index_page(writer, session, page_id)
                for attachment_id in sorted(attachments):
                    _index_attachment(writer, session, attachment_id)
                state = {
                    "schema": SCHEMA_VERSION,
                    "applied": new_applied,
                    "gaps": {str(k): v for k, v in gaps.items()},
                }
                writer.update_document(**state_document(state))
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
        total += len(rows) + len(found)
        if len(rows) < BATCH:
            return total


def _index_usable(root: Path) -> bool:
    generation = current_generation(root)
    if generation is None:
        return False
    try:
        _load_state(open_generation(generation))
        return True
    except (StaleIndex, FileNotFoundError, IndexMissing):
        return False
    except Exception:  # a broken index (e.g. a crash mid-commit): rebuild it
        log.exception("search index at %s is unreadable", generation)
        return False


def apply_changes(*, lock_timeout: float = WRITE_LOCK_TIMEOUT) -> int:
    root = index_root()
    with file_lock(root, WRITE_LOCK, lock_timeout):
        generation = current_generation(root)
        if generation is None:
            raise IndexMissing(str(root))
        return _apply_changes(open_generation(generation))


def catch_up(*, extract: bool = True, lock_timeout: float = WRITE_LOCK_TIMEOUT) -> int:
    """Bring the index up to the database; builds it first when it is missing or stale.

    Returns the number of change rows applied. Raises ``IndexBusy`` when another process
    held the write lock longer than ``lock_timeout`` (it is then catching up itself).
    """
    root = index_root()
    if not _index_usable(root):
        rebuild(only_if_missing=True)
    try:
        applied = apply_changes(lock_timeout=lock_timeout)
    except (StaleIndex, IndexMissing):
        rebuild(only_if_missing=True)
        applied = apply_changes(lock_timeout=lock_timeout)
    if extract and extract_pending():
        applied += apply_changes(lock_timeout=lock_timeout)
    return applied


def index_lag() -> int:
    """Committed changes the index has not applied yet."""
    with open_searcher(index_root()) as searcher:
        state = read_state(searcher) or {"applied": 0, "gaps": {}}
    gaps = [int(k) for k in state.get("gaps", {})]
    with read_session() as session:
        query = sa.select(sa.func.count(SearchChange.id)).where(
            sa.or_(SearchChange.id > int(state["applied"]), SearchChange.id.in_(gaps or [-1]))
        )
        return int(session.scalar(query) or 0)


def health() -> dict:
    """The index part of /healthz."""
    try:
        root = index_root()
        rebuilding = lock_is_held(root, REBUILD_LOCK)
        if current_generation(root) is None:
            return {"index": "rebuilding", "index_lag": None}
        lag = index_lag()
        return {"index": "rebuilding" if rebuilding else "ok", "index_lag": lag}
    except IndexMissing:
        return {"index": "rebuilding", "index_lag": None}
    except Exception:
        current_app.logger.exception("search index health check failed")
        return {"index": "error", "index_lag": None}


# --- attachment text ------------------------------------------------------------------------


def attachment_file(version: AttachmentVersion) -> Path:
    """Where the wiki stored the file (content-addressed by SHA-256)."""
    from kb.pages.attachments import blob_path

    return blob_path(version.sha256)


def extract_pending(limit: int = EXTRACT_BATCH, workers: int = 1) -> int:
    """Extract the text of up to ``limit`` pending attachment versions; returns how many.

    Only the current version of a live attachment is read. One process extracts at a time
    (a non-blocking lock: the others skip); ``workers`` > 1 reads that many files at once.
    Each result is stored with a change row in one transaction, so the index picks it up on
    its next catch-up.
    """
    root = index_root()
    try:
        with file_lock(root, EXTRACT_LOCK, timeout=0):
            return _extract_pending(limit, workers)
    except IndexBusy:
        return 0


def _read_attachment(item: tuple) -> Extracted | None:
    _version_id, _attachment_id, path, filename, content_type = item
    if not path.is_file():
        log.warning("attachment file %s is missing", path)
        return None
    return extract_text(path, filename, content_type)


def _extract_pending(limit: int, workers: int = 1) -> int:
    newest = (
        sa.select(sa.func.max(AttachmentVersion.number))
        .where(AttachmentVersion.attachment_id == Attachment.id)
        .correlate(Attachment)
        .scalar_subquery()
    )
    with read_session() as session:
        work = [
            (version.id, version.attachment_id, attachment_file(version), filename, version)
            for version, filename in session.execute(
                sa.select(AttachmentVersion, Attachment.filename)
                .join(Attachment, AttachmentVersion.attachment_id == Attachment.id)
                .where(
                    AttachmentVersion.text_status == "pending",
                    Attachment.deleted.is_(False),
                    AttachmentVersion.number == newest,
                )
                .order_by(AttachmentVersion.id)
                .limit(limit)
            )
        ]
        work = [(vid, aid, path, name, v.content_type) for vid, aid, path, name, v in work]
    if workers > 1:  # `kb reindex`: the reading happens in child processes, so threads suffice
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_read_attachment, work))
    else:
        results = map(_read_attachment, work)
    done = 0
    for (version_id, attachment_id, *_file), result in zip(work, results, strict=True):
        status = result.status if result else "failed"
        text = result.text.replace("\x00", "") if result and result.status == "ok" else None
        with _write_session() as session:
            updated = session.execute(
                sa.update(AttachmentVersion)
                .where(
                    AttachmentVersion.id == version_id,
                    AttachmentVersion.text_status == "pending",
                )
                .values(text=text, text_status=status)
            ).rowcount
            if updated:
                session.add(SearchChange(entity="attachment", entity_id=attachment_id))
            session.commit()
        done += 1
        time.sleep(0)  # let other greenlets run between files
    return done


# --- full rebuild -----------------------------------------------------------------------------


def rebuild_processes(pages: int) -> int:
    """Processes for `kb reindex`: one per available core, up to 4, for a large enough wiki."""
    if pages < PARALLEL_REBUILD_MIN:
        return 1
    return max(1, min(4, len(os.sched_getaffinity(0))))


def count_documents() -> int:
    with read_session() as session:
        pages = session.scalar(sa.select(sa.func.count(Page.id)).where(Page.deleted.is_(False)))
    return int(pages or 0)


def rebuild(
    progress: Progress | None = None,
    *,
    only_if_missing: bool = False,
    lock_timeout: float = REBUILD_LOCK_TIMEOUT,
    procs: int = 1,
) -> int:
    """Build a new generation from the database and swap it in; returns documents indexed.

    Search keeps answering from the old generation meanwhile, and other processes keep
    catching it up; the changes committed during the build are applied to the new
    generation under the write lock just before the swap.

    ``procs`` > 1 analyses the documents in that many child processes (Whoosh's MpWriter,
    one segment each): for ``kb reindex``, never inside a gevent server.
    """
    root = index_root()
    with file_lock(root, REBUILD_LOCK, lock_timeout):
        if only_if_missing and _index_usable(root):
            return 0
        generation = new_generation(root)
        try:
            ix = open_generation(generation)
            documents = _build(ix, progress, procs)
            _check_complete(ix, documents)
            with file_lock(root, WRITE_LOCK, WRITE_LOCK_TIMEOUT):
                _apply_changes(ix)
                swap_generation(root, generation)
        except BaseException:
            shutil.rmtree(generation, ignore_errors=True)
            raise
    return documents


def _build(ix, progress: Progress | None, procs: int = 1) -> int:
    documents = 0
    with read_session() as session:
        # The snapshot position first: anything committed later has a larger id (or, on
        # PostgreSQL, is an id below it not visible yet: those become gaps).
        top = int(session.scalar(sa.select(sa.func.max(SearchChange.id))) or 0)
        present = set(
            session.scalars(sa.select(SearchChange.id).where(SearchChange.id > top - GAP_LOOKBACK))
        )
        now = time.time()
        gaps = {str(i): now for i in range(max(1, top - GAP_LOOKBACK + 1), top) if i not in present}
        page_ids = session.scalars(
            sa.select(Page.id).where(Page.deleted.is_(False)).order_by(Page.id)
        ).all()
        parallel = {"procs": procs, "multisegment": True} if procs > 1 else {}
        writer = ix.writer(timeout=WHOOSH_LOCK_TIMEOUT, limitmb=128, **parallel)
        try:
            for start in range(0, len(page_ids), REBUILD_CHUNK):
                chunk = page_ids[start : start + REBUILD_CHUNK]
                _prefetch(session, chunk)
                for page_id in chunk:
                    documents += _index_page(writer, session, page_id)
                session.info.pop(FIRST_REVISIONS, None)
                session.info.pop(LIVE_ATTACHMENTS, None)
                session.expunge_all()
                if progress is not None:
                    progress(len(chunk))
                time.sleep(0)  # let other greenlets run
            state = {"schema": SCHEMA_VERSION, "applied": top, "gaps": gaps}
            writer.update_document(**state_document(state))
        except BaseException:
            writer.cancel()
            raise
        writer.commit(optimize=not parallel)
    return documents


def _check_complete(ix, documents: int) -> None:
    """Fail the rebuild rather than swap in an index that lost a child process's segment."""
    with ix.searcher() as searcher:
        found = searcher.doc_count() - 1  # the state document
    if found != documents:
        raise RuntimeError(f"rebuild indexed {found} of {documents} documents")


# --- background worker ------------------------------------------------------------------------


class IndexWorker:
    """Catches up on start, when woken by a commit, and every ``interval`` seconds."""

    def __init__(self, app: Flask, interval: float = WORKER_INTERVAL):
        self.app = app
        self.interval = interval
        self.wake = threading.Event()
        self.stopping = False
        self.thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def start(self) -> None:
        with self._start_lock:
            if self.thread is not None:
                return
            self.thread = threading.Thread(target=self.run, name="kb-search-indexer", daemon=True)
            self.thread.start()

    def notify(self) -> None:
        self.wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping = True
        self.wake.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def run(self) -> None:
        failures = 0
        while not self.stopping:
            self.wake.clear()
            try:
                with self.app.app_context():
                    catch_up()
                    seen = newest_change_id()
                failures = 0
            except IndexBusy:
                seen = None  # another process holds the lock and is catching up
            except Exception:
                failures += 1
                seen = None
                self.app.logger.exception("search indexer: catch-up failed")
            if failures:
                self.wake.wait(min(60.0, 2.0**failures))
            else:
                self._wait_for_changes(seen)

    def _wait_for_changes(self, seen: int | None) -> None:
        """Sleep until woken, a change from another node appears, or the full interval ends."""
        deadline = time.monotonic() + self.interval
        while not self.stopping and time.monotonic() < deadline:
            if self.wake.wait(CHANGE_POLL_INTERVAL):
                return
            try:
                with self.app.app_context():
                    if newest_change_id() != seen:
                        return
            except Exception:
                self.app.logger.exception("search indexer: polling the change log failed")
                return


def newest_change_id() -> int | None:
    try:
        return db.session.scalar(sa.select(sa.func.max(SearchChange.id)))
    finally:
        db.session.remove()
