"""The site's absolute addresses: e-mails, feeds, calendars, QR codes, the API's links.

A link that leaves the browser tab (a mail, a feed reader, a calendar, a printed QR code, a
URL an integration stores) must name the site's real address, never whatever ``Host`` header
the request that made it came with — otherwise anyone could make the site mail its
methodists a link to a look-alike sign-in page (issue 14). So every absolute URL is built
here from ``KB_BASE_URL`` (``https://kb.example.org``, optionally with a path prefix). Only
when it is unset (a laptop, the tests) does the request's own address serve instead; outside
a request there is then no address at all, and asking for one is an error.

With ``KB_BASE_URL`` set, Flask's ``TRUSTED_HOSTS`` holds its host plus ``KB_TRUSTED_HOSTS``,
and a request naming any other host is answered 400 before any hook or view runs.
"""

from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from flask import Flask, Response, current_app, has_request_context, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import SecurityError

ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"  # as flask.url_for quotes ``_anchor``


class BaseUrlMissing(RuntimeError):
    """An absolute URL was needed outside a request while KB_BASE_URL is unset."""


def check_base_url(value: object) -> str | None:
    """KB_BASE_URL without its trailing slash; None when unset; ValueError when malformed."""
    text = str(value or "").strip()
    if not text:
        return None
    problem = ValueError(
        f"KB_BASE_URL must be the site's address, like https://kb.example.org; got {text!r}"
    )
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 (a malformed port raises ValueError)
    except ValueError:
        raise problem from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise problem
    if parts.username is not None or parts.query or parts.fragment:
        raise problem
    return text.rstrip("/")


def trusted_hosts(base_url: str | None, extra: str | Iterable[str] | None) -> list[str] | None:
    """TRUSTED_HOSTS: the base URL's host and ``extra`` (a comma list); None trusts any host."""
    names = [urlsplit(base_url).hostname] if base_url else []
    if isinstance(extra, str):
        extra = extra.split(",")
    names += [name.strip().lower() for name in extra or () if name.strip()]
    return names or None


def _configured() -> str | None:
    value = current_app.config.get("KB_BASE_URL")
    return str(value).rstrip("/") if value else None


def _missing() -> BaseUrlMissing:
    return BaseUrlMissing(
        "KB_BASE_URL is not set, so an absolute link (e-mail, feed, calendar) cannot be "
        "built outside a web request; set KB_BASE_URL=https://<the site's address>"
    )


def base_url() -> str:
    """The site's address without a trailing slash (``https://kb.example.org``)."""
    configured = _configured()
    if configured:
        return configured
    if has_request_context():
        return request.url_root.rstrip("/")
    raise _missing()


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` (a full name, ``"consult.question"``) on the site."""
    configured = _configured()
    if not configured:
        if has_request_context():
            return url_for(endpoint, _external=True, **values)
        raise _missing()
    parts = urlsplit(configured)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    anchor = values.pop("_anchor", None)
    current_app.inject_url_defaults(endpoint, values)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{quote(anchor, safe=ANCHOR_SAFE)}" if anchor else url


def site_host() -> str:
    """The site's host name (``kb.example.org``), e.g. for iCalendar UIDs."""
    return urlsplit(base_url()).hostname or ""


def site_address() -> str:
    """The address as people type it (``kb.example.org``), for "open … and enter the code"."""
    return base_url().split("://", 1)[1]


def _refuse_untrusted_host():
    # Routing stored the SecurityError; raise it before any other hook (CSRF, sign-in,
    # the guest page cache) can run or build a link from the foreign host.
    if isinstance(request.routing_exception, SecurityError):
        raise request.routing_exception


def init_app(app: Flask) -> None:
    """Call last in create_app, so the host check runs before every other hook."""
    from kb.errors import error_response, wants_json

    app.jinja_env.globals.update(external_url=external_url, site_address=site_address)
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_untrusted_host)

    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError):
        configured = _configured()
        if configured:
            message = _(
                "Этот сервер не отвечает на адрес, указанный в запросе. "
                "Откройте сайт по его адресу: %(url)s",
                url=configured,
            )
        else:
            message = _("Этот сервер не отвечает на адрес, указанный в запросе.")
        if wants_json():
            return error_response(400, message)
        # Plain text: the HTML error page builds links, and there is no trusted host to use.
        return Response(message + "\n", 400, mimetype="text/plain")
