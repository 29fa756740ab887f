"""Russian by default, English on request (`?lang=en`, remembered in a cookie)."""

from flask import Flask, has_request_context, request
from flask_login import current_user

from kb.extensions import babel

LANGUAGES = {"ru": "Русский", "en": "English"}
LANG_COOKIE = "kb_lang"


def select_locale() -> str:
    if not has_request_context():
        return "ru"
    requested = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if requested in LANGUAGES:
        return requested
    return "ru"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path + "/translations"))
    babel.init_app(app, locale_selector=select_locale)

    @app.after_request
    def remember_language(response):
        requested = request.args.get("lang")
        if requested in LANGUAGES and request.cookies.get(LANG_COOKIE) != requested:
            response.set_cookie(
                LANG_COOKIE, requested, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
            )
        return response

    @app.context_processor
    def language_context():
        return {
            "languages": LANGUAGES,
            "current_language": select_locale(),
            "current_user": current_user,
        }
