"""Full-text search over pages and attachments (Whoosh, Russian morphology)."""

from flask import Blueprint

bp = Blueprint("search", __name__)
