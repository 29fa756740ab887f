"""Machinery of the authorization matrix: routes of the URL map, their URLs, outcomes."""

import re
from pathlib import Path
from urllib.parse import quote

import kb
from tests.security.conftest import ROLES

SKIP_METHODS = {"HEAD", "OPTIONS"}
_ARGUMENT = re.compile(r"<(?:[^<>]*:)?(\w+)>")

POLICIES: dict[str, set[str]] = {
    # everyone, also guests (`read`: guests only while KB_PUBLIC_READ is on, the default)
    "all": set(ROLES),
    "read": set(ROLES),
    # a participant of the board (guest with X-Board-Token) or any signed-in account
    "participants": {"participant", "reader", "editor", "owner", "admin"},
    "users": {"reader", "editor", "owner", "admin"},
    "editors": {"editor", "owner", "admin"},
    # the object's owner (author, board owner, organizer) and admins
    "owner": {"owner", "admin"},
    "admin": {"admin"},
    # methodists of the consulting centre (admins are methodists) and the question's author
    "author+methodists": {"owner", "admin"},
    "methodists": {"admin"},
    # a board post's author (the participant who wrote it) and the board's moderators
    "author+moderators": {"participant", "owner", "admin"},
    # POST /login with a wrong password: refused for everyone
    "nobody": set(),
}


def routes(app) -> list[str]:
    """Every `METHOD /rule` the application serves (HEAD/OPTIONS are derived)."""
    found = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - SKIP_METHODS:
            found.add(f"{method} {rule.rule}")
    return sorted(found)


def value_for(rule: str, name: str, world) -> str:
    ids = world.ids
    if name == "slug":
        return ids["space_slug"] if rule.startswith("/spaces") else ids["page_slug"]
    if name == "code":
        if rule.startswith("/s/"):
            return ids["survey_code"]
        if rule.startswith("/lang/"):
            return "en"
        return ids["board_code"]
    if name == "question_id":
        return str(ids["survey_question_id"] if "/surveys/" in rule else ids["consult_question_id"])
    if name == "token":
        return ids["invitation"] if rule.startswith("/invite") else ids["feed_token"]
    if rule.startswith("/static/"):
        return "js/kb.js"
    if name == "survey_id" and ("/qr." in rule):
        return str(ids["anon_survey_id"])
    simple = {
        "page_id": "page_id",
        "filename": "filename",
        "attachment_id": "attachment_id",
        "template_id": "template_id",
        "seminar_id": "seminar_id",
        "poll_id": "poll_id",
        "post_id": "post_id",
        "survey_id": "survey_id",
        "section_id": "section_id",
        "answer_id": "consult_answer_id",
        "user_id": "owner_id",
        "token_id": "token_id",
        "org_id": "org_id",
        "name": "tag",
    }
    if name in simple:
        return str(ids[simple[name]])
    if name == "number":
        return "1"
    if name == "action":
        return "close"
    raise KeyError(f"no value for <{name}> in {rule}")


def url_for_rule(rule: str, world) -> str:
    return _ARGUMENT.sub(lambda m: quote(value_for(rule, m.group(1), world), safe=""), rule)


def refusal_messages() -> set[str]:
    """The texts of every Forbidden/NotAuthenticated the services raise (read from kb/)."""
    pattern = re.compile(r'(?:Forbidden|NotAuthenticated)\(\s*_\(\s*"([^"]+)"')
    found = set()
    for path in Path(kb.__file__).parent.rglob("*.py"):
        found.update(pattern.findall(path.read_text(encoding="utf-8")))
    return found


REFUSALS = refusal_messages()


def outcome(response, flashed: list) -> str:
    """allow / deny / error; HTML forms that catch a refusal and flash it count as deny."""
    status = response.status_code
    if status >= 500:
        return "error"
    if status in (401, 403, 404):
        return "deny"
    if status in (301, 302, 303, 307, 308):
        if "/login" in response.headers.get("Location", ""):
            return "deny"
        if any(category == "error" and text in REFUSALS for category, text in flashed):
            return "deny"
    return "allow"
