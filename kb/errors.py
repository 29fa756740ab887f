"""Typed domain errors raised by services, and how they become HTTP answers.

Services raise ``DomainError`` subclasses (never ``abort()``); API requests get
``{"error": "<readable message>"}`` with the error's status, HTML requests a Russian page.
"""

import errno
from urllib.parse import urlsplit

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra


class InvalidInput(DomainError):
    status = 422


class BadRequest(DomainError):
    status = 400


class NotAuthenticated(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class TooLarge(DomainError):
    status = 413


class RateLimited(DomainError):
    status = 429


STORAGE_ERRNOS = {
    errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
    errno.ENOTDIR, errno.ENOENT, errno.EIO,
}  # fmt: skip


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _http_message(error: HTTPException) -> str:
    messages = {
        400: _("Некорректный запрос."),
        401: _("Нужно войти в систему."),
        403: _("Недостаточно прав для этого действия."),
        404: _("Страница не найдена."),
        405: _("Этот метод не поддерживается для данного адреса."),
        413: _("Файл или запрос слишком большой."),
        429: _("Слишком много попыток. Подождите минуту и попробуйте снова."),
        500: _("Внутренняя ошибка сервера. Мы уже знаем о ней."),
    }
    return messages.get(error.code or 500, error.description or "")


def error_response(status: int, message: str, **extra):
    if wants_json():
        response = jsonify({"error": message, **extra})
        response.status_code = status
        return response
    template = f"errors/{status}.html" if status in (401, 403, 404, 500) else "errors/generic.html"
    # «Войти» on a 401 page brings the guest back: to the page itself after a GET, to the
    # page the form was on after a POST (its answer is not a page to go back to).
    return_to = request.full_path.rstrip("?") if request.method == "GET" else None
    if return_to is None and request.referrer:
        referrer = urlsplit(request.referrer)
        if referrer.netloc == request.host:
            return_to = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    page = render_template(template, status=status, message=message, return_to=return_to or "/")
    return page, status


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        return error_response(error.status, error.message, **error.extra)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        return error_response(
            400, _("Форма устарела или отправлена не с нашего сайта (CSRF). Обновите страницу.")
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        response = app.make_response(error_response(error.code or 500, _http_message(error)))
        allowed = getattr(error, "valid_methods", None)
        if allowed:  # a 405 names the methods the address supports (RFC 9110)
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, _("Внутренняя ошибка сервера. Мы уже знаем о ней."))

    @app.errorhandler(OSError)
    def handle_storage_error(error: OSError):
        # Disk full, read-only or missing data directory (also while a request body is
        # spooled to a temporary file): say so instead of a bare 500.
        if error.errno not in STORAGE_ERRNOS:
            return handle_unexpected(error)
        app.logger.error("storage error on %s %s: %s", request.method, request.path, error)
        return error_response(
            507, _("Не удалось сохранить данные: на сервере нет места или хранилище недоступно.")
        )
