"""Presence on pages over Socket.IO: «Сейчас редактирует: Имя».

Namespace ``/pages``, one room per page. A client ``join``s with ``{"slug", "editing"}``,
may switch ``editing`` later, and ``leave``s (or just disconnects). After every change the
room gets ``presence`` = ``{"slug", "editors": [{"sid", "name", "organization"}],
"viewers": <count>}``.

The state is kept by ``kb.pages.presence``: in memory for one process, in Redis when
``KB_MESSAGE_QUEUE`` joins several processes (the broadcasts already travel through it).
"""

import threading

from flask import current_app, request
from flask_login import current_user
from flask_socketio import emit, join_room, leave_room

from kb.extensions import socketio
from kb.pages.presence import HEARTBEAT_SECONDS, Present, presence_store
from kb.pages.slugs import slug_problem
from kb.security import acting_user, can_read

NAMESPACE = "/pages"
STORE = "kb_presence"
_start_lock = threading.Lock()


def store():
    """This app's presence store; the first call also starts its heartbeat."""
    extensions = current_app.extensions
    if STORE not in extensions:
        with _start_lock:
            if STORE not in extensions:
                extensions[STORE] = presence_store(current_app.config["KB_MESSAGE_QUEUE"])
                socketio.start_background_task(_heartbeat, extensions[STORE])
    return extensions[STORE]


def _heartbeat(presence) -> None:
    while True:
        socketio.sleep(HEARTBEAT_SECONDS)
        try:
            presence.heartbeat()
        except Exception:  # noqa: BLE001 - Redis briefly away: try again next beat
            pass


def room_for(slug: str) -> str:
    return "page:" + slug


def snapshot(slug: str) -> dict:
    here = store().on_page(slug)
    return {
        "slug": slug,
        "editors": [
            {"sid": sid, "name": p.name, "organization": p.organization}
            for sid, p in here
            if p.editing
        ],
        "viewers": len(here),
    }


def _broadcast(slug: str) -> None:
    emit("presence", snapshot(slug), to=room_for(slug), namespace=NAMESPACE)


def _may_edit() -> bool:
    return current_user.is_authenticated and current_user.has_role("editor")


def _leave(sid: str) -> str | None:
    previous = store().remove(sid)
    if previous is None:
        return None
    leave_room(room_for(previous.slug), sid=sid, namespace=NAMESPACE)
    return previous.slug


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth=None):
    if not can_read():
        return False
    return True


@socketio.on("join", namespace=NAMESPACE)
def on_join(data):
    slug = data.get("slug") if isinstance(data, dict) else None
    if not isinstance(slug, str) or slug_problem(slug):
        return {"error": "Некорректная страница."}
    sid = request.sid
    previous = _leave(sid)
    if previous and previous != slug:
        _broadcast(previous)
    user = acting_user()
    store().put(
        sid,
        Present(
            slug=slug,
            name=user.name if user else "Гость",
            organization=user.organization.short_name if user and user.organization else None,
            editing=bool(data.get("editing")) and _may_edit(),
        ),
    )
    join_room(room_for(slug))
    _broadcast(slug)
    return snapshot(slug)


@socketio.on("editing", namespace=NAMESPACE)
def on_editing(data):
    editing = bool(data.get("editing")) if isinstance(data, dict) else False
    present = store().get(request.sid)
    if present is None:
        return {"error": "Сначала откройте страницу."}
    present.editing = editing and _may_edit()
    store().put(request.sid, present)
    slug = present.slug
    _broadcast(slug)
    return snapshot(slug)


@socketio.on("leave", namespace=NAMESPACE)
def on_leave(data=None):
    slug = _leave(request.sid)
    if slug:
        _broadcast(slug)


@socketio.on("disconnect", namespace=NAMESPACE)
def on_disconnect(*_args):
    slug = _leave(request.sid)
    if slug:
        _broadcast(slug)
