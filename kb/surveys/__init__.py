"""Surveys with waves: questionnaires the network repeats to follow its growth."""

from flask import Blueprint

bp = Blueprint("surveys", __name__)
