"""Wiki: co-edited methodical pages with history, merge, attachments and spaces."""

from flask import Blueprint

bp = Blueprint("pages", __name__)
