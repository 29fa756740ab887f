"""One load-generator process: COUNT python-socketio asyncio clients on one board.

Each client connects over WebSocket, sends ``join`` and records every ``post:created`` whose
text is ``bench <n> <send time ns>`` or ``burst <n> <send time ns>``. The process prints
``READY`` when all have joined, waits for ``STOP`` on stdin, then prints one JSON line:
latencies of steady posts (ms), per-client sets of steady/burst numbers received, the last
burst arrival, connect failures and its own CPU time.

    python bench/fanout/clients.py URL CODE COUNT [--headers JSON]
"""

import argparse
import asyncio
import json
import os
import sys
import time

import socketio

NAMESPACE = "/board"


class Participant:
    def __init__(self, url: str, code: str, name: str):
        self.url, self.code, self.name = url, code, name
        self.client = socketio.AsyncClient(reconnection=False)
        self.steady: list[int] = []
        self.burst: list[int] = []
        self.latencies: list[float] = []
        self.last_burst_ns = 0
        self.disconnected = False
        self.client.on("post:created", self.on_post, namespace=NAMESPACE)
        self.client.on("disconnect", self.on_disconnect, namespace=NAMESPACE)

    async def on_post(self, data):
        now = time.time_ns()
        parts = str(data.get("post", {}).get("text", "")).split()
        if len(parts) != 3:
            return
        kind, number, sent = parts[0], int(parts[1]), int(parts[2])
        if kind == "bench":
            self.steady.append(number)
            self.latencies.append((now - sent) / 1e6)
        elif kind == "burst":
            self.burst.append(number)
            self.last_burst_ns = max(self.last_burst_ns, now)

    async def on_disconnect(self, *args):
        self.disconnected = True

    async def start(self) -> bool:
        try:
            await self.client.connect(
                self.url, namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=30
            )
            ack = await self.client.call(
                "join", {"code": self.code, "name": self.name}, namespace=NAMESPACE, timeout=60
            )
            return bool(ack and ack.get("ok"))
        except Exception as error:  # noqa: BLE001 - counted and reported, not fatal
            print(f"connect failed: {error!r}", file=sys.stderr)
            return False


async def main_async(url: str, code: str, count: int, prefix: str, concurrency: int) -> dict:
    participants = [Participant(url, code, f"{prefix}-{i}") for i in range(count)]
    gate = asyncio.Semaphore(concurrency)

    async def start(participant):
        async with gate:
            return await participant.start()

    started = time.perf_counter()
    ok = await asyncio.gather(*(start(p) for p in participants))
    join_s = time.perf_counter() - started
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    result = {
        "clients": count,
        "joined": sum(ok),
        "join_s": round(join_s, 2),
        "disconnected": sum(p.disconnected for p in participants),
        "latencies_ms": [round(x, 2) for p in participants for x in p.latencies],
        "steady": [sorted(set(p.steady)) for p, yes in zip(participants, ok, strict=True) if yes],
        "burst_counts": [len(set(p.burst)) for p in participants],
        "last_burst_ns": max((p.last_burst_ns for p in participants), default=0),
    }
    await asyncio.gather(*(p.client.disconnect() for p in participants), return_exceptions=True)
    times = os.times()
    result["cpu_s"] = round(times.user + times.system, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("code")
    parser.add_argument("count", type=int)
    parser.add_argument("--prefix", default="p")
    parser.add_argument("--concurrency", type=int, default=25)
    args = parser.parse_args()
    result = asyncio.run(main_async(args.url, args.code, args.count, args.prefix, args.concurrency))
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
