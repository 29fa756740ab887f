"""Production serving: gunicorn with the gevent worker (HTTP and Socket.IO WebSockets).

One worker process serves HTTP and every Socket.IO connection (WebSocket first; browsers fall
back to long-polling). ``KB_WORKERS`` adds processes (they then need ``KB_MESSAGE_QUEUE``);
``KB_WORKER_CONNECTIONS`` bounds the connections of one worker — set it above the number of
board participants you expect: gunicorn does not refuse the next one, it leaves it hanging.

With ``KB_BENCH=1`` the app also answers ``GET /bench/ping`` with ``pong``: the trivial
endpoint the benchmarks (``bench/``) compare page views with. It goes through the same
request hooks (session, CSRF check, security headers, compression) as every other view.
"""

import gc
import os

from flask import Flask
from gunicorn.app.base import BaseApplication


def add_bench_endpoint(app: Flask) -> None:
    """``GET /bench/ping``: the same server and hooks as a page view, no query, no template."""

    def bench_ping():
        return "pong"

    app.add_url_rule("/bench/ping", "bench_ping", bench_ping)


def server_options(host: str, port: int, workers: int, worker_connections: int) -> dict:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gevent",
        "worker_connections": worker_connections,
        "backlog": max(2048, worker_connections),
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        # gunicorn 23+ shares ~/.gunicorn/gunicorn.ctl between instances: one per process tree
        # would do, but several servers on one machine (tests, benchmarks) replace each other's.
        "control_socket_disable": True,
    }


class KbServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        # Imported in the worker, after gevent has patched the standard library.
        from kb import create_app

        app = create_app()
        # The loaded app lives as long as the worker: keep it out of the cyclic collector's
        # full passes, which otherwise stop every request of the worker for 100+ ms.
        gc.freeze()
        if os.environ.get("KB_BENCH") == "1":
            add_bench_endpoint(app)
        return app


def run_server(host: str, port: int, workers: int, worker_connections: int) -> None:
    KbServer(server_options(host, port, workers, worker_connections)).run()
