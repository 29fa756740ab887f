"""Wiki: co-edited methodical pages with history, merge, attachments and spaces."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from kb.pages import api, cache, events, views  # noqa: E402,F401  (routes and Socket.IO handlers)

bp.register_blueprint(api.bp)
bp.record_once(lambda state: cache.init_app(state.app))
