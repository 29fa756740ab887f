"""Sending board events to Socket.IO rooms, and who is online.

Rooms of board ``N`` in the ``/board`` namespace:

- ``board:N`` — participants and presenter walls (public content only);
- ``board:N:mod`` — moderators (everything, including pending and hidden posts);
- ``board:N:p:<participant id>`` — one participant's connections (their own pending posts).

Each event is emitted once per room list: python-socketio encodes the packet once and
sends the same bytes to every connection, with no database work per recipient.
"""

import logging
import threading
import time
from collections import Counter, defaultdict

import redis

from kb.extensions import socketio

logger = logging.getLogger(__name__)

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


# ------------------------------------------------------------------ presence

# Each process counts its own connections. With KB_MESSAGE_QUEUE the viewers are also kept
# in Redis, one sorted set per board scored by last-seen time, so that every process
# announces the same number: a process refreshes its viewers every HEARTBEAT_SECONDS, and
# those of a process that died fade after STALE_SECONDS. Without Redis (or while it is
# unreachable) the count is this process's own.
HEARTBEAT_SECONDS = 20.0
STALE_SECONDS = 3 * HEARTBEAT_SECONDS
_lock = threading.Lock()
_online: dict[int, Counter] = defaultdict(Counter)  # board id -> {viewer key: connections}
_dirty: set[int] = set()
_last_seq: dict[int, int] = {}
_ticker_started = False
_shared: redis.Redis | None = None
_shared_url: str | None = None


def _shared_key(board_id: int) -> str:
    return f"kb:board-online:{board_id}"


def _share(operation) -> bool:
    """Run a Redis operation on the shared presence; False when there is none or it failed."""
    if _shared is None:
        return False
    try:
        operation(_shared)
        return True
    except redis.RedisError as error:
        logger.warning("board presence: Redis unavailable (%s); counting this process only", error)
        return False


def use_message_queue(url: str | None) -> None:
    """Share presence through the Redis at ``url`` (the app's KB_MESSAGE_QUEUE), or not."""
    global _shared, _shared_url
    if url != _shared_url:
        _shared_url = url
        _shared = (
            redis.Redis.from_url(
                url, decode_responses=True, socket_timeout=1, socket_connect_timeout=1
            )
            if url
            else None
        )


def online_count(board_id: int) -> int:
    counted: list[int] = []

    def count(shared: redis.Redis) -> None:
        with shared.pipeline() as pipe:
            pipe.zremrangebyscore(_shared_key(board_id), "-inf", time.time() - STALE_SECONDS)
            pipe.zcard(_shared_key(board_id))
            counted.append(pipe.execute()[1])

    if _share(count):
        return counted[0]
    with _lock:
        return len(_online.get(board_id, ()))


def arrive(board_id: int, viewer: str, seq: int) -> None:
    """Count a connection of ``viewer`` (a participant or moderator key; walls are not counted)."""
    with _lock:
        _online[board_id][viewer] += 1
        _last_seq[board_id] = max(_last_seq.get(board_id, 0), seq)
        _dirty.add(board_id)
    _share(lambda shared: _mark_seen(shared, {board_id: [viewer]}))
    _ensure_ticker()


def leave(board_id: int, viewer: str) -> None:
    with _lock:
        counter = _online.get(board_id)
        if counter is None:
            return
        counter[viewer] -= 1
        gone = counter[viewer] <= 0
        if gone:
            del counter[viewer]
        if not counter:
            del _online[board_id]
        _dirty.add(board_id)
    if gone:  # still connected through another process? that one refreshes it soon
        _share(lambda shared: shared.zrem(_shared_key(board_id), viewer))


def _mark_seen(shared: redis.Redis, viewers: dict[int, list[str]]) -> None:
    now = time.time()
    with shared.pipeline() as pipe:
        for board_id, keys in viewers.items():
            pipe.zadd(_shared_key(board_id), dict.fromkeys(keys, now))
            pipe.expire(_shared_key(board_id), int(STALE_SECONDS * 2))
        pipe.execute()


def _refresh_shared() -> None:
    with _lock:
        viewers = {board_id: list(counter) for board_id, counter in _online.items()}
    if viewers:
        _share(lambda shared: _mark_seen(shared, viewers))


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
    refreshed = time.monotonic()
    while True:
        socketio.sleep(PRESENCE_INTERVAL)
        if time.monotonic() - refreshed >= HEARTBEAT_SECONDS:
            refreshed = time.monotonic()
            _refresh_shared()
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
