"""Socket.IO server shared by the board and page presence."""

import time

import redis
import socketio as python_socketio
from flask import Flask, current_app

from kb.extensions import socketio
from kb.views import HEALTH_PARTS


def message_queue_health() -> dict:
    """`off` for one process; `ok`/`error` for the Redis queue several processes share."""
    url = current_app.config["KB_MESSAGE_QUEUE"]
    if not url:
        return {"message_queue": "off"}
    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError:
        return {"message_queue": "error"}
    return {"message_queue": "ok"}


RESYNC_EVENT = "board:resync"
RESYNC_NAMESPACE = "/board"


class ResyncingRedisManager(python_socketio.RedisManager):
    """The Redis message queue, plus a resync order after an outage.

    While Redis is away, broadcasts between processes are lost (python-socketio drops a
    publish after two tries) although every change is already committed with its `seq`.
    When this process's subscription comes back, it tells its own clients — before
    relaying anything newer — to reload the board's state (see docs/realtime.md).
    """

    def _redis_listen_with_retries(self):  # mirrors python-socketio's loop, plus the order
        retry_sleep = 1
        subscribed = False
        first = True
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed = True
                    retry_sleep = 1
                    if not first:
                        self._order_resync()
                    first = False
                yield from self.pubsub.listen()
            except Exception as exc:  # noqa: BLE001 - any Redis failure: reconnect
                self._get_logger().error(
                    "Cannot receive from redis... retrying in %s secs",
                    retry_sleep,
                    extra={"redis_exception": str(exc)},
                )
                subscribed = False
                time.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, 60)

    def _order_resync(self) -> None:
        # Local delivery only (the base Manager's emit): every process orders its own clients.
        python_socketio.Manager.emit(self, RESYNC_EVENT, {}, namespace=RESYNC_NAMESPACE)


def init_socketio(app: Flask) -> None:
    queue_url = app.config["KB_MESSAGE_QUEUE"]
    # None (one process, in-memory) is passed explicitly: Flask-SocketIO keeps the options of
    # an earlier init_app, so an app without a queue would inherit another app's Redis manager.
    options = {"client_manager": None}
    if queue_url:
        options["client_manager"] = ResyncingRedisManager(queue_url, channel="flask-socketio")
    socketio.init_app(
        app,
        async_mode=app.config.get("KB_ASYNC_MODE", "gevent"),
        **options,
        cors_allowed_origins=app.config.get("KB_ALLOWED_ORIGINS"),
        manage_session=False,
        ping_interval=20,
        ping_timeout=20,
        http_compression=True,
        max_http_buffer_size=64 * 1024,
    )
    if message_queue_health not in HEALTH_PARTS:
        HEALTH_PARTS.append(message_queue_health)
