"""Shared helpers of the benchmarks: servers, machine load, memory, percentiles."""

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
OUT = Path(os.environ.get("BENCH_OUT") or BENCH_DIR / "out")
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50": round(percentile(ms, 50), 2),
        "p95": round(percentile(ms, 95), 2),
        "p99": round(percentile(ms, 99), 2),
        "mean": round(statistics.fmean(ms), 2),
        "max": round(max(ms), 2),
    }


def tree_rss_mb(pid: int) -> dict:
    """RSS of a process and its children (gunicorn: master + workers), in MB."""
    try:
        main = psutil.Process(pid)
        children = main.children(recursive=True)
    except psutil.NoSuchProcess:
        return {}
    result = {"master_mb": round(main.memory_info().rss / 2**20, 1)}
    workers = [round(child.memory_info().rss / 2**20, 1) for child in children]
    result["workers_mb"] = workers
    result["total_mb"] = round(result["master_mb"] + sum(workers), 1)
    return result


def kb_env(data_dir: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update({"KB_DATA_DIR": str(data_dir), "KB_SECRET_KEY": "bench-secret-key-not-for-prod"})
    env.update(extra)
    return env


def kb(*args: str, env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "-c", "from kb.cli import main; main()", *args],
        env=env,
        check=True,
        cwd=ROOT,
        **kwargs,
    )


class Server:
    """A server process on a free port; waits for ``health`` to answer 200."""

    def __init__(self, command: list[str], env: dict, health: str = "/healthz", name="server"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [part.replace("{port}", str(self.port)) for part in command]
        self.env = {**env, "KB_PORT": str(self.port), "KB_HOST": "127.0.0.1"}
        self.health = health
        self.log_path = OUT / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> "Server":
        OUT.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command} exited; see {self.log_path}")
            try:
                if requests.get(self.url + self.health, timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.command} did not answer in {timeout} s; see {self.log_path}")

    def rss(self) -> dict:
        return tree_rss_mb(self.process.pid) if self.process else {}

    def worker_pids(self) -> list[int]:
        try:
            return [c.pid for c in psutil.Process(self.process.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def kb_server(data_dir: Path, name: str = "kb-serve", **extra_env: str) -> Server:
    # every simulated participant comes from localhost: lift the per-address join limits
    many = {"KB_BOARD_JOINS_PER_MINUTE": "1000000", "KB_BOARD_JOINS_PER_HOUR": "1000000"}
    env = kb_env(data_dir, KB_BENCH="1", **{**many, **extra_env})
    return Server([PYTHON, "-c", "from kb.cli import main; main()", "serve"], env, name=name)


def run_wrk(url: str, paths_file: Path, *, connections: int, seconds: int, threads: int = 1):
    """wrk with the random-paths script; returns its JSON summary."""
    env = {**os.environ, "BENCH_PATHS": str(paths_file)}
    result = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "--latency",
            "-s",
            str(BENCH_DIR / "wrk" / "random_paths.lua"),
            url,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in result.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            return json.loads(line[len("WRK_JSON ") :])
    raise RuntimeError(f"wrk printed no summary: {result.stdout} {result.stderr}")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')} load {load_average()[0]}] {message}", flush=True)
