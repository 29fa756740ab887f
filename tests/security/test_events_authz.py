"""The Socket.IO half of the authorization matrix: every registered event × every role.

Events come from `socketio.server.handlers` (per namespace), so a new event without a row in
`EXPECTED_EVENTS` fails. Each role connects with its own session cookie; everyone except
`guest` and `deactivated` joins the board first (`participant` with the token of the
participant who wrote the world's post and comment). "deny" is a refused connection or an
ack carrying a refusal message; valid payloads make every allowed call succeed.
"""

import pytest

from kb.extensions import socketio
from tests.security.conftest import ROLES
from tests.security.matrix import POLICIES, REFUSALS
from tests.security.test_authz import Worlds

NOT_CALLABLE = {"connect", "disconnect"}

EXPECTED_EVENTS: dict[str, str] = {
    "/board join": "all",
    "/board leave": "all",
    "/board post:create": "participants",
    "/board post:like": "participants",
    "/board post:comment": "participants",
    "/board poll:vote": "participants",
    "/board post:edit": "author+moderators",
    "/board post:delete": "author+moderators",
    "/board comment:delete": "author+moderators",
    "/board post:moderate": "owner",
    "/board participant:remove-posts": "owner",
    "/board board:lock": "owner",
    "/board board:update": "owner",
    "/board poll:create": "owner",
    "/board poll:open": "owner",
    "/board poll:close": "owner",
    "/board poll:delete": "owner",
    "/board poll:reveal": "owner",
    # page presence: whoever may read (guests too while KB_PUBLIC_READ is on)
    "/pages join": "read",
    "/pages editing": "read",
    "/pages leave": "read",
    # live survey counts: the survey's organizers
    "/surveys watch": "owner",
}
MUTATING = {"post:create", "post:edit", "post:delete", "comment:delete", "post:moderate",
            "participant:remove-posts", "board:lock", "board:update", "poll:create", "poll:open",
            "poll:close", "poll:delete", "poll:reveal", "post:like", "post:comment",
            "poll:vote"}  # fmt: skip


def registered_events() -> set[str]:
    return {
        f"{namespace} {event}"
        for namespace, handlers in socketio.server.handlers.items()
        for event in handlers
        if event not in NOT_CALLABLE
    }


def payload(event: str, world) -> dict:
    ids = world.ids
    return {
        "/board join": {"code": ids["board_code"], "name": "Зритель"},
        "/board leave": {},
        "/board post:create": {"text": "Новый пост"},
        "/board post:like": {"post_id": ids["post_id"]},
        "/board post:comment": {"post_id": ids["post_id"], "text": "Комментарий"},
        "/board poll:vote": {"poll_id": ids["poll_id"], "choices": [ids["option_id"]]},
        "/board post:edit": {"post_id": ids["post_id"], "text": "Исправлено"},
        "/board post:delete": {"post_id": ids["post_id"]},
        "/board comment:delete": {"comment_id": ids["comment_id"]},
        "/board post:moderate": {"post_id": ids["post_id"], "action": "pin"},
        "/board participant:remove-posts": {"participant": ids["participant_key"]},
        "/board board:lock": {"locked": True},
        "/board board:update": {"title": "Новое название"},
        "/board poll:create": {"question": "Ещё?", "kind": "single", "options": ["Да", "Нет"]},
        "/board poll:open": {"poll_id": ids["draft_poll_id"]},
        "/board poll:close": {"poll_id": ids["poll_id"]},
        "/board poll:delete": {"poll_id": ids["poll_id"]},
        "/board poll:reveal": {"poll_id": ids["secret_poll_id"]},
        "/pages join": {"slug": ids["page_slug"], "editing": False},
        "/pages editing": {"editing": False},
        "/pages leave": {},
        "/surveys watch": {"survey_id": ids["survey_id"]},
    }[event]


def call(app, role_client, role: str, key: str, world) -> str:
    namespace, event = key.split(" ", 1)
    client = socketio.test_client(app, namespace=namespace, flask_test_client=role_client.client)
    try:
        if not client.is_connected(namespace):
            return "deny"
        if namespace == "/board" and event != "join" and role not in ("guest", "deactivated"):
            join = {"code": world["board_code"], "name": "Участник"}
            if role == "participant":
                join["token"] = world["participant_token"]
            assert client.emit("join", join, namespace=namespace, callback=True)["ok"]
        if namespace == "/pages" and event != "join":
            client.emit("join", payload("/pages join", world), namespace=namespace, callback=True)
        ack = client.emit(event, payload(key, world), namespace=namespace, callback=True)
    finally:
        if client.is_connected(namespace):
            client.disconnect(namespace=namespace)
    if isinstance(ack, dict) and (ack.get("ok") is False or "error" in ack):
        return "deny" if ack.get("error") in REFUSALS else f"refused: {ack.get('error')}"
    return "allow"


def test_every_event_has_a_row(module_app):
    served = registered_events()
    assert not served - EXPECTED_EVENTS.keys(), "events without a row"
    assert not EXPECTED_EVENTS.keys() - served, "rows without an event"


@pytest.mark.parametrize("key", sorted(EXPECTED_EVENTS))
def test_event_matrix(module_app, role_clients, key):
    worlds = Worlds(module_app)
    observed = {}
    for role in ROLES:
        world = worlds.get()
        observed[role] = call(module_app, role_clients[role], role, key, world)
        if observed[role] == "allow" and key.split(" ", 1)[1] in MUTATING:
            worlds.dirty = True
    allowed = {role for role, result in observed.items() if result == "allow"}
    assert allowed == POLICIES[EXPECTED_EVENTS[key]], observed
