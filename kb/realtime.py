"""Socket.IO server shared by the board and page presence."""

from flask import Flask

from kb.extensions import socketio


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
