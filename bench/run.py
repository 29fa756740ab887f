"""Run every benchmark and write ``bench/out/results.json`` and ``bench/out/report.md``.

    python bench/run.py                 # everything (what `make bench` runs)
    BENCH_STEPS=corpus,reindex,pageview python bench/run.py   # some steps (others reuse out/)

Environment: ``BENCH_PAGES`` (10000), ``BENCH_SECONDS`` (wrk run length, 15),
``BENCH_FANOUT`` (participants, "100,500,1000"), ``BENCH_OUT`` (bench/out).
"""

import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import otter  # noqa: E402
import search  # noqa: E402
from common import (  # noqa: E402
    BENCH_DIR,
    OUT,
    PYTHON,
    ROOT,
    Server,
    kb,
    kb_env,
    kb_server,
    load_average,
    log,
    run_wrk,
    summary_ms,
)
from fanout import run as fanout  # noqa: E402

PAGES = int(os.environ.get("BENCH_PAGES", "10000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
FANOUT = [int(x) for x in os.environ.get("BENCH_FANOUT", "100,500,1000").split(",") if x]
STEPS = os.environ.get("BENCH_STEPS", "corpus,reindex,pageview,save,search,otterwiki,fanout").split(
    ","
)
DATA = OUT / "data"
WARM_PAGES = 2000
RESULTS = OUT / "results.json"


def machine() -> dict:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    versions = {}
    for name in ("flask", "flask-socketio", "python-socketio", "gevent", "gunicorn", "whoosh"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": __import__("sqlite3").sqlite_version,
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "?",
        "packages": versions,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


# ---------------------------------------------------------------- steps


def step_corpus(results: dict) -> None:
    shutil.rmtree(DATA, ignore_errors=True)
    env = kb_env(DATA, KB_INDEXER="0")
    log(f"loading {PAGES} pages through the service layer")
    load = subprocess.run(
        [PYTHON, str(BENCH_DIR / "load.py"), "--pages", str(PAGES), "--out", str(OUT)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(load.stdout.strip().splitlines()[-1])
    loaded["load"] = load_average()
    log(f"loaded: {loaded}")
    results["corpus"] = loaded


def step_reindex(results: dict) -> None:
    """`kb reindex` of the loaded corpus (the first one also extracts the attachments)."""
    t0 = time.perf_counter()
    reindex = kb("reindex", env=kb_env(DATA, KB_INDEXER="0"), capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    (OUT / "reindex.log").write_text(reindex.stderr + reindex.stdout)
    results["reindex"] = {
        "seconds": round(seconds, 1),
        "output": reindex.stdout.strip(),
        "progress_bar": "Индексация страниц" in reindex.stderr,
        "load": load_average(),
    }
    log(f"reindex: {results['reindex']}")


def slug_paths() -> Path:
    path = OUT / "page-paths.txt"
    slugs = (OUT / "slugs.txt").read_text().split()
    path.write_text("".join(f"/wiki/{slug}\n" for slug in slugs))
    (OUT / "ping-paths.txt").write_text("/bench/ping\n")
    return path


def step_pageview(results: dict, server: Server, label: str = "pageview") -> None:
    pages = slug_paths()
    run_wrk(server.url, pages, connections=20, seconds=5)  # warm-up: templates, caches
    results["memory"] = {**results.get("memory", {}), "after_corpus_warm": server.rss()}
    recent = recently_read_paths(server)
    # Both sides of every ratio in one run, interleaved: a change of the machine's load
    # during the step hits the trivial endpoint as much as the page views.
    measured = interleaved(
        server,
        {"trivial": OUT / "ping-paths.txt", "page": pages, "page_recently_read": recent},
        rounds=3,
        seconds=SECONDS,
    )
    ping, page, warm = measured["trivial"], measured["page"], measured["page_recently_read"]
    warm["pages"] = len(recent.read_text().split())
    # Service time without queueing: one connection.
    single = run_wrk(server.url, pages, connections=1, seconds=max(5, SECONDS // 2))
    single["load"] = load_average()
    results[label] = {
        "trivial": ping,
        "page": page,
        "page_1_connection": single,
        "page_recently_read": warm,
        "ratio": round(page["rps"] / ping["rps"], 2),
        "ratio_recently_read": round(warm["rps"] / ping["rps"], 2),
        "page_bytes_avg": round(page["bytes"] / max(1, page["requests"])),
        "bare_gevent_wsgi": bare_wsgi_reference(),
    }
    log(
        f"{label}: ratio {results[label]['ratio']}, page p99 {page['latency_ms']['p99']} ms; "
        f"recently read: ratio {results[label]['ratio_recently_read']}, "
        f"p99 {warm['latency_ms']['p99']} ms"
    )


def interleaved(server: Server, cases: dict[str, Path], *, rounds: int, seconds: int) -> dict:
    """wrk over each case in turn, ``rounds`` times, ``seconds`` in all per case (20
    connections); per case: requests/s over all rounds, the median p50 and the worst p99
    of its rounds, and each round's rate."""
    runs: dict[str, list[dict]] = {name: [] for name in cases}
    each = max(3, round(seconds / rounds))
    for _ in range(rounds):
        for name, paths in cases.items():
            runs[name].append(run_wrk(server.url, paths, connections=20, seconds=each))
    combined = {}
    for name, parts in runs.items():
        requests_, duration = sum(r["requests"] for r in parts), sum(r["duration_s"] for r in parts)
        combined[name] = {
            "requests": requests_,
            "duration_s": round(duration, 3),
            "rps": round(requests_ / duration, 1),
            "bytes": sum(r["bytes"] for r in parts),
            "latency_ms": {
                "p50": sorted(r["latency_ms"]["p50"] for r in parts)[len(parts) // 2],
                "p99": max(r["latency_ms"]["p99"] for r in parts),
                "max": max(r["latency_ms"]["max"] for r in parts),
            },
            "rounds_rps": [r["rps"] for r in parts],
            "errors": {
                k: sum(r["errors"][k] for r in parts)
                for k in ("connect", "read", "write", "status", "timeout")
            },
            "load": load_average(),
        }
    return combined


def recently_read_paths(server: Server, count: int = WARM_PAGES) -> Path:
    """``count`` pages that guests have read before (the page cache is warm for them).

    Uniformly random views of all 10,000 pages in a 15 s run reach most pages once, so a
    cache of rendered views is cold there; this is the other case, a working set.
    """
    slugs = (OUT / "slugs.txt").read_text().split()
    chosen = random.Random(7).sample(slugs, min(count, len(slugs)))
    path = OUT / "recent-paths.txt"
    path.write_text("".join(f"/wiki/{slug}\n" for slug in chosen))
    with requests.Session() as http:
        for slug in chosen:
            http.get(f"{server.url}/wiki/{slug}", timeout=30).raise_for_status()
            http.cookies.clear()
    return path


def bare_wsgi_reference() -> dict:
    """A hello-world WSGI app under the same gunicorn gevent worker: the floor of the tail."""
    server = Server(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "-k",
            "gevent",
            "-w",
            "1",
            "--worker-connections",
            "4000",
            "--no-control-socket",
            "-b",
            "127.0.0.1:{port}",
            "--chdir",
            str(BENCH_DIR / "wrk"),
            "hello:app",
        ],  # fmt: skip
        dict(os.environ),
        health="/",
        name="bare-wsgi",
    )
    with server:
        result = run_wrk(server.url, OUT / "ping-paths.txt", connections=20, seconds=SECONDS)
    result["load"] = load_average()
    return result


def step_save(results: dict, server: Server, saves: int = 100) -> None:
    token = (OUT / "token.txt").read_text().strip()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    slugs = (OUT / "slugs.txt").read_text().split()
    rng = random.Random(7)
    save_times, searchable, missing = [], [], 0
    for _ in range(saves):
        slug = rng.choice(slugs)
        page = session.get(f"{server.url}/api/v1/pages/{slug}", timeout=30).json()
        word = "".join(rng.choice("бвгджзклмнпрстфхцчшщ") + rng.choice("аеиоуыя") for _ in range(6))
        body = page["body"] + f"\n\nМетка для поиска: {word}."
        t0 = time.perf_counter()
        response = session.put(
            f"{server.url}/api/v1/pages/{slug}",
            json={"body": body, "base_revision": page["revision"], "comment": "bench"},
            timeout=30,
        )
        saved = time.perf_counter()
        response.raise_for_status()
        save_times.append(saved - t0)
        while True:
            found = session.get(
                f"{server.url}/api/v1/search", params={"q": word, "per_page": 1}, timeout=30
            ).json()
            if found.get("total"):
                searchable.append(time.perf_counter() - saved)
                break
            if time.perf_counter() - saved > 10:
                missing += 1
                break
            time.sleep(0.01)
    results["save"] = {
        "put": summary_ms(save_times),
        "save_to_searchable": summary_ms(searchable) if searchable else None,
        "not_searchable_in_10s": missing,
        "load": load_average(),
    }
    log(f"save: {results['save']}")


def step_search(results: dict, server: Server) -> None:
    paths = search.query_paths()
    (OUT / "search-paths.txt").write_text("".join(p + "\n" for p in paths))
    http = search.http_latency(server.url, paths, rounds=4, budget_s=120)
    http["wrk_c4"] = run_wrk(server.url, OUT / "search-paths.txt", connections=4, seconds=SECONDS)
    http["load"] = load_average()
    inproc = json.loads(
        subprocess.run(
            [
                PYTHON,
                str(BENCH_DIR / "search.py"),
                "kb-inproc",
                "--data-dir",
                str(DATA),
                "--rounds",
                "4",
            ],  # fmt: skip
            env=kb_env(DATA, KB_INDEXER="0"),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    inproc["load"] = load_average()
    fts5 = json.loads(
        subprocess.run(
            [
                PYTHON,
                str(BENCH_DIR / "search.py"),
                "fts5",
                "--data-dir",
                str(DATA),
                "--db",
                str(OUT / "fts5.sqlite3"),
                "--rounds",
                "4",
            ],  # fmt: skip
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    fts5["load"] = load_average()
    results["search"] = {"kb_http": http, "kb_inproc": inproc, "fts5": fts5}
    log(
        f"search: kb in-process p95 {inproc['all']['p95']} ms, FTS5 p95 {fts5['all']['p95']} ms,"
        f" HTTP p95 {http['all']['p95']} ms, {http['wrk_c4']['rps']} req/s"
    )


def step_otterwiki(results: dict) -> None:
    try:
        results["otterwiki"] = otter.bench(DATA, budget_s=90, seconds=SECONDS)
    except Exception as error:  # noqa: BLE001 - reported in the results, not fatal
        results["otterwiki"] = {"error": f"{type(error).__name__}: {error}"}
    log(f"otterwiki: {str(results['otterwiki'])[:300]}")


def step_fanout(results: dict, server: Server) -> None:
    token = (OUT / "token.txt").read_text().strip()
    headers = {"Authorization": f"Bearer {token}"}
    kb_runs = []
    for n in FANOUT:
        created = requests.post(
            f"{server.url}/api/v1/boards", json={"title": f"Бенчмарк {n}"}, headers=headers,
            timeout=30,
        )  # fmt: skip
        created.raise_for_status()
        code = created.json()["code"]
        log(f"fan-out: kb serve, {n} participants on board {code}")
        run = fanout.measure(server.url, code, n, server_pid=server.process.pid, headers=headers)
        log(f"  {run['latency_ms']}, lost {run['lost']}, burst {run['burst']}")
        kb_runs.append(run)
    bare_runs = []
    bare = Server(
        [PYTHON, str(BENCH_DIR / "fanout" / "bare_server.py"), "--port", "{port}"],
        dict(os.environ),
        name="bare-socketio",
    )
    with bare:
        for n in FANOUT:
            log(f"fan-out: bare python-socketio, {n} participants")
            run = fanout.measure(bare.url, "bare", n, server_pid=bare.process.pid)
            log(f"  {run['latency_ms']}, lost {run['lost']}, burst {run['burst']}")
            bare_runs.append(run)
    results["fanout"] = {"kb": kb_runs, "bare": bare_runs}


# ---------------------------------------------------------------- report


def targets(results: dict) -> list[tuple[str, str, str, bool | None]]:
    """(what, target, measured, met) rows."""
    rows = []

    def add(what, target, measured, met):
        rows.append((what, target, measured, met))

    if "reindex" in results:
        r = results["reindex"]
        add(f"Full reindex of {results['corpus']['pages']} pages", "≤ 60 s, progress bar",
            f"{r['seconds']} s, bar: {'yes' if r['progress_bar'] else 'no'}",
            r["seconds"] <= 60 and r["progress_bar"])  # fmt: skip
    for label in ("pageview", "pageview_rerun"):
        if label in results:
            p = results[label]
            add(f"Page view vs trivial ({label})", "≥ 0.5×",
                f"{p['ratio']}× ({p['page']['rps']} vs {p['trivial']['rps']} req/s)",
                p["ratio"] >= 0.5)  # fmt: skip
            add(f"Page view p99 ({label})", "≤ 50 ms", f"{p['page']['latency_ms']['p99']} ms",
                p["page"]["latency_ms"]["p99"] <= 50)  # fmt: skip
            if "page_recently_read" in p:
                w = p["page_recently_read"]
                add(f"Page view of {w['pages']} recently read pages vs trivial ({label})",
                    "≥ 0.5×", f"{p['ratio_recently_read']}× ({w['rps']} req/s)",
                    p["ratio_recently_read"] >= 0.5)  # fmt: skip
                add(f"Page view p99, recently read pages ({label})", "≤ 50 ms",
                    f"{w['latency_ms']['p99']} ms", w["latency_ms"]["p99"] <= 50)  # fmt: skip
    if "save" in results:
        s = results["save"]
        add("Save (PUT) p95", "≤ 100 ms", f"{s['put']['p95']} ms", s["put"]["p95"] <= 100)
        st = s["save_to_searchable"]
        add("Save → searchable p95", "≤ 1 s", f"{st['p95']} ms" if st else "never",
            bool(st) and st["p95"] <= 1000 and not s["not_searchable_in_10s"])  # fmt: skip
    if "search" in results:
        k, f = results["search"]["kb_inproc"], results["search"]["fts5"]
        h = results["search"]["kb_http"]
        add("Search p95 (in-process)", "≤ 20 ms", f"{k['all']['p95']} ms", k["all"]["p95"] <= 20)
        add("Search p95 (HTTP API)", "≤ 20 ms", f"{h['all']['p95']} ms", h["all"]["p95"] <= 20)
        ratio = k["all"]["p95"] / max(f["all"]["p95"], 1e-9)
        add("Search p95 vs FTS5 (both: hits, totals, facets, suggestion)", "≤ 3×",
            f"{ratio:.1f}× ({k['all']['p95']} vs {f['all']['p95']} ms)", ratio <= 3)  # fmt: skip
        if "hits_only" in f:
            lf = f["hits_only"]["all"]["p95"]
            add("Search p95 vs FTS5 doing less (hits and totals only)", "—",
                f"{k['all']['p95'] / max(lf, 1e-9):.1f}× ({k['all']['p95']} vs {lf} ms)",
                None)  # fmt: skip
    o = results.get("otterwiki")
    if o and "search" in results:
        if "error" in o:
            add("Search throughput vs Otterwiki", "≥ 50×", f"not run: {o['error']}", None)
        else:
            ours = results["search"]["kb_http"]["wrk_c4"]["rps"]
            theirs = o["wrk_c4"]["rps"] or o["qps_single_client"]
            ratio = ours / max(theirs, 1e-9)
            add("Search throughput vs Otterwiki", "≥ 50×",
                f"{ratio:.0f}× ({ours} vs {theirs} req/s)", ratio >= 50)  # fmt: skip
    if "fanout" in results:
        kb_runs = {r["participants"]: r for r in results["fanout"]["kb"]}
        bare = {r["participants"]: r for r in results["fanout"]["bare"]}
        top = max(kb_runs)
        r = kb_runs[top]
        add(f"Fan-out p95 at {top}", "≤ 150 ms", f"{r['latency_ms']['p95']} ms",
            r["latency_ms"]["p95"] is not None and r["latency_ms"]["p95"] <= 150)  # fmt: skip
        add(f"Fan-out lost at {top}", "0", str(r["lost"]), r["lost"] == 0)
        rss = r["rss_after"].get("total_mb", 0)
        add(f"Server RSS at {top}", "≤ 300 MB", f"{rss} MB", rss <= 300)
        if top in bare and bare[top]["burst"]["deliveries_per_s"]:
            ratio = r["burst"]["deliveries_per_s"] / bare[top]["burst"]["deliveries_per_s"]
            theirs = bare[top]["burst"]["deliveries_per_s"]
            add(f"Fan-out rate vs bare python-socketio at {top}", "≥ 0.7×",
                f"{ratio:.2f}× ({r['burst']['deliveries_per_s']} vs {theirs} deliveries/s)",
                ratio >= 0.7)  # fmt: skip
    return rows


def render(results: dict) -> str:
    lines = ["| what | target | measured | met |", "|---|---|---|---|"]
    for what, target, measured, met in targets(results):
        mark = {True: "yes", False: "**no**", None: "—"}[met]
        lines.append(f"| {what} | {target} | {measured} | {mark} |")
    return "\n".join(lines) + "\n"


def save(results: dict) -> None:
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    (OUT / "report.md").write_text(render(results))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results = {k: v for k, v in previous.items() if k not in STEPS}
    results["machine"] = machine()
    results["load_at_start"] = load_average()
    started = time.perf_counter()
    for step in ("corpus", "reindex"):
        if step in STEPS:
            globals()[f"step_{step}"](results)
            save(results)
    server_steps = [s for s in STEPS if s in ("pageview", "save", "search", "fanout", "rerun")]
    if server_steps:
        server = kb_server(DATA)
        with server:
            results["memory"] = {**results.get("memory", {}), "after_start": server.rss()}
            for step in ("pageview", "save", "search"):
                if step in STEPS:
                    log(f"step {step}")
                    globals()[f"step_{step}"](results, server)
                    save(results)
            if "fanout" in STEPS:
                step_fanout(results, server)
                top = results["fanout"]["kb"][-1]
                results["memory"]["after_participants"] = {
                    "participants": top["participants"],
                    **top["rss_joined"],
                }
                save(results)
            if "rerun" in STEPS:
                step_pageview(results, server, "pageview_rerun")
                save(results)
    if "otterwiki" in STEPS:
        step_otterwiki(results)
        save(results)
    results["total_s"] = round(time.perf_counter() - started, 1)
    save(results)
    print(render(results))
    log(f"done in {results['total_s']} s; {RESULTS} and {OUT / 'report.md'}")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
