"""Accounts: login, invitations, API tokens and the admin pages for users and organizations."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from kb.accounts import views  # noqa: E402,F401
