"""A bare python-socketio server speaking the board's fan-out subset of the protocol.

The reference for the fan-out benchmark: the same transport stack as ``kb serve``
(gunicorn gevent worker, python-socketio/engineio, simple-websocket, the same ping settings),
but no Flask, no database, no permissions — ``join`` enters one room, ``post:create`` gives the
next ``seq`` and broadcasts ``post:created {seq, post}`` to the room, then acks.

    python bench/fanout/bare_server.py --port 5055 --worker-connections 4000
"""

if __name__ == "__main__":  # patch before anything imports sockets or threads, like `kb serve`
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import socketio  # noqa: E402
from gunicorn.app.base import BaseApplication  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kb.serve import server_options  # noqa: E402

NAMESPACE = "/board"


def create_wsgi_app():
    sio = socketio.Server(
        async_mode="gevent",
        ping_interval=20,
        ping_timeout=20,
        http_compression=True,
        max_http_buffer_size=64 * 1024,
        cors_allowed_origins=[],
    )
    seq = itertools.count(1)
    names: dict[str, str] = {}

    @sio.on("join", namespace=NAMESPACE)
    def join(sid, data):
        sio.enter_room(sid, "board", namespace=NAMESPACE)
        names[sid] = str((data or {}).get("name") or "Гость")[:60]
        return {"ok": True, "token": sid, "seq": 0, "posts": [], "polls": []}

    @sio.on("post:create", namespace=NAMESPACE)
    def create_post(sid, data):
        number = next(seq)
        post = {
            "id": number,
            "column": 0,
            "text": str((data or {}).get("text", ""))[:1000],
            "author": names.get(sid, "Гость"),
            "author_key": sid,
            "status": "visible",
            "pinned": False,
            "likes": 0,
            "edited": False,
            "comments": [],
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "seq": number,
        }
        sio.emit("post:created", {"seq": number, "post": post}, room="board", namespace=NAMESPACE)
        return {"ok": True, "post": post, "seq": number}

    @sio.on("disconnect", namespace=NAMESPACE)
    def disconnect(sid, *args):
        names.pop(sid, None)

    def health(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    return socketio.WSGIApp(sio, health)


class BareServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_wsgi_app()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--worker-connections", type=int, default=4000)
    args = parser.parse_args()
    sys.argv = sys.argv[:1]  # gunicorn would parse ours
    BareServer(server_options("127.0.0.1", args.port, 1, args.worker_connections)).run()


if __name__ == "__main__":
    main()
