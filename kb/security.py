"""Authentication plumbing, role checks, CSRF policy and security headers."""

from collections.abc import Callable
from functools import wraps

from flask import Flask, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from kb.database import MAX_ID
from kb.errors import BadRequest, Forbidden, NotAuthenticated
from kb.extensions import csrf, login_manager

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def acting_user():
    """The signed-in user (session or API token) acting in this request or Socket.IO event,
    or None for a guest — what every service receives as ``user``/``actor``."""
    return current_user if current_user.is_authenticated else None


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def _sends_browser_credentials() -> bool:
    """Whether the request carries a cookie that a browser would attach on its own."""
    config = current_app.config
    names = (config["SESSION_COOKIE_NAME"], config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    return any(name in request.cookies for name in names)


def require_login(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            raise NotAuthenticated(_("Нужно войти в систему."))
        return view(*args, **kwargs)

    return wrapper


def require_role(role: str) -> Callable:
    """Allow the view to users whose role is at least ``role`` (reader < editor < admin)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                raise NotAuthenticated(_("Нужно войти в систему."))
            if not current_user.has_role(role):
                raise Forbidden(_("Недостаточно прав для этого действия."))
            return view(*args, **kwargs)

        return wrapper

    return decorator


def can_read() -> bool:
    """Guests read only when KB_PUBLIC_READ is on; every signed-in active user reads."""
    return current_user.is_authenticated or bool(current_app.config["KB_PUBLIC_READ"])


def require_read(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not can_read():
            raise NotAuthenticated(_("Нужно войти в систему."))
        return view(*args, **kwargs)

    return wrapper


class IdConverter(IntegerConverter):
    """`<int:...>` in URLs: database ids are 32-bit, so a larger number names nothing (404)
    instead of overflowing the database driver (500)."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            raise NotFound()
        return number


def init_app(app: Flask) -> None:
    from kb.accounts import service as accounts

    app.url_map.converters["int"] = IdConverter  # before the blueprints add their rules

    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        # "<id>:<session version>" (User.get_id): a raised version ends old sessions/cookies.
        # A request with a Bearer token is that token's alone, never the session's.
        if bearer_token() is not None:
            return None
        return accounts.user_for_session(user_id)

    @login_manager.request_loader
    def load_user_from_token(_request):
        # Where no before_request hook runs — Socket.IO events, whose context is built from
        # the handshake — the token in the handshake's Authorization header signs in.
        # (HTTP requests are signed in earlier, by authenticate_bearer below.)
        token = bearer_token()
        return accounts.user_for_token(token) if token is not None else None

    @login_manager.unauthorized_handler
    def unauthorized():
        raise NotAuthenticated(_("Нужно войти в систему."))

    @app.before_request
    def refuse_nul_characters():
        # No text we store or look up may hold NUL: PostgreSQL refuses it in any string
        # (a 500 there, found by schemathesis in `?space=`), SQLite would store it silently.
        values = [*request.args.values(), *(request.view_args or {}).values()]
        if any(isinstance(value, str) and "\x00" in value for value in values):
            raise BadRequest(_("В адресе запроса недопустимый символ (NUL)."))

    @app.before_request
    def authenticate_bearer():
        # A request with `Authorization: Bearer` is authenticated by that token alone: a
        # session cookie sent beside it is ignored, and a junk token is 401 even with one.
        token = bearer_token()
        if token is None:
            return
        user = accounts.user_for_token(token)
        if user is None:
            raise NotAuthenticated(_("API-токен недействителен или отозван."))
        g._login_user = user  # Flask-Login's current user for this request
        g.token_authenticated = True

    @app.before_request
    def check_csrf():
        # CSRF rides on credentials a browser sends by itself: the session and remember-me
        # cookies. A request authenticated by a Bearer token, or an API request that carries
        # neither cookie (a script, a chat-bot with a board token), has no such authority to
        # borrow, so it gets the endpoint's ordinary 401/403 instead of a CSRF refusal.
        # HTML forms are always checked (a cookie-less login form would allow login CSRF).
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE") or g.get("token_authenticated"):
            return
        if request.path.startswith("/api/") and not _sends_browser_credentials():
            return
        csrf.protect()

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if current_user.is_authenticated and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "private, no-store"
        return response
