"""Методкабинет: an interactive methodical cabinet for a network of preschool institutions."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

PACKAGE_DIR = Path(__file__).resolve().parent


def asset_dir(name: str) -> Path:
    """`templates` or `static`: inside the package when installed, beside it in a checkout."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    from kb import api, assets, cli, errors, i18n, security, urls, views
    from kb.accounts import bp as accounts_bp
    from kb.board import bp as board_bp
    from kb.config import build_config
    from kb.consult import bp as consult_bp
    from kb.database import init_database
    from kb.extensions import csrf, limiter, login_manager
    from kb.pages import bp as pages_bp
    from kb.realtime import init_socketio
    from kb.search import bp as search_bp
    from kb.surveys import bp as surveys_bp

    app = Flask(
        __name__,
        template_folder=str(asset_dir("templates")),
        static_folder=str(asset_dir("static")),
    )
    app.config.update(build_config(config))
    app.json.ensure_ascii = False  # Russian stays readable in JSON answers

    init_database(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    init_socketio(app)

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(board_bp)
    app.register_blueprint(surveys_bp)
    app.register_blueprint(consult_bp)
    cli.init_app(app)
    urls.init_app(app)  # last: its Host check runs before every other hook
    if app.config["KB_PROXIES"]:
        # Outermost, so Socket.IO and the login limits see the client's address and scheme.
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxies = int(app.config["KB_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    return app
