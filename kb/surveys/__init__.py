"""Surveys with waves: questionnaires the network repeats to follow its growth."""

from flask import Blueprint

bp = Blueprint("surveys", __name__)

from kb.surveys import api, events, views  # noqa: E402,F401  (routes and Socket.IO handlers)

bp.register_blueprint(api.bp)
