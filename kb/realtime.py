"""Socket.IO server shared by the board and page presence."""

import redis
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


def init_socketio(app: Flask) -> None:
    socketio.init_app(
        app,
        async_mode=app.config.get("KB_ASYNC_MODE", "gevent"),
        message_queue=app.config["KB_MESSAGE_QUEUE"],
        cors_allowed_origins=app.config.get("KB_ALLOWED_ORIGINS"),
        manage_session=False,
        ping_interval=20,
        ping_timeout=20,
        http_compression=True,
        max_http_buffer_size=64 * 1024,
    )
    if message_queue_health not in HEALTH_PARTS:
        HEALTH_PARTS.append(message_queue_health)
