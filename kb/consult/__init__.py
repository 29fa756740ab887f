"""Consulting centre: teachers ask, methodists answer, good answers become FAQ pages."""

from flask import Blueprint

bp = Blueprint("consult", __name__)
