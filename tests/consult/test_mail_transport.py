"""Mail as deployments send it: STARTTLS and SSL with a login, a mail server that is down or
refuses the password, and a request that never waits for the mail server.

A real aiosmtpd server with a certificate made by openssl for `localhost`; the client
verifies it against that certificate (`SSL_CERT_FILE`), as it would a real one.
"""

import subprocess
import threading

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from kb.consult import mail, service
from kb.consult.models import ConsultQuestion
from kb.extensions import db
from tests.conftest import Inbox, wait_for
from tests.services import free_port

USER, SECRET = "kb-mailer", "пароль-почты"  # Russian passwords are real


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _server_context(certificate):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


class Logins:
    def __init__(self, secret: str = SECRET):
        self.secret = secret
        self.seen: list[tuple[str, bool]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        ok = (login, password) == (USER, self.secret)
        self.seen.append((login, ok))
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


def _use(app, port: int, tls: str = "", password: str = SECRET) -> None:
    app.config.update(
        KB_SMTP_HOST="localhost",
        KB_SMTP_PORT=port,
        KB_SMTP_FROM="kb@example.org",
        KB_SMTP_TLS=tls,
        KB_SMTP_USER=USER if tls else None,
        KB_SMTP_PASSWORD=password if tls else None,
    )


def _ask(people) -> ConsultQuestion:
    service.set_email_notifications(people["admin"], False)
    return service.ask(people["teacher"], title="Как оформить проект по STEM?")


@pytest.mark.parametrize(("tls", "secret"), [("starttls", SECRET), ("ssl", "ascii-Secret-1")])
def test_mail_over_tls_with_a_login(app, people, certificate, monkeypatch, tls, secret):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    inbox, logins = Inbox(), Logins(secret)
    context = _server_context(certificate)
    options = (
        {"tls_context": context, "require_starttls": True}
        if tls == "starttls"
        else {"ssl_context": context}
    )
    controller = Controller(
        inbox, hostname="localhost", port=free_port(), authenticator=logins,
        auth_require_tls=tls == "starttls", **options,
    )  # fmt: skip
    controller.start()
    try:
        _use(app, controller.port, tls, password=secret)
        _ask(people)
        messages = wait_for(inbox, 1)
        mail.wait_for_outgoing()
        assert [m.rcpt_tos for m in messages] == [["m@example.org"]]
        assert logins.seen == [(USER, True)]
        assert "STEM" in messages[0].content.decode()
    finally:
        controller.stop()


def test_a_refused_password_loses_nothing(app, people, certificate, monkeypatch, caplog):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    inbox, logins = Inbox(), Logins()
    controller = Controller(
        inbox, hostname="localhost", port=free_port(), authenticator=logins,
        auth_require_tls=True, tls_context=_server_context(certificate), require_starttls=True,
    )  # fmt: skip
    controller.start()
    try:
        _use(app, controller.port, "starttls", password="не тот")
        question = _ask(people)
        mail.wait_for_outgoing()
        assert logins.seen == [(USER, False)] and inbox.messages == []
        assert "is unavailable" in caplog.text  # logged for the administrator
        assert db.session.get(ConsultQuestion, question.id).title == "Как оформить проект по STEM?"
    finally:
        controller.stop()


def test_mail_server_down_loses_nothing(app, people, caplog):
    _use(app, free_port())  # nothing listens there
    question = _ask(people)
    mail.wait_for_outgoing()
    assert "is unavailable" in caplog.text
    assert db.session.get(ConsultQuestion, question.id) is not None
    assert service.notifications(people["methodist"])  # the in-app notice is there


class HeldInbox(Inbox):
    """An SMTP server that does not answer DATA until the test lets it."""

    def __init__(self):
        super().__init__()
        self.release = threading.Event()
        self.reached = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.reached.set()
        self.release.wait(30)  # holds this server's own thread, not the app
        return await super().handle_DATA(server, session, envelope)


def test_the_request_does_not_wait_for_the_mail_server(app, people):
    inbox = HeldInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        _use(app, controller.port)
        app.config["KB_SMTP_HOST"] = "127.0.0.1"
        question = _ask(people)  # returns although the server has not answered
        assert question.id is not None
        assert inbox.reached.wait(10), "the mail never reached the server"
        assert inbox.messages == []  # still held: the request finished before the reply
        inbox.release.set()
        assert len(wait_for(inbox, 1)) == 1
        mail.wait_for_outgoing()
    finally:
        inbox.release.set()
        controller.stop()
