"""Live seminar board: posts, likes, comments, moderation, polls, presenter wall."""

from flask import Blueprint

bp = Blueprint("board", __name__)

from kb.board import api, events, views  # noqa: E402, F401  (routes and handlers)

bp.register_blueprint(api.bp)
