"""Board fan-out: N real Socket.IO participants in separate processes, one poster.

``measure(url, code, n, ...)`` starts the client processes, waits until every participant
has joined, posts ``rate`` posts a second for ``seconds`` (steady phase: delivery latency
and losses), then ``burst`` posts back to back, each after the previous ack (the fan-out
rate the server sustains: deliveries per second), and returns the numbers with the server's
RSS and the clients' CPU time.
"""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import socketio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import PYTHON, load_average, percentile, tree_rss_mb  # noqa: E402

NAMESPACE = "/board"
CLIENTS = Path(__file__).resolve().parent / "clients.py"


def _poster(url: str, code: str, headers: dict) -> socketio.Client:
    poster = socketio.Client(reconnection=False)
    poster.connect(
        url, namespaces=[NAMESPACE], transports=["websocket"], headers=headers, wait_timeout=30
    )
    ack = poster.call("join", {"code": code, "name": "Ведущий"}, namespace=NAMESPACE, timeout=60)
    if not ack or not ack.get("ok"):
        raise RuntimeError(f"poster could not join: {ack}")
    return poster


def measure(
    url: str,
    code: str,
    participants: int,
    *,
    server_pid: int,
    headers: dict | None = None,
    processes: int = 4,
    rate: float = 5.0,
    seconds: float = 20.0,
    burst: int = 50,
) -> dict:
    processes = max(1, min(processes, participants // 25 or 1))
    shares = [participants // processes + (i < participants % processes) for i in range(processes)]
    children = [
        subprocess.Popen(
            [PYTHON, str(CLIENTS), url, code, str(share), "--prefix", f"c{i}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, share in enumerate(shares)
    ]
    started = time.perf_counter()
    try:
        for child in children:
            line = child.stdout.readline()
            if line.strip() != "READY":
                raise RuntimeError(f"client process failed: {line!r}")
        joined_s = time.perf_counter() - started
        rss_joined = tree_rss_mb(server_pid)
        poster = _poster(url, code, headers or {})
        acks: list[float] = []
        errors: list = []
        lock = threading.Lock()

        def acked(sent: float):
            def callback(answer):
                with lock:
                    acks.append(time.perf_counter() - sent)
                    if not answer or not answer.get("ok"):
                        errors.append(answer)

            return callback

        count = int(seconds * rate)
        t0 = time.perf_counter()
        for number in range(count):
            delay = t0 + number / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            poster.emit(
                "post:create",
                {"text": f"bench {number} {time.time_ns()}"},
                namespace=NAMESPACE,
                callback=acked(time.perf_counter()),
            )
        time.sleep(3)
        # Burst: all posts sent at once (acks not awaited), so the server's fan-out, not the
        # poster's round trips, bounds the rate: deliveries / (last arrival − first send).
        burst_start_ns = time.time_ns()
        for number in range(burst):
            poster.emit(
                "post:create",
                {"text": f"burst {number} {time.time_ns()}"},
                namespace=NAMESPACE,
                callback=acked(time.perf_counter()),
            )
        deadline = time.perf_counter() + 60
        while len(acks) < count + burst and time.perf_counter() < deadline:
            time.sleep(0.1)
        time.sleep(3)
        rss_after = tree_rss_mb(server_pid)
        poster.disconnect()
        results = []
        for child in children:
            out, _err = child.communicate("STOP\n", timeout=120)
            line = next(x for x in out.splitlines() if x.startswith("RESULT "))
            results.append(json.loads(line[len("RESULT ") :]))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    latencies = [x for r in results for x in r["latencies_ms"]]
    joined = sum(r["joined"] for r in results)
    expected = set(range(count))
    lost = sum(len(expected - set(seen)) for r in results for seen in r["steady"])
    lost += (participants - joined) * count
    burst_deliveries = sum(sum(r["burst_counts"]) for r in results)
    last_ns = max(r["last_burst_ns"] for r in results)
    burst_seconds = (last_ns - burst_start_ns) / 1e9 if last_ns else float("nan")
    return {
        "participants": participants,
        "joined": joined,
        "join_s": round(joined_s, 1),
        "posts": count,
        "deliveries": len(latencies),
        "lost": lost,
        "post_errors": len(errors),
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 1) if latencies else None,
            "p95": round(percentile(latencies, 95), 1) if latencies else None,
            "p99": round(percentile(latencies, 99), 1) if latencies else None,
            "max": round(max(latencies), 1) if latencies else None,
        },
        "ack_ms_p95": round(percentile(acks, 95) * 1000, 1) if acks else None,
        "burst": {
            "posts": burst,
            "deliveries": burst_deliveries,
            "expected": burst * joined,
            "seconds": round(burst_seconds, 2),
            "deliveries_per_s": round(burst_deliveries / burst_seconds) if last_ns else None,
        },
        "rss_joined": rss_joined,
        "rss_after": rss_after,
        "client_cpu_s": round(sum(r["cpu_s"] for r in results), 1),
        "client_processes": processes,
        "disconnected": sum(r["disconnected"] for r in results),
        "load": load_average(),
    }
