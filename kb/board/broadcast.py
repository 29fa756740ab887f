"""Sending board events to Socket.IO rooms, and who is online.

Rooms of board ``N`` in the ``/board`` namespace:

- ``board:N`` — participants and presenter walls (public content only);
- ``board:N:mod`` — moderators (everything, including pending and hidden posts);
- ``board:N:p:<participant id>`` — one participant's connections (their own pending posts).

Each event is emitted once per room list: python-socketio encodes the packet once and
sends the same bytes to every connection, with no database work per recipient.
"""

import threading
from collections import Counter, defaultdict

from kb.extensions import socketio

NAMESPACE = "/board"
PRESENCE_INTERVAL = 1.0  # seconds: joins and leaves are announced at most this often


def public_room(board_id: int) -> str:
    return f"board:{board_id}"


def moderators_room(board_id: int) -> str:
    return f"board:{board_id}:mod"


def participant_room(board_id: int, participant_id: int) -> str:
    return f"board:{board_id}:p:{participant_id}"


def publish(change) -> None:
    """Send the events of a committed change (``kb.board.service.Change``) in seq order."""
    board_id = change.board_id
    moderated_seqs = {e.seq for e in change.emissions if e.audience == "moderators"}
    for emission in change.emissions:
        if emission.audience == "all":
            rooms = [public_room(board_id)]
            if emission.seq not in moderated_seqs:
                rooms.append(moderators_room(board_id))
        elif emission.audience == "moderators":
            rooms = [moderators_room(board_id)]
        else:
            rooms = [participant_room(board_id, emission.participant_id)]
        socketio.emit(emission.name, emission.payload, to=rooms, namespace=NAMESPACE)
    if change.emissions:
        _last_seq[board_id] = max(_last_seq.get(board_id, 0), change.emissions[-1].seq)


# ------------------------------------------------------------------ presence (per process)

_lock = threading.Lock()
_online: dict[int, Counter] = defaultdict(Counter)  # board id -> {viewer key: connections}
_dirty: set[int] = set()
_last_seq: dict[int, int] = {}
_ticker_started = False


def online_count(board_id: int) -> int:
    with _lock:
        return len(_online.get(board_id, ()))


def arrive(board_id: int, viewer: str, seq: int) -> None:
    """Count a connection of ``viewer`` (a participant or moderator key; walls are not counted)."""
    with _lock:
        _online[board_id][viewer] += 1
        _last_seq[board_id] = max(_last_seq.get(board_id, 0), seq)
        _dirty.add(board_id)
    _ensure_ticker()


def leave(board_id: int, viewer: str) -> None:
    with _lock:
        counter = _online.get(board_id)
        if counter is None:
            return
        counter[viewer] -= 1
        if counter[viewer] <= 0:
            del counter[viewer]
        if not counter:
            del _online[board_id]
        _dirty.add(board_id)


def presence_payload(board_id: int) -> dict:
    return {"seq": _last_seq.get(board_id, 0), "online": online_count(board_id)}


def _ensure_ticker() -> None:
    global _ticker_started
    with _lock:
        if _ticker_started:
            return
        _ticker_started = True
    socketio.start_background_task(_tick)


def _tick() -> None:
    """Announce presence of changed boards once a second: a crowd joining costs one broadcast."""
    while True:
        socketio.sleep(PRESENCE_INTERVAL)
        with _lock:
            boards = list(_dirty)
            _dirty.clear()
        for board_id in boards:
            socketio.emit(
                "presence",
                presence_payload(board_id),
                to=[public_room(board_id), moderators_room(board_id)],
                namespace=NAMESPACE,
            )
