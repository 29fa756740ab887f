"""The search page (``GET /search``).

This module and ``api.py`` import little at module level: ``kb.cli`` imports the
``reindex`` command (and so this package) before ``kb serve`` patches the standard library
with gevent, so Socket.IO, SQLAlchemy and Whoosh must not be imported that early.
"""

from functools import wraps

from flask import render_template, request, url_for

from kb.search import bp


def require_read(view):
    """``kb.security.require_read``, imported when the view first runs."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        from kb.security import require_read as check

        return check(view)(*args, **kwargs)

    return wrapper


def page_url(slug: str) -> str:
    return url_for("pages.view_page", slug=slug)


def attachment_url(attachment: dict) -> str:
    """The file's download address (the wiki's ``/files/<page_id>/<filename>``)."""
    from kb.pages.render import file_path

    return file_path(attachment["page_id"], attachment["filename"])


def search_url(**changes) -> str:
    """This search with some parameters changed (None removes one; filters reset the page)."""
    params = request.args.to_dict()
    params.update(changes)
    if "page" not in changes:
        params.pop("page", None)
    return url_for("search.search_page", **{k: v for k, v in params.items() if v not in (None, "")})


@bp.route("/search")
@require_read
def search_page():
    """Search results with facets."""
    from kb.search import service
    from kb.search.api import search_args

    query = request.args.get("q", "")
    args = search_args()
    results = service.search(query, **args)
    corrected = None
    if not results.total and results.suggestion and request.args.get("exact") != "1":
        # «работотехника» finds nothing, «робототехника» does: show those at once, with a
        # link to search the word as typed.
        instead = service.search(results.suggestion, **args)
        if instead.total:
            corrected, results = results.suggestion, instead
    return render_template(
        "search/search.html",
        query=query,
        corrected=corrected,
        args=args,
        results=results,
        space_titles=service.space_titles() if results.facets else {},
        page_url=page_url,
        attachment_url=attachment_url,
        search_url=search_url,
        active_filters=[n for n in ("space", "tag", "org", "type") if request.args.get(n)],
    )
