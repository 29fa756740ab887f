"""Live seminar board: posts, likes, comments, moderation, polls, presenter wall."""

from flask import Blueprint

bp = Blueprint("board", __name__)
