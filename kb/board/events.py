"""Socket.IO handlers of the ``/board`` namespace (protocol: docs/realtime.md).

Handlers are thin: they find the connection's board and participant, call the service
(which commits and broadcasts) and return the ack ``{"ok": true, ...}`` or
``{"ok": false, "error": "<Russian message>"}``.
"""

import functools
import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import join_room, leave_room

from kb.board import broadcast
from kb.board import service as boards
from kb.board.broadcast import NAMESPACE
from kb.database import db, mark_write_transaction
from kb.errors import DomainError, Forbidden, InvalidInput
from kb.extensions import socketio
from kb.security import acting_user

log = logging.getLogger(__name__)


@dataclass
class Connection:
    board_id: int
    participant_id: int | None
    moderator: bool
    wall: bool
    rooms: list[str]
    viewer: str | None  # presence key; None for walls


_connections: dict[str, Connection] = {}


def handler(event: str):
    """Register ``event``; turn domain errors into ``{"ok": false, "error"}`` acks."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(data=None, *args):
            mark_write_transaction()  # before anything opens a transaction (SQLite IMMEDIATE)
            try:
                if data is None:
                    data = {}
                if not isinstance(data, dict):
                    raise InvalidInput(_("Данные события должны быть объектом."))
                return {"ok": True, **func(data)}
            except DomainError as error:
                db.session.rollback()
                return {"ok": False, "error": error.message}
            except Exception:
                db.session.rollback()
                log.exception("board event %s failed", event)
                return {"ok": False, "error": _("Внутренняя ошибка сервера. Попробуйте ещё раз.")}

        socketio.on_event(event, wrapper, namespace=NAMESPACE)
        return wrapper

    return decorator


def _current() -> tuple[Connection, Any, Any]:
    connection = _connections.get(request.sid)
    if connection is None:
        raise Forbidden(_("Сначала присоединитесь к доске."))
    board = boards.get_board_by_id(connection.board_id)
    return connection, board, boards.get_participant(connection.participant_id)


def _leave_current(sid: str) -> None:
    connection = _connections.pop(sid, None)
    if connection is None:
        return
    for room in connection.rooms:
        leave_room(room, sid=sid, namespace=NAMESPACE)
    if connection.viewer:
        broadcast.leave(connection.board_id, connection.viewer)


@handler("join")
def on_join(data: dict) -> dict:
    wall = bool(data.get("wall"))
    since = data.get("since")
    if since is not None:
        boards.check_since(since)  # before anything changes: a bad value leaves no trace
    joined = boards.join_board(
        data.get("code"),
        user=acting_user(),
        name=data.get("name"),
        token=data.get("token"),
        wall=wall,
        browser=session.get(boards.BROWSER_SESSION_KEY),  # set by the board page
    )
    board, participant = joined.board, joined.participant
    moderator = joined.moderator and not wall
    sid = request.sid
    _leave_current(sid)
    if moderator:
        rooms = [broadcast.moderators_room(board.id)]
    else:
        rooms = [broadcast.public_room(board.id)]
        if participant is not None:
            rooms.append(broadcast.participant_room(board.id, participant.id))
    # Join the rooms before reading the state: a change committed meanwhile then arrives
    # live (the client ignores what its state already holds) instead of being lost.
    for room in rooms:
        join_room(room, sid=sid, namespace=NAMESPACE)
    viewer = None
    if not wall:
        viewer = f"p{participant.id}" if participant is not None else f"u{current_user.id}"
    _connections[sid] = Connection(
        board.id, participant and participant.id, moderator, wall, rooms, viewer
    )
    db.session.refresh(board)
    if viewer:
        broadcast.use_message_queue(current_app.config["KB_MESSAGE_QUEUE"])
        broadcast.arrive(board.id, viewer, board.seq)
    answer: dict[str, Any] = {
        "token": joined.token,
        "board": boards.board_payload(board),
        "seq": board.seq,
        "participant": boards.participant_payload(participant),
        "moderator": moderator,
        "online": broadcast.online_count(board.id),
        "participants": boards.participant_count(board),
        **boards.own_marks(participant),
    }
    if since is not None:
        events = boards.events_since(board, since, participant, moderator)
        if events is not None:
            answer["events"] = events
            return answer
        answer["reset"] = True
    answer["posts"] = [
        boards.post_payload(p) for p in boards.visible_posts(board, participant, moderator)
    ]
    answer["polls"] = [
        boards.poll_payload(p, moderator) for p in boards.visible_polls(board, moderator)
    ]
    return answer


@socketio.on("disconnect", namespace=NAMESPACE)
def on_disconnect(*_args):
    connection = _connections.pop(request.sid, None)
    if connection is not None and connection.viewer:
        broadcast.leave(connection.board_id, connection.viewer)


@handler("leave")
def on_leave(data: dict) -> dict:
    _leave_current(request.sid)
    return {}


@handler("post:create")
def on_post_create(data: dict) -> dict:
    _connection, board, participant = _current()
    post = boards.create_post(
        board, participant, data.get("text"), data.get("column"), user=acting_user()
    )
    return {"post": boards.post_payload(post), "seq": post.seq}


@handler("post:like")
def on_post_like(data: dict) -> dict:
    _connection, board, participant = _current()
    post, liked = boards.like_post(board, participant, data.get("post_id"), data.get("like"))
    return {"post": boards.post_payload(post), "liked": liked, "seq": post.seq}


@handler("post:comment")
def on_post_comment(data: dict) -> dict:
    _connection, board, participant = _current()
    post = boards.comment_post(board, participant, data.get("post_id"), data.get("text"))
    return {"post": boards.post_payload(post), "seq": post.seq}


@handler("post:edit")
def on_post_edit(data: dict) -> dict:
    _connection, board, participant = _current()
    post = boards.edit_post(
        board, participant, data.get("post_id"), data.get("text"), user=acting_user()
    )
    return {"post": boards.post_payload(post), "seq": post.seq}


@handler("post:delete")
def on_post_delete(data: dict) -> dict:
    _connection, board, participant = _current()
    post_id = boards.delete_post(board, participant, data.get("post_id"), user=acting_user())
    return {"post_id": post_id, "seq": board.seq}


@handler("comment:delete")
def on_comment_delete(data: dict) -> dict:
    _connection, board, participant = _current()
    post = boards.delete_comment(board, participant, data.get("comment_id"), user=acting_user())
    return {"post": boards.post_payload(post), "seq": post.seq}


@handler("poll:vote")
def on_poll_vote(data: dict) -> dict:
    _connection, board, participant = _current()
    poll = boards.vote(
        board, participant, data.get("poll_id"), data.get("choices"), data.get("words")
    )
    return {"poll": boards.poll_payload(poll, _connection.moderator), "seq": poll.seq}


# ------------------------------------------------------------------ moderators


@handler("post:moderate")
def on_post_moderate(data: dict) -> dict:
    _connection, board, _participant = _current()
    post = boards.moderate_post(
        board, acting_user(), data.get("post_id"), data.get("action"), data.get("column")
    )
    return {"post": boards.post_payload(post), "seq": post.seq}


@handler("participant:remove-posts")
def on_remove_participant_posts(data: dict) -> dict:
    _connection, board, _participant = _current()
    removed = boards.remove_participant_posts(board, acting_user(), data.get("participant"))
    return {"removed": removed, "seq": board.seq}


@handler("board:lock")
def on_board_lock(data: dict) -> dict:
    _connection, board, _participant = _current()
    board = boards.set_locked(board, acting_user(), data.get("locked", True))
    return {"board": boards.board_payload(board), "seq": board.seq}


@handler("board:update")
def on_board_update(data: dict) -> dict:
    _connection, board, _participant = _current()
    allowed = ("title", "description", "columns", "moderated", "anonymous", "likes", "comments")
    settings = {key: data[key] for key in allowed if key in data}
    board = boards.update_board(board, acting_user(), **settings)
    return {"board": boards.board_payload(board), "seq": board.seq}


@handler("poll:create")
def on_poll_create(data: dict) -> dict:
    _connection, board, _participant = _current()
    poll = boards.create_poll(
        board,
        acting_user(),
        data.get("question"),
        data.get("kind", "single"),
        data.get("options"),
        data.get("results"),
        open_now=data.get("open") is True,
    )
    return {"poll": boards.poll_payload(poll, moderator=True), "seq": poll.seq}


@handler("poll:open")
def on_poll_open(data: dict) -> dict:
    _connection, board, _participant = _current()
    poll = boards.set_poll_status(board, acting_user(), data.get("poll_id"), "open")
    return {"poll": boards.poll_payload(poll, moderator=True), "seq": poll.seq}


@handler("poll:close")
def on_poll_close(data: dict) -> dict:
    _connection, board, _participant = _current()
    poll = boards.set_poll_status(board, acting_user(), data.get("poll_id"), "closed")
    return {"poll": boards.poll_payload(poll, moderator=True), "seq": poll.seq}


@handler("poll:reveal")
def on_poll_reveal(data: dict) -> dict:
    _connection, board, _participant = _current()
    poll = boards.reveal_poll(board, acting_user(), data.get("poll_id"), data.get("revealed", True))
    return {"poll": boards.poll_payload(poll, moderator=True), "seq": poll.seq}


@handler("poll:delete")
def on_poll_delete(data: dict) -> dict:
    _connection, board, _participant = _current()
    boards.delete_poll(board, acting_user(), data.get("poll_id"))
    return {"seq": board.seq}
