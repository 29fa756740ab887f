"""The smallest WSGI app: the reference for gunicorn + gevent latency on this machine."""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
    return [b"pong"]
