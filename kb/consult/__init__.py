"""Consulting centre: teachers ask, methodists answer, good answers become FAQ pages."""

from flask import Blueprint

bp = Blueprint("consult", __name__)

from kb.consult import api, views  # noqa: E402,F401  (routes)

bp.register_blueprint(api.bp)
