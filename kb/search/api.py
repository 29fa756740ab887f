"""JSON search API: ``GET /api/v1/search`` and ``GET /api/v1/search/suggest``."""

from flask import jsonify, request
from flask_babel import gettext as _

from kb.errors import BadRequest
from kb.search import bp
from kb.search.views import page_url, require_read

TYPES = ("page", "attachment")
SORTS = ("relevance", "date")
DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 50


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(_("Параметр %(name)s должен быть целым числом.", name=name)) from None
    return min(high, max(low, value))


def search_args() -> dict:
    kind = request.args.get("type") or None
    if kind is not None and kind not in TYPES:
        raise BadRequest(_("Параметр type может быть page или attachment."))
    sort = request.args.get("sort") or "relevance"
    if sort not in SORTS:
        raise BadRequest(_("Параметр sort может быть relevance или date."))
    return {
        "space": request.args.get("space") or None,
        "tag": request.args.get("tag") or None,
        "org": request.args.get("org") or None,
        "kind": kind,
        "page": int_arg("page", 1, 1, 1000),
        "per_page": int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
        "sort": sort,
    }


@bp.route("/api/v1/search")
@require_read
def api_search():
    """Search pages and attachments."""
    from kb.search import service

    results = service.search(request.args.get("q", ""), **search_args())
    return jsonify(results.as_api())


@bp.route("/api/v1/search/suggest")
@require_read
def api_suggest():
    """Page titles for what has been typed so far."""
    from kb.search import service

    titles = service.suggest_titles(request.args.get("q", ""))
    return jsonify({"titles": [{**t, "url": page_url(t["slug"])} for t in titles]})
