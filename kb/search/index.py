"""Where the Whoosh index lives on disk, its schema, its locks and its state document.

Layout of ``KB_INDEX_DIR``::

    CURRENT          name of the live generation (replaced atomically with os.replace)
    gen-<n>-<pid>/   a complete Whoosh index; ``kb reindex`` builds a new one beside it
    write.lock       one writer at a time, across processes (fcntl.flock)
    rebuild.lock     one full rebuild at a time

Readers never take a lock: they read ``CURRENT``, open that generation and retry when a
concurrent commit or swap removed a file under them.

Field boosts are applied at query time (``kb.search.service.FIELD_BOOSTS``): an index-time
boost would only scale term frequency, which BM25 saturates.

The position in the change log (``applied``) lives in a document of the index itself
(``doc_id == "state"``), so it is committed atomically with the documents it describes.
"""

import fcntl
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from whoosh import index as whoosh_index
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.index import EmptyIndexError
from whoosh.searching import Searcher

from kb.search.analysis import exact_analyzer, stemming_analyzer

SCHEMA_VERSION = 1  # bump when the schema or analysis changes: the index is then rebuilt
POINTER = "CURRENT"
WRITE_LOCK = "write.lock"
REBUILD_LOCK = "rebuild.lock"
EXTRACT_LOCK = "extract.lock"
STATE_ID = "state"
OPEN_RETRIES = 8


class IndexBusy(Exception):
    """The lock was not obtained within the timeout (another process is writing)."""


class IndexMissing(Exception):
    """There is no index yet (first start, or the directory was deleted)."""


def make_schema() -> Schema:
    stem, exact = stemming_analyzer(), exact_analyzer()
    return Schema(
        doc_id=ID(unique=True, stored=True),  # "page:<id>", "attachment:<id>", "state"
        kind=ID(stored=True),  # page | attachment | state
        page_id=ID(stored=True),
        attachment_id=ID(stored=True),
        slug=ID(stored=True),
        page_title=STORED,
        title=TEXT(analyzer=stem),  # pages only: the title boost
        title_exact=TEXT(analyzer=exact),
        filename=TEXT(analyzer=stem, stored=True),
        page_ref=TEXT(analyzer=stem),  # attachments: page title
        body=TEXT(analyzer=stem, stored=True),
        body_exact=TEXT(analyzer=exact),
        tags_text=TEXT(analyzer=stem),
        author=TEXT(analyzer=stem, stored=True),
        tag=KEYWORD(stored=True, commas=True, scorable=False),
        space=ID(stored=True),
        space_title=STORED,
        org=ID(stored=True),
        updated=DATETIME(stored=True, sortable=True),
        state=STORED,
    )


def index_root() -> Path:
    root = Path(current_app.config["KB_INDEX_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def current_generation(root: Path) -> Path | None:
    try:
        name = (root / POINTER).read_text().strip()
    except FileNotFoundError:
        return None
    if not name or "/" in name:
        return None
    path = root / name
    return path if path.is_dir() else None


def new_generation(root: Path) -> Path:
    path = root / f"gen-{time.time_ns()}-{os.getpid()}"
    path.mkdir()
    whoosh_index.create_in(str(path), make_schema())
    return path


def swap_generation(root: Path, generation: Path) -> None:
    """Make ``generation`` live atomically, then delete the others.

    Call with both the rebuild and the write lock held: no one else builds or writes.
    A reader still using an old generation keeps its open files (POSIX); one that read the
    old name just before the swap gets FileNotFoundError and retries with the new one.
    """
    tmp = root / f"{POINTER}.{os.getpid()}.tmp"
    with open(tmp, "w") as handle:
        handle.write(generation.name)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, root / POINTER)
    dir_fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    forget_cached_indexes()
    for other in root.glob("gen-*"):
        if other != generation and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)


@contextmanager
def file_lock(root: Path, name: str, timeout: float | None, poll: float = 0.05) -> Iterator[None]:
    """An exclusive fcntl lock on ``root/name``; waits (in turn) up to ``timeout`` seconds.

    ``flock`` locks belong to the open file, so two threads of one process exclude each
    other too; a crashed process releases its lock. Polling with LOCK_NB (instead of a
    blocking flock) keeps a gevent worker responsive while it waits.
    """
    fd = os.open(root / name, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise IndexBusy(name) from None
                time.sleep(poll)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def lock_is_held(root: Path, name: str) -> bool:
    try:
        with file_lock(root, name, timeout=0):
            return False
    except IndexBusy:
        return True


_cache_lock = threading.Lock()
_indexes: dict[str, whoosh_index.FileIndex] = {}


def forget_cached_indexes() -> None:
    with _cache_lock:
        _indexes.clear()


def open_generation(path: Path) -> whoosh_index.FileIndex:
    key = str(path)
    with _cache_lock:
        ix = _indexes.get(key)
    if ix is None:
        ix = whoosh_index.open_dir(key)
        with _cache_lock:
            _indexes[key] = ix
    return ix


def open_index(root: Path) -> whoosh_index.FileIndex:
    """The live index, retrying while a commit or a swap replaces files."""
    for attempt in range(OPEN_RETRIES):
        generation = current_generation(root)
        if generation is None:
            raise IndexMissing(str(root))
        try:
            ix = open_generation(generation)
            ix.latest_generation()
            return ix
        except (FileNotFoundError, EmptyIndexError):
            forget_cached_indexes()
            time.sleep(0.02 * (attempt + 1))
    raise IndexMissing(str(root))


def open_searcher(root: Path) -> Searcher:
    """A searcher on the live index; readers are never blocked by writers."""
    last_error: Exception | None = None
    for attempt in range(OPEN_RETRIES):
        try:
            return open_index(root).searcher()
        except (FileNotFoundError, EmptyIndexError) as error:
            last_error = error
            forget_cached_indexes()
            time.sleep(0.02 * (attempt + 1))
    raise IndexMissing(str(last_error))


def read_state(searcher: Searcher) -> dict | None:
    fields = searcher.document(doc_id=STATE_ID)
    if not fields:
        return None
    return json.loads(fields["state"])


def state_document(state: dict) -> dict:
    return {"doc_id": STATE_ID, "kind": "state", "state": json.dumps(state)}
