"""E-mail notifications of the consulting centre over SMTP, sent in the background.

Settings (app config, or environment variables of the same name): ``KB_SMTP_HOST`` (no host
→ no e-mail), ``KB_SMTP_PORT`` (25), ``KB_SMTP_USER``/``KB_SMTP_PASSWORD`` (login when set),
``KB_SMTP_FROM`` (sender; defaults to the user or ``noreply@<host>``), ``KB_SMTP_TLS``
(``starttls``/true, ``ssl``, or off). Messages are sent by a daemon thread — a greenlet
under gevent — so a slow or broken mail server never blocks a request; failures are logged.
"""

import base64
import logging
import os
import smtplib
import ssl
import threading
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app
from flask_babel import gettext as _

from kb.urls import external_url

log = logging.getLogger(__name__)
TIMEOUT = 20

_threads: list[threading.Thread] = []


def setting(name: str, default=None):
    value = current_app.config.get(name)
    if value in (None, ""):
        value = os.environ.get(name)
    return default if value in (None, "") else value


def configured() -> bool:
    return bool(setting("KB_SMTP_HOST"))


def _settings() -> dict:
    host = setting("KB_SMTP_HOST")
    tls = str(setting("KB_SMTP_TLS", "")).strip().lower()
    user = setting("KB_SMTP_USER")
    return {
        "host": host,
        "port": int(setting("KB_SMTP_PORT", 465 if tls == "ssl" else 25)),
        "user": user,
        "password": setting("KB_SMTP_PASSWORD", ""),
        "sender": setting("KB_SMTP_FROM") or user or f"noreply@{host}",
        "tls": "ssl"
        if tls == "ssl"
        else ("starttls" if tls in {"1", "true", "yes", "on", "starttls", "да"} else ""),
        "network": current_app.config.get("KB_NETWORK_NAME", "Методкабинет"),
    }


def compose(kind: str, question, answer, user) -> tuple[str, str]:
    """Subject and plain-text body of one notification (call inside the app context)."""
    link = external_url("consult.question", question_id=question.id)
    lines = [_("Здравствуйте, %(name)s!", name=user.name), ""]
    if kind == "question":
        subject = _("Новый вопрос в консультативном центре: %(title)s", title=question.title)
        lines.append(_("В консультативный центр пришёл вопрос:"))
        lines += ["", question.title]
        if question.body:
            lines += ["", question.body]
    elif kind == "answer":
        subject = _("Ответ на вопрос: %(title)s", title=question.title)
        lines.append(_("На вопрос «%(title)s» ответили:", title=question.title))
        lines += ["", answer.body if answer else ""]
    elif kind == "faq":
        subject = _("Ответ опубликован в базе знаний: %(title)s", title=question.title)
        lines.append(
            _("Ответ на вопрос «%(title)s» стал страницей базы знаний.", title=question.title)
        )
    else:
        subject = _("Изменился статус вопроса: %(title)s", title=question.title)
        lines.append(_("У вопроса «%(title)s» изменился статус.", title=question.title))
    lines += ["", _("Открыть: %(link)s", link=link), ""]
    lines.append(_("Уведомления по почте отключаются на странице «Уведомления» центра."))
    return subject[:250], "\n".join(lines)


def _deliver(settings: dict, messages: list[tuple[str, str, str]]) -> None:
    try:
        if settings["tls"] == "ssl":
            client = smtplib.SMTP_SSL(settings["host"], settings["port"], timeout=TIMEOUT,
                                      context=ssl.create_default_context())  # fmt: skip
        else:
            client = smtplib.SMTP(settings["host"], settings["port"], timeout=TIMEOUT)
        with client:
            if settings["tls"] == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings["user"]:
                _login(client, settings["user"], settings["password"])
            for to, subject, body in messages:
                message = EmailMessage()
                message["From"] = formataddr((settings["network"], settings["sender"]))
                message["To"] = to
                message["Subject"] = subject
                message["Message-ID"] = make_msgid(
                    domain=settings["sender"].rpartition("@")[2] or None
                )
                message.set_content(body)
                try:
                    client.send_message(message)
                except smtplib.SMTPException:
                    log.exception("could not send a consulting-centre e-mail to %s", to)
    except (OSError, smtplib.SMTPException):
        log.exception("SMTP server %s:%s is unavailable", settings["host"], settings["port"])
    except Exception:  # a background sender must log, never die silently
        log.exception("sending mail through %s:%s failed", settings["host"], settings["port"])


def _login(client: smtplib.SMTP, user: str, password: str) -> None:
    """smtplib encodes credentials as ASCII; a password in Russian goes as UTF-8 through
    AUTH PLAIN (RFC 4616), which every server that takes such passwords supports."""
    if (user + password).isascii():
        client.login(user, password)
        return
    client.ehlo_or_helo_if_needed()
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
    code, reply = client.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def send_in_background(messages: list[tuple[str, str, str]]) -> threading.Thread | None:
    """Start sending ``(to, subject, body)`` messages; returns the worker (tests join it)."""
    if not messages or not configured():
        return None
    worker = threading.Thread(
        target=_deliver, args=(_settings(), list(messages)), name="kb-consult-mail", daemon=True
    )
    worker.start()
    _threads[:] = [t for t in _threads if t.is_alive()] + [worker]
    return worker


def wait_for_outgoing(timeout: float = 10) -> None:
    """Wait until e-mails already started are handed to the server (tests, shutdown)."""
    for worker in list(_threads):
        worker.join(timeout)
