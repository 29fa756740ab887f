"""Site-wide views: home page, health check, language switch."""

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext

from kb.consult.badge import ConsultNavLabel
from kb.database import db
from kb.i18n import LANG_COOKIE, LANGUAGES

bp = Blueprint("core", __name__)

HEALTH_PARTS: list = []  # callables returning a dict of health fields, added by search and board

NAV_LINKS = (
    ("pages.spaces", lazy_gettext("Клубы")),
    ("pages.recent_changes", lazy_gettext("Последние изменения")),
    ("board.seminars", lazy_gettext("Семинары")),
    ("surveys.index", lazy_gettext("Опросы")),
    ("consult.index", ConsultNavLabel(lazy_gettext("Консультативный центр"))),
)


@bp.app_context_processor
def navigation():
    """Main navigation: only the parts whose blueprints have registered their views."""
    endpoints = current_app.view_functions
    return {
        "nav_links": [(e, label) for e, label in NAV_LINKS if e in endpoints],
        "view_endpoints": endpoints,
    }


@bp.route("/")
def home():
    """The network's home page (guests are sent to sign in unless KB_PUBLIC_READ is on)."""
    from kb.pages.service import home_context
    from kb.security import can_read

    if not can_read():
        return redirect(url_for("accounts.login"))
    return render_template("index.html", **home_context())


@bp.route("/healthz")
def healthz():
    """Liveness and readiness: database, plus the parts search and board report."""
    status = {"status": "ok"}
    try:
        db.session.execute(sa.text("SELECT 1"))
        status["db"] = "ok"
    except sa.exc.SQLAlchemyError:
        status["db"] = "error"
        status["status"] = "error"
    for part in HEALTH_PARTS:
        for key, value in part().items():
            status[key] = value
            if value == "error":
                status["status"] = "error"
    return jsonify(status), 200 if status["status"] == "ok" else 503


@bp.route("/lang/<code>")
def set_language(code: str):
    """Switch the interface language and go back."""
    target = (
        request.referrer
        if request.referrer and request.referrer.startswith(request.host_url)
        else "/"
    )
    response = redirect(target)
    if code in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    return response
