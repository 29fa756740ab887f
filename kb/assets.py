"""What goes over the wire: fingerprinted static URLs with long-lived caching, compression.

Templates keep writing ``url_for('static', filename='css/kb.css')``; a URL-defaults hook adds
``?v=<first 12 hex digits of the file's SHA-256>``. A request carrying the file's current
fingerprint is cached for a year as immutable — a changed file gets a new URL, so browsers
never see a stale copy. A request without it (or with an old one) is revalidated as before.

HTML, CSS, JS, JSON and SVG are compressed (zstd, brotli or gzip, as the client accepts) by
Flask-Compress; Socket.IO traffic does not pass through Flask and is not affected.
"""

import hashlib
from pathlib import Path

from flask import Flask, request
from flask_compress import Compress

IMMUTABLE = "public, max-age=31536000, immutable"
FINGERPRINT_LENGTH = 12
COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/plain",
    "text/xml",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/atom+xml",
    "image/svg+xml",
]

compress = Compress()


class StaticFingerprints:
    """Content hashes of the files in the static folder, computed once per file.

    In debug mode a file's hash is recomputed when its modification time changes, so an
    edited stylesheet gets a new URL without a restart.
    """

    def __init__(self, folder: Path, *, watch: bool = False):
        self.folder = folder.resolve()
        self.watch = watch
        self._known: dict[str, tuple[float, str | None]] = {}

    def __call__(self, filename: str) -> str | None:
        """The fingerprint of ``filename`` (relative to the static folder), None if missing."""
        known = self._known.get(filename)
        if known is not None and not self.watch:
            return known[1]
        path = (self.folder / filename).resolve()
        if not path.is_relative_to(self.folder):
            return None
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        if known is not None and known[0] == mtime:
            return known[1]
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:FINGERPRINT_LENGTH]
        except OSError:
            return None
        self._known[filename] = (mtime, digest)
        return digest


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["zstd", "br", "gzip"])
    compress.init_app(app)

    if app.static_folder is None:
        return
    fingerprint = StaticFingerprints(Path(app.static_folder), watch=app.debug)
    app.extensions["kb_static_fingerprints"] = fingerprint

    @app.url_defaults
    def fingerprint_static_urls(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            digest = fingerprint(values["filename"])
            if digest:
                values["v"] = digest

    @app.after_request
    def cache_fingerprinted_static(response):
        if request.endpoint != "static" or response.status_code not in (200, 206, 304):
            return response
        if response.status_code == 206:
            response.headers["Content-Encoding"] = "identity"  # never compress a byte range
        elif response.status_code == 200 and response.direct_passthrough:
            # Read the (small) file now, so that Flask-Compress compresses it as one body
            # instead of wrapping the open file in a generator that would never close it.
            response.direct_passthrough = False
            response.get_data()
        filename = (request.view_args or {}).get("filename", "")
        version = request.args.get("v")
        if version and version == fingerprint(filename):
            response.headers["Cache-Control"] = IMMUTABLE
            response.headers.pop("Expires", None)
        else:
            response.headers["Cache-Control"] = "no-cache"
        return response
