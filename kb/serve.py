"""Production serving: gunicorn with the gevent worker (HTTP and Socket.IO WebSockets)."""

from gunicorn.app.base import BaseApplication


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

        return create_app()


def run_server(host: str, port: int, workers: int, worker_connections: int) -> None:
    KbServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gevent",
            "worker_connections": worker_connections,
            "timeout": 60,
            "graceful_timeout": 10,
            "keepalive": 5,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "info",
            "control_socket_disable": True,
        }
    ).run()
