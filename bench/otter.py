"""An Otter Wiki (PyPI ``otterwiki``) with the same pages, searched with the same queries.

Installed in its own virtualenv (``bench/out/otterwiki-venv``), served by gunicorn with one
sync worker (its Docker image runs one uWSGI process), its git repository built from the
Методкабинет database: one ``<slug>.md`` per live page, ``# Title`` then the Markdown body,
one commit. Otter Wiki's search (``/-/search/<query>``) reads every page and matches the
query as a case-insensitive substring, with no filters, stemming or phrases; filter queries
send the words only, phrase queries the words without quotes.
"""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

import search  # noqa: E402
from common import OUT, Server, load_average, log, run_wrk  # noqa: E402

VENV = OUT / "otterwiki-venv"


def install() -> str:
    python = VENV / "bin" / "python"
    if (
        not (VENV / "bin" / "gunicorn").exists()
        or subprocess.run([str(python), "-c", "import otterwiki"], capture_output=True).returncode
    ):
        log("installing otterwiki into its own virtualenv")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        with (OUT / "otterwiki-install.log").open("w") as log_file:
            subprocess.run(
                [str(VENV / "bin" / "pip"), "install", "-q", "otterwiki", "gunicorn"],
                check=True,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
    version = subprocess.run(
        [str(python), "-c", "from importlib.metadata import version; print(version('otterwiki'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return version


def export(data_dir: Path, repository: Path) -> int:
    """The live pages of the kb database as a git repository of Markdown files."""
    if repository.exists():
        subprocess.run(["rm", "-rf", str(repository)], check=True)
    repository.mkdir(parents=True)
    db = sqlite3.connect(data_dir / "kb.sqlite3")
    count = 0
    for slug, title, body in db.execute("SELECT slug, title, body FROM pages WHERE NOT deleted"):
        (repository / f"{slug.lower()}.md").write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
        count += 1
    db.close()
    git = ["git", "-C", str(repository), "-c", "user.name=bench", "-c", "user.email=b@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "corpus"], check=True)
    return count


def otter_paths() -> list[str]:
    paths = []
    for _category, query, _filters in search.QUERIES:
        words = query.replace('"', "")
        paths.append("/-/search/" + quote(words, safe=""))
    return paths


def bench(data_dir: Path, budget_s: float, seconds: int) -> dict:
    version = install()
    repository = OUT / "otterwiki-repo"
    t0 = time.perf_counter()
    pages = export(data_dir, repository)
    export_s = time.perf_counter() - t0
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KB_")},
        "REPOSITORY": str(repository),
        "SECRET_KEY": "bench-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{OUT / 'otterwiki.sqlite3'}",
        "READ_ACCESS": "ANONYMOUS",
    }
    server = Server(
        [
            str(VENV / "bin" / "gunicorn"),
            "-w",
            "1",
            "-b",
            "127.0.0.1:{port}",
            "--timeout",
            "600",
            "otterwiki.server:app",
        ],  # fmt: skip
        env,
        health="/-/about",
        name="otterwiki",
    )
    paths = otter_paths()
    with server:
        latency = search.http_latency(server.url, paths, rounds=2, budget_s=budget_s)
        (OUT / "otter-paths.txt").write_text("".join(p + "\n" for p in paths))
        wrk = run_wrk(server.url, OUT / "otter-paths.txt", connections=4, seconds=seconds)
        rss = server.rss()
    return {
        "version": version,
        "pages": pages,
        "export_s": round(export_s, 1),
        **latency,
        "wrk_c4": wrk,
        "rss": rss,
        "load": load_average(),
    }
