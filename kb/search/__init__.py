"""Full-text search over pages and attachments (Whoosh, Russian morphology).

Other parts use ``kb.search.service`` (search, suggest_titles, catch_up, rebuild) and
``kb.search.changes.record_change``; none of them imports Whoosh.
"""

from flask import Blueprint, current_app

bp = Blueprint("search", __name__)


def index_health() -> dict:
    from kb.search.indexer import health

    return health()


@bp.record_once
def _setup(state) -> None:
    from kb.config import env_flag
    from kb.search.changes import WORKER
    from kb.search.indexer import IndexWorker
    from kb.views import HEALTH_PARTS

    if index_health not in HEALTH_PARTS:
        HEALTH_PARTS.append(index_health)
    app = state.app
    # The background indexer runs in serving processes; tests call catch_up() themselves.
    app.config.setdefault("KB_INDEXER", env_flag("KB_INDEXER", not app.testing))
    if app.config["KB_INDEXER"]:
        app.extensions[WORKER] = IndexWorker(app)


@bp.before_app_request
def _start_indexer() -> None:
    # Started by the first request, so CLI commands (which build an app too) never run it,
    # and under gunicorn it starts inside the worker, after gevent patched threading.
    from kb.search.changes import WORKER

    worker = current_app.extensions.get(WORKER)
    if worker is not None and worker.thread is None:
        worker.start()


from kb.search import api, views  # noqa: E402,F401  (routes on bp)
