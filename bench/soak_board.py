"""Soak: a 300-participant board for 10 minutes at 5 posts/s with likes and votes.

Starts a real `kb serve` on a temporary data dir (or uses --url with --token), connects the
participants as python-socketio asyncio clients, and records every acknowledged change. At
the end it checks that every acknowledged post, like and vote is in the server's state
(0 lost) and that the worker's memory stayed flat after the warm-up minute.

    .venv/bin/python bench/soak_board.py                 # 300 participants, 600 s
    .venv/bin/python bench/soak_board.py --seconds 60    # a quick run

Prints one JSON summary line; exit status 1 if anything was lost or memory grew > 25 %.
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import socketio

NS = "/board"
PASSWORD = "soak-password-42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kb(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "from kb.cli import main; main()", *args],
        env=env, input=stdin, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return result.stdout.strip()


def start_server(root: Path) -> tuple[subprocess.Popen, str, str]:
    port = free_port()
    env = {
        **os.environ,
        "KB_DATA_DIR": str(root),
        "KB_PORT": str(port),
        "KB_BOARD_POSTS_PER_MINUTE": "1000",
        "KB_BOARD_JOINS_PER_MINUTE": "1000000",  # all participants come from localhost
        "KB_BOARD_JOINS_PER_HOUR": "1000000",
    }
    env.pop("KB_DATABASE_URL", None)
    kb(env, "init")
    kb(env, "user", "add", "soak@example.org", "--name", "Ведущая", "--role", "editor",
       "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    token = kb(env, "token", "create", "soak@example.org")
    log = (root / "serve.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-c", "from kb.cli import main; main()", "serve"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url, token
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("kb serve did not start")


def worker_rss_kb(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    total = 0
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


class Participant:
    def __init__(self, number: int):
        self.number = number
        self.client = socketio.AsyncClient(reconnection=False)
        self.posts: list[str] = []
        self.likes: set[int] = set()
        self.voted = False

    async def join(self, url: str, code: str) -> None:
        await self.client.connect(url, namespaces=[NS], transports=["websocket"])
        ack = await self.client.call("join", {"code": code, "name": f"Участник {self.number}"},
                                     namespace=NS, timeout=60)  # fmt: skip
        if not ack["ok"]:
            raise RuntimeError(ack)


async def soak(url: str, token: str, participants: int, seconds: float, rate: float, master):
    headers = {"Authorization": f"Bearer {token}"}
    board = requests.post(url + "/api/v1/boards", json={"title": "Soak"}, headers=headers,
                          timeout=10).json()  # fmt: skip
    code = board["code"]
    poll = requests.post(
        f"{url}/api/v1/boards/{code}/polls",
        json={"question": "Как вам?", "kind": "single", "options": ["Да", "Нет"], "open": True},
        headers=headers, timeout=10,
    ).json()["poll"]  # fmt: skip
    people = [Participant(n) for n in range(participants)]
    for start in range(0, participants, 50):
        await asyncio.gather(*(p.join(url, code) for p in people[start : start + 50]))
    started = time.monotonic()
    memory: list[tuple[float, int]] = []
    errors = 0
    post_ids: list[int] = []
    n = 0
    while (elapsed := time.monotonic() - started) < seconds:
        person = random.choice(people)
        text = f"пост {n}"
        ack = await person.client.call("post:create", {"text": text}, namespace=NS, timeout=30)
        if ack.get("ok"):
            person.posts.append(text)
            post_ids.append(ack["post"]["id"])
        else:
            errors += 1
        liker = random.choice(people)
        if post_ids:
            target = random.choice(post_ids)
            if target not in liker.likes:
                like = await liker.client.call("post:like", {"post_id": target, "like": True},
                                               namespace=NS, timeout=30)  # fmt: skip
                if like.get("ok"):
                    liker.likes.add(target)
        voter = random.choice(people)
        if not voter.voted:
            vote = await voter.client.call(
                "poll:vote", {"poll_id": poll["id"], "choices": [poll["options"][0]["id"]]},
                namespace=NS, timeout=30,
            )  # fmt: skip
            voter.voted = bool(vote.get("ok"))
        if master and (not memory or elapsed - memory[-1][0] >= 10):
            memory.append((elapsed, worker_rss_kb(master)))
        n += 1
        await asyncio.sleep(max(0.0, n / rate - (time.monotonic() - started)))
    await asyncio.gather(*(p.client.disconnect() for p in people))

    state = requests.get(f"{url}/api/v1/boards/{code}", headers=headers, timeout=30).json()
    texts = {p["text"]: p for p in state["posts"]}
    likes = {p["id"]: p["likes"] for p in state["posts"]}
    acked_posts = [t for p in people for t in p.posts]
    lost_posts = [t for t in acked_posts if t not in texts]
    expected_likes: dict[int, int] = {}
    for person in people:
        for post_id in person.likes:
            expected_likes[post_id] = expected_likes.get(post_id, 0) + 1
    lost_likes = sum(max(0, want - likes.get(pid, 0)) for pid, want in expected_likes.items())
    polls = {p["id"]: p for p in state["polls"]}
    acked_votes = sum(1 for p in people if p.voted)
    lost_votes = max(0, acked_votes - polls[poll["id"]]["voters"])
    warm = [rss for t, rss in memory if t >= min(60, seconds / 3)]
    growth = (warm[-1] - warm[0]) / warm[0] if len(warm) >= 2 else 0.0
    return {
        "participants": participants,
        "seconds": round(seconds),
        "posts_acknowledged": len(acked_posts),
        "likes_acknowledged": sum(expected_likes.values()),
        "votes_acknowledged": acked_votes,
        "lost_posts": len(lost_posts),
        "lost_likes": lost_likes,
        "lost_votes": lost_votes,
        "refused": errors,
        "rss_mb_after_warmup": round(warm[0] / 1024, 1) if warm else None,
        "rss_mb_end": round(warm[-1] / 1024, 1) if warm else None,
        "rss_growth": round(growth, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--rate", type=float, default=5.0, help="posts per second")
    parser.add_argument("--url", help="an already running server (then --token is needed)")
    parser.add_argument("--token")
    args = parser.parse_args()
    root = None
    process = None
    try:
        if args.url:
            url, token, master = args.url, args.token, None
        else:
            root = Path(tempfile.mkdtemp(prefix="kb-soak-"))
            process, url, token = start_server(root)
            master = process.pid
        summary = asyncio.run(soak(url, token, args.participants, args.seconds, args.rate, master))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(summary, ensure_ascii=False))
    lost = summary["lost_posts"] + summary["lost_likes"] + summary["lost_votes"]
    sys.exit(1 if lost or summary["rss_growth"] > 0.25 else 0)


if __name__ == "__main__":
    main()
