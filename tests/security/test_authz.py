"""The authorization matrix: every route of the URL map × every role → the expected outcome.

`EXPECTED` names one policy (see `matrix.POLICIES`) per `METHOD /rule`. A route without a
row fails `test_every_route_has_a_row`, a row without a route too. Each request runs against a
world of objects owned by another editor (`owner`); a world is rebuilt after any allowed
change, so every role meets the same objects. "deny" is 401, 403, 404 or a redirect to the
login page; a 500 is always a failure.
"""

import itertools
import os

from kb.accounts import service as accounts
from kb.database import db
from tests.conftest import PASSWORD
from tests.security.conftest import ROLES, RoleClient
from tests.security.matrix import POLICIES, outcome, routes, url_for_rule
from tests.security.world import build_world

EXPECTED: dict[str, str] = {
    "DELETE /api/v1/boards/<code>/polls/<int:poll_id>": "owner",
    "DELETE /api/v1/boards/<code>/posts/<int:post_id>": "author+moderators",
    "DELETE /api/v1/consult/methodists/<int:user_id>": "admin",
    "DELETE /api/v1/consult/questions/<int:question_id>/upvote": "author+methodists",
    "DELETE /api/v1/pages/<slug>": "admin",
    "DELETE /api/v1/surveys/<int:survey_id>": "owner",
    "GET /": "read",
    "GET /account": "users",
    "GET /admin/organizations": "admin",
    "GET /admin/organizations/<int:org_id>": "admin",
    "GET /admin/users": "admin",
    "GET /api/v1/boards/<code>": "all",
    "GET /api/v1/boards/<code>/export.csv": "owner",
    "GET /api/v1/boards/<code>/export.md": "owner",
    "GET /api/v1/boards/<code>/export.xlsx": "owner",
    "GET /api/v1/boards/<code>/polls": "all",
    "GET /api/v1/changes": "read",
    "GET /api/v1/consult/methodists": "users",
    "GET /api/v1/consult/notifications": "users",
    "GET /api/v1/consult/questions": "users",
    "GET /api/v1/consult/questions/<int:question_id>": "author+methodists",
    "GET /api/v1/openapi.json": "all",
    "GET /api/v1/pages": "read",
    "GET /api/v1/pages/<slug>": "read",
    "GET /api/v1/pages/<slug>/attachments": "read",
    "GET /api/v1/pages/<slug>/backlinks": "read",
    "GET /api/v1/pages/<slug>/diff": "read",
    "GET /api/v1/pages/<slug>/revisions": "read",
    "GET /api/v1/search": "read",
    "GET /api/v1/search/suggest": "read",
    "GET /api/v1/spaces": "read",
    "GET /api/v1/surveys": "users",
    "GET /api/v1/surveys/<int:survey_id>": "users",
    "GET /api/v1/surveys/<int:survey_id>/compare": "owner",
    "GET /api/v1/surveys/<int:survey_id>/responses": "owner",
    "GET /api/v1/surveys/<int:survey_id>/results": "owner",
    "GET /api/v1/surveys/<int:survey_id>/waves": "owner",
    "GET /b": "all",
    "GET /b/<code>": "all",
    "GET /b/<code>/qr.svg": "all",
    "GET /b/<code>/settings": "owner",
    "GET /b/<code>/wall": "all",
    "GET /boards": "editors",
    "GET /boards/new": "editors",
    "GET /consult": "users",
    "GET /consult/ask": "users",
    "GET /consult/feed/<int:user_id>/<token>.atom": "all",
    "GET /consult/methodists": "admin",
    "GET /consult/notifications": "users",
    "GET /consult/questions/<int:question_id>": "author+methodists",
    "GET /files/<int:page_id>/<path:filename>": "read",
    "GET /healthz": "all",
    "GET /invite/<token>": "all",
    "GET /lang/<code>": "all",
    "GET /login": "all",
    "GET /new": "editors",
    "GET /recent": "read",
    "GET /recent.atom": "read",
    "GET /s/<code>": "all",
    "GET /search": "read",
    "GET /seminars": "read",
    "GET /seminars.ics": "read",
    "GET /seminars/<int:seminar_id>": "read",
    "GET /seminars/<int:seminar_id>.ics": "read",
    "GET /seminars/<int:seminar_id>/edit": "owner",
    "GET /seminars/new": "editors",
    "GET /spaces": "read",
    "GET /spaces/<slug>": "read",
    "GET /spaces/<slug>/edit": "admin",
    "GET /spaces/<slug>/recent.atom": "read",
    "GET /surveys": "users",
    "GET /surveys/<int:survey_id>": "all",
    "GET /surveys/<int:survey_id>/compare": "owner",
    "GET /surveys/<int:survey_id>/edit": "owner",
    "GET /surveys/<int:survey_id>/export.csv": "owner",
    "GET /surveys/<int:survey_id>/export.xlsx": "owner",
    "GET /surveys/<int:survey_id>/preview": "owner",
    "GET /surveys/<int:survey_id>/qr.png": "owner",
    "GET /surveys/<int:survey_id>/qr.svg": "owner",
    "GET /surveys/<int:survey_id>/respond": "users",
    "GET /surveys/<int:survey_id>/responses": "owner",
    "GET /surveys/<int:survey_id>/results": "owner",
    "GET /surveys/<int:survey_id>/results/live": "owner",
    "GET /surveys/<int:survey_id>/thanks": "all",
    "GET /surveys/new": "editors",
    "GET /tags": "read",
    "GET /tags/<name>": "read",
    "GET /templates": "admin",
    "GET /templates/<int:template_id>": "admin",
    "GET /wiki/<slug>": "read",
    "GET /wiki/<slug>/diff": "read",
    "GET /wiki/<slug>/edit": "editors",
    "GET /wiki/<slug>/history": "read",
    "GET /wiki/<slug>/rename": "editors",
    "PATCH /api/v1/boards/<code>": "owner",
    "PATCH /api/v1/boards/<code>/posts/<int:post_id>": "author+moderators",
    "POST /account/logout-everywhere": "users",
    "POST /account/password": "users",
    "POST /account/tokens": "users",
    "POST /account/tokens/<int:token_id>/revoke": "owner",
    "POST /admin/organizations": "admin",
    "POST /admin/organizations/<int:org_id>": "admin",
    "POST /admin/users": "admin",
    "POST /admin/users/<int:user_id>": "admin",
    "POST /api/v1/boards": "editors",
    "POST /api/v1/boards/<code>/join": "all",
    "POST /api/v1/boards/<code>/lock": "owner",
    "POST /api/v1/boards/<code>/polls": "owner",
    "POST /api/v1/boards/<code>/polls/<int:poll_id>/<any(open, close, reveal, conceal):action>": (
        "owner"
    ),
    "POST /api/v1/boards/<code>/polls/<int:poll_id>/vote": "participants",
    "POST /api/v1/boards/<code>/posts": "participants",
    "POST /api/v1/boards/<code>/posts/<int:post_id>/comments": "participants",
    "POST /api/v1/boards/<code>/posts/<int:post_id>/like": "participants",
    "POST /api/v1/boards/<code>/posts/<int:post_id>/moderate": "owner",
    "POST /api/v1/boards/<code>/save-to-wiki": "owner",
    "POST /api/v1/boards/<code>/unlock": "owner",
    "POST /api/v1/consult/answers/<int:answer_id>/faq": "methodists",
    "POST /api/v1/consult/notifications/read": "users",
    "POST /api/v1/consult/questions": "users",
    "POST /api/v1/consult/questions/<int:question_id>/answers": "methodists",
    "POST /api/v1/consult/questions/<int:question_id>/status": "author+methodists",
    "POST /api/v1/pages/<slug>/attachments": "editors",
    "POST /api/v1/pages/<slug>/restore": "admin",
    "POST /api/v1/pages/<slug>/revert": "editors",
    "POST /api/v1/preview": "editors",
    "POST /api/v1/surveys": "editors",
    "POST /api/v1/surveys/<int:survey_id>/responses": "users",
    "POST /api/v1/surveys/<int:survey_id>/waves": "owner",
    "POST /api/v1/surveys/<int:survey_id>/waves/<int:number>/close": "owner",
    "POST /api/v1/surveys/<int:survey_id>/wiki": "owner",
    "POST /attachments/<int:attachment_id>/delete": "admin",
    "POST /attachments/<int:attachment_id>/restore": "admin",
    "POST /b/<code>/delete": "owner",
    "POST /b/<code>/save-to-wiki": "owner",
    "POST /b/<code>/settings": "owner",
    "POST /boards/new": "editors",
    "POST /consult/answers/<int:answer_id>/faq": "methodists",
    "POST /consult/ask": "users",
    "POST /consult/methodists": "admin",
    "POST /consult/notifications/read": "users",
    "POST /consult/questions/<int:question_id>/answers": "methodists",
    "POST /consult/questions/<int:question_id>/status": "author+methodists",
    "POST /consult/questions/<int:question_id>/upvote": "author+methodists",
    "POST /consult/settings": "users",
    "POST /invite/<token>": "all",
    "POST /login": "nobody",
    "POST /logout": "all",
    "POST /new": "editors",
    "POST /s/<code>": "all",
    "POST /seminars/<int:seminar_id>/delete": "owner",
    "POST /seminars/<int:seminar_id>/edit": "owner",
    "POST /seminars/new": "editors",
    "POST /spaces": "admin",
    "POST /spaces/<slug>/edit": "admin",
    "POST /surveys/<int:survey_id>/archive": "owner",
    "POST /surveys/<int:survey_id>/copy": "owner",
    "POST /surveys/<int:survey_id>/delete": "owner",
    "POST /surveys/<int:survey_id>/preview": "owner",
    "POST /surveys/<int:survey_id>/questions": "owner",
    "POST /surveys/<int:survey_id>/questions/<int:question_id>": "owner",
    "POST /surveys/<int:survey_id>/respond": "users",
    "POST /surveys/<int:survey_id>/sections": "owner",
    "POST /surveys/<int:survey_id>/sections/<int:section_id>": "owner",
    "POST /surveys/<int:survey_id>/settings": "owner",
    "POST /surveys/<int:survey_id>/waves": "owner",
    "POST /surveys/<int:survey_id>/waves/<int:number>": "owner",
    "POST /surveys/<int:survey_id>/wiki": "owner",
    "POST /surveys/new": "editors",
    "POST /templates": "admin",
    "POST /templates/<int:template_id>": "admin",
    "POST /wiki/<slug>/attachments": "editors",
    "POST /wiki/<slug>/delete": "admin",
    "POST /wiki/<slug>/edit": "editors",
    "POST /wiki/<slug>/rename": "editors",
    "POST /wiki/<slug>/restore": "admin",
    "POST /wiki/<slug>/revert": "editors",
    "PUT /api/v1/consult/methodists/<int:user_id>": "admin",
    "PUT /api/v1/consult/questions/<int:question_id>/upvote": "author+methodists",
    "PUT /api/v1/pages/<slug>": "editors",
    "PUT /api/v1/surveys/<int:survey_id>": "owner",
    "GET /static/<path:filename>": "all",
}


# Rows whose request changes the client's own session: probed with throwaway clients.
SESSION_CHANGING = {
    "POST /logout",
    "POST /login",
    "GET /lang/<code>",
    "POST /invite/<token>",
    "POST /account/logout-everywhere",
}
# Rows that end every session of the account: the shared clients sign in again afterwards.
ENDS_EVERY_SESSION = {"POST /account/logout-everywhere"}
BODIES = {
    "POST /login": {"email": "admin@example.org", "password": "wrong-password-1"},
    "POST /wiki/<slug>/revert": {"revision": "1"},
    "POST /consult/questions/<int:question_id>/answers": {"body": "Ответ"},
}


WORLD_NUMBERS = itertools.count(1)


class Worlds:
    """The current world; rebuilt after a request that succeeded in changing something."""

    def __init__(self, app):
        self.app = app
        self.current = None
        self.dirty = True

    def get(self):
        if self.dirty:
            with self.app.test_request_context("/"):
                self.current = build_world(PASSWORD, next(WORLD_NUMBERS))
                db.session.remove()
            self.dirty = False
        return self.current


def probe(app, clients, method: str, rule: str, worlds: Worlds) -> dict[str, str]:
    key = f"{method} {rule}"
    if key in SESSION_CHANGING:
        clients = {role: RoleClient(app, role) for role in ROLES}
    observed: dict[str, str] = {}
    for role in ROLES:
        world = worlds.get()
        client = clients[role]
        client.board_token = world["participant_token"] if role == "participant" else None
        path = url_for_rule(rule, world)
        body = BODIES.get(key, {})
        if rule.startswith("/api/"):
            response = client.open(method, path, json=body)
        else:
            response = client.open(method, path, data=body)
        with client.client.session_transaction() as session:
            flashed = session.pop("_flashes", [])
        observed[role] = outcome(response, flashed)
        if observed[role] == "error":
            observed[role] += f" {response.status_code}"
        if method != "GET" and 200 <= response.status_code < 400:
            worlds.dirty = True
        response.close()
    return observed


def test_every_route_has_a_row(module_app):
    served = set(routes(module_app))
    missing = sorted(served - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - served)
    assert not missing, "routes without a row in EXPECTED:\n" + "\n".join(missing)
    assert not stale, "rows in EXPECTED without a route:\n" + "\n".join(stale)


def test_matrix(module_app, role_clients):
    worlds = Worlds(module_app)
    failures = []
    table = []
    for key in routes(module_app):
        method, rule = key.split(" ", 1)
        if rule.startswith("/static/"):
            continue
        observed = probe(module_app, role_clients, method, rule, worlds)
        if key in ENDS_EVERY_SESSION:
            role_clients.update({role: RoleClient(module_app, role) for role in ROLES})
        allowed = {role for role, result in observed.items() if result == "allow"}
        name = next((n for n, roles in POLICIES.items() if roles == allowed), sorted(allowed))
        table.append(f'    "{key}": "{name}",')
        errors = {r: o for r, o in observed.items() if o.startswith("error")}
        expected = POLICIES.get(EXPECTED.get(key, ""), None)
        if errors or expected is None or expected != allowed:
            failures.append(f"{key}: expected {EXPECTED.get(key)}, observed {observed}")
    if os.environ.get("KB_MATRIX_PRINT"):
        print("\n".join(table))
    assert not failures, "\n".join(failures)


def test_deactivated_bearer_token_is_refused_everywhere(module_app):
    with module_app.app_context():
        gone = accounts.get_user("gone@example.org")
        accounts.set_active(gone, True)
        token = accounts.create_token(gone, "before leaving")
        accounts.set_active(gone, False)
    client = module_app.test_client()
    for key in routes(module_app):
        method, rule = key.split(" ", 1)
        if "<" in rule:
            continue
        answer = client.open(rule, method=method, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, key


def test_guests_read_only_when_public_read_is_on(module_app, role_clients):
    """With KB_PUBLIC_READ off, every `read` row refuses guests; `all` rows still serve them."""
    worlds = Worlds(module_app)
    guest = role_clients["guest"]
    guest.board_token = None
    wrong = []
    module_app.config["KB_PUBLIC_READ"] = False
    try:
        for key, policy in sorted(EXPECTED.items()):
            method, rule = key.split(" ", 1)
            if method != "GET" or policy not in ("all", "read"):
                continue
            response = guest.open(method, url_for_rule(rule, worlds.get()))
            with guest.client.session_transaction() as session:
                flashed = session.pop("_flashes", [])
            result = outcome(response, flashed)
            response.close()
            if result != ("deny" if policy == "read" else "allow"):
                wrong.append(f"{key}: {policy}, guest got {response.status_code}")
    finally:
        module_app.config["KB_PUBLIC_READ"] = True
    assert not wrong, "\n".join(wrong)


def test_home_page_shows_nothing_to_guests_without_public_read(module_app, role_clients):
    """Hole found: `/` listed spaces and newest pages to guests with KB_PUBLIC_READ off."""
    world = Worlds(module_app).get()
    guest = role_clients["guest"]
    module_app.config["KB_PUBLIC_READ"] = False
    try:
        page = guest.client.get("/", follow_redirects=True).get_data(as_text=True)
    finally:
        module_app.config["KB_PUBLIC_READ"] = True
    assert world["page_title"] not in page and world["space_slug"] not in page
    reader_page = role_clients["reader"].client.get("/").get_data(as_text=True)
    assert world["page_title"] in reader_page
