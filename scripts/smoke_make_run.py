"""`make run` as a newcomer runs it: a fresh clone of HEAD, its own .venv, nothing installed.

Clones the repository's HEAD into a temporary folder, runs `make run` there on a free
KB_PORT (with the system's python3, not the test virtualenv), waits until /healthz answers,
signs in with the login `make run` printed, opens the home page in Russian and in English,
then stops everything it started. Exits non-zero with the tail of `make run`'s output when
any step fails. Part of `make test` (target `test-fresh-clone`); uncommitted changes are not
in the clone, so commit before relying on it locally.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = float(os.environ.get("KB_SMOKE_TIMEOUT", "900"))  # pip install included
LOGIN_RE = re.compile(r"Вход для организатора: (\S+@\S+) / (\S+)")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def newcomer_environment(port: int) -> dict[str, str]:
    """The caller's environment without this project's virtualenv or settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KB_", "VIRTUAL_ENV"))}
    own_venv = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != own_venv)
    env.update({"KB_PORT": str(port), "KB_HOST": "127.0.0.1", "PYTHONDONTWRITEBYTECODE": "1"})
    env.pop("PYTHONPATH", None)
    return env


class MakeRun:
    def __init__(self, clone: Path, port: int):
        self.output: list[str] = []
        self.process = subprocess.Popen(
            ["make", "run"],
            cwd=clone,
            env=newcomer_environment(port),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: gunicorn and workers stop with it
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line.rstrip("\n"))

    def login(self) -> tuple[str, str] | None:
        for line in self.output:
            match = LOGIN_RE.search(line)
            if match:
                return match.group(1), match.group(2)
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process.stdout.close()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output[-lines:])


def wait_until_serving(run: MakeRun, url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if run.process.poll() is not None:
            raise SystemExit(f"`make run` stopped with exit code {run.process.returncode}")
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(1)
    raise SystemExit(f"`make run` did not serve /healthz within {START_TIMEOUT:.0f} s")


def check_signed_in_home(url: str, email: str, password: str) -> None:
    session = requests.Session()
    form = session.get(url + "/login", timeout=10)
    token = CSRF_RE.search(form.text)
    if form.status_code != 200 or token is None:
        raise SystemExit(f"/login answered {form.status_code} without a form")
    answer = session.post(
        url + "/login",
        data={"email": email, "password": password, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    if answer.status_code != 302:
        raise SystemExit(f"signing in with the printed login answered {answer.status_code}")
    home = session.get(url + "/", timeout=10)
    if home.status_code != 200 or "Выйти" not in home.text:
        raise SystemExit(f"the home page after signing in: {home.status_code}, not signed in")
    english = session.get(url + "/?lang=en", timeout=10)
    if "Sign out" not in english.text:
        raise SystemExit("the English catalog is missing: the home page is not translated")


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="kb-fresh-clone-"))
    clone = workdir / "kb"
    run = None
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        print(f"fresh clone of HEAD in {clone}: make run on port {port}", flush=True)
        started = time.monotonic()
        run = MakeRun(clone, port)
        wait_until_serving(run, url)
        login = run.login()
        if login is None:
            raise SystemExit("`make run` did not print the organizer's login")
        check_signed_in_home(url, *login)
        took = time.monotonic() - started
        print(f"make run served the demo in {took:.0f} s; signed in as {login[0]}")
        return 0
    except SystemExit as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        if run is not None:
            print("--- last lines of `make run` ---\n" + run.tail(), file=sys.stderr)
        return 1
    finally:
        if run is not None:
            run.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
