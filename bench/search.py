"""Search benchmarks: Методкабинет (Whoosh) in-process and over HTTP, SQLite FTS5 in-process.

    python bench/search.py kb-inproc --data-dir DIR      # JSON on stdout
    python bench/search.py fts5 --data-dir DIR --db FILE  # builds FILE from the kb database

The same fixed queries (single words in several forms, two words, phrases, filters) run
against each; every query returns the first 10 hits with snippets and the total count.
FTS5 has no Russian stemmer: query words are stemmed with the same Snowball stemmer and
matched as prefixes (``"робот"*``), the usual way to approximate stemming with FTS5.
"""

import argparse
import html
import json
import re
import sqlite3
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import summary_ms  # noqa: E402

# (category, query, filters)
QUERIES = [
    ("word", "робот", {}),
    ("word", "роботы", {}),
    ("word", "роботов", {}),
    ("word", "магнит", {}),
    ("word", "магнитами", {}),
    ("word", "конструирование", {}),
    ("word", "конструирования", {}),
    ("word", "экскурсия", {}),
    ("word", "экскурсии", {}),
    ("word", "лабиринтах", {}),
    ("word", "любознательность", {}),
    ("word", "Bee-Bot", {}),
    ("word", "Фрёбель", {}),
    ("two words", "дидактическая игра", {}),
    ("two words", "педагогический опыт", {}),
    ("two words", "экологическое воспитание", {}),
    ("two words", "музыкальная сказка", {}),
    ("two words", "микроскоп компас", {}),
    ("phrase", '"сетевое взаимодействие"', {}),
    ("phrase", '"дидактическая игра"', {}),
    ("phrase", '"педагогический опыт"', {}),
    ("filter", "робот", {"tag": "робототехника"}),
    ("filter", "игра", {"space": "club-0"}),
    ("filter", "опыт", {"tag": "опыты", "type": "page"}),
    ("filter", "датчик", {"space": "club-7", "tag": "стем"}),
]
CATEGORIES = ["word", "two words", "phrase", "filter"]


def query_paths() -> list[str]:
    """The queries as ``/api/v1/search?…`` paths (for wrk and HTTP clients)."""
    return ["/api/v1/search?" + urlencode({"q": q, **f}) for _c, q, f in QUERIES]


def report(timings: dict[str, list[float]], total_s: float, count: int) -> dict:
    every = [t for values in timings.values() for t in values]
    return {
        "all": summary_ms(every),
        "by_category": {c: summary_ms(timings[c]) for c in CATEGORIES if timings.get(c)},
        "qps_single_client": round(count / total_s, 1),
    }


def query_key(query: str, filters: dict) -> str:
    """A query with its filters (the filtered «робот» is another query than the plain one)."""
    return query + "".join(f" [{k}={v}]" for k, v in sorted(filters.items()))


def run_queries(search, rounds: int) -> dict:
    """``search(query, filters) -> total``: one warm-up round, then ``rounds`` timed ones."""
    totals = {query_key(q, f): search(q, f) for _c, q, f in QUERIES}
    timings: dict[str, list[float]] = {c: [] for c in CATEGORIES}
    started = time.perf_counter()
    for _ in range(rounds):
        for category, query, filters in QUERIES:
            t0 = time.perf_counter()
            search(query, filters)
            timings[category].append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    result = report(timings, elapsed, rounds * len(QUERIES))
    result["hits"] = totals
    result["rounds"] = rounds
    return result


# ---------------------------------------------------------------- Методкабинет in-process


def kb_inproc(data_dir: Path, rounds: int) -> dict:
    import os

    os.environ["KB_DATA_DIR"] = str(data_dir)
    from kb import create_app
    from kb.search import service

    app = create_app({"KB_INDEXER": False})
    with app.app_context():
        t0 = time.perf_counter()
        service.search("первый запрос")
        first = time.perf_counter() - t0

        def search(query, filters):
            args = dict(filters)
            if "type" in args:
                args["kind"] = args.pop("type")
            return service.search(query, **args).total

        result = run_queries(search, rounds)
    result["first_query_ms"] = round(first * 1000, 1)
    return result


# ---------------------------------------------------------------- SQLite FTS5

TAG = re.compile(r"<[^>]+>")


def build_fts5(data_dir: Path, path: Path) -> dict:
    """An FTS5 table of the same documents kb indexes: live pages (title, text of the
    rendered HTML, tags, space) and the extracted text of their attachments' current
    versions (kind ``attachment``), with the fields the filters and facets need."""
    source = sqlite3.connect(data_dir / "kb.sqlite3")
    pages = source.execute(
        """SELECT p.id, p.title, p.html, s.slug,
                  (SELECT group_concat(t.name, ' ') FROM page_tags pt JOIN tags t
                   ON t.id = pt.tag_id WHERE pt.page_id = p.id)
           FROM pages p JOIN spaces s ON s.id = p.space_id WHERE NOT p.deleted"""
    ).fetchall()
    attachments = source.execute(
        """SELECT a.filename, v.text, s.slug,
                  (SELECT group_concat(t.name, ' ') FROM page_tags pt JOIN tags t
                   ON t.id = pt.tag_id WHERE pt.page_id = p.id)
           FROM attachments a JOIN pages p ON p.id = a.page_id
           JOIN spaces s ON s.id = p.space_id
           JOIN attachment_versions v ON v.attachment_id = a.id
           WHERE NOT a.deleted AND NOT p.deleted AND v.text IS NOT NULL
             AND v.number = (SELECT max(number) FROM attachment_versions
                             WHERE attachment_id = a.id)"""
    ).fetchall()
    source.close()
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(title, body, tags, space UNINDEXED, "
        "kind UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')"
    )
    db.executemany(
        "INSERT INTO docs (title, body, tags, space, kind) VALUES (?, ?, ?, ?, 'page')",
        (
            (title, html.unescape(TAG.sub(" ", body)), tags or "", space)
            for _pid, title, body, space, tags in pages
        ),
    )
    db.executemany(
        "INSERT INTO docs (title, body, tags, space, kind) VALUES (?, ?, ?, ?, 'attachment')",
        ((name, text, tags or "", space) for name, text, space, tags in attachments),
    )
    db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(docs, 'row')")
    db.commit()
    db.close()
    return {
        "pages": len(pages),
        "attachments": len(attachments),
        "build_s": round(time.perf_counter() - started, 2),
    }


def fts5_query(text: str) -> str:
    import Stemmer

    russian, english = Stemmer.Stemmer("russian"), Stemmer.Stemmer("english")
    phrases = re.findall(r'"([^"]+)"', text)
    rest = re.sub(r'"[^"]+"', " ", text)
    parts = ['"' + " ".join(re.findall(r"\w+", p.lower())) + '"' for p in phrases]
    for word in re.findall(r"\w+", rest.lower().replace("ё", "е")):
        stem = (russian if re.search("[а-я]", word) else english).stemWord(word)
        parts.append(f'"{stem}"*')
    return " AND ".join(parts)


def fts5_bench(data_dir: Path, path: Path, rounds: int) -> dict:
    """Two modes on the same documents and rounds as kb:

    - ``same_work`` (the comparison): what kb does on every query — 10 hits with a snippet,
      the total, counts per space, per tag and per type (kb's facets) and a spelling lookup
      (here: the nearest vocabulary term of each query word, from an fts5vocab table);
    - ``hits_only``: doing less — the 10 hits with snippets and the total.
    """
    built = build_fts5(data_dir, path)
    db = sqlite3.connect(path)

    def where_for(query, filters):
        where, params = "docs MATCH ?", [fts5_query(query)]
        if "space" in filters:
            where += " AND space = ?"
            params.append(filters["space"])
        if "tag" in filters:
            where += " AND (' ' || tags || ' ') LIKE ?"
            params.append(f"% {filters['tag']} %")
        if "type" in filters:
            where += " AND kind = ?"
            params.append(filters["type"])
        return where, params

    def hits_only(query, filters):
        where, params = where_for(query, filters)
        db.execute(
            f"SELECT rowid, title, snippet(docs, 1, '<mark>', '</mark>', '…', 24) "
            f"FROM docs WHERE {where} ORDER BY bm25(docs, 4.0, 1.0, 2.0) LIMIT 10",
            params,
        ).fetchall()
        return db.execute(f"SELECT count(*) FROM docs WHERE {where}", params).fetchone()[0]

    def same_work(query, filters):
        total = hits_only(query, filters)
        where, params = where_for(query, filters)
        db.execute(f"SELECT space, count(*) FROM docs WHERE {where} GROUP BY space", params)
        db.execute(f"SELECT kind, count(*) FROM docs WHERE {where} GROUP BY kind", params)
        tags: dict[str, int] = {}
        for (row_tags,) in db.execute(f"SELECT tags FROM docs WHERE {where}", params):
            for tag in row_tags.split():
                tags[tag] = tags.get(tag, 0) + 1
        for word in re.findall(r"\w+", query.lower()):
            db.execute("SELECT term FROM vocab WHERE term >= ? LIMIT 1", (word,)).fetchall()
        return total

    result = {
        "same_work": run_queries(same_work, rounds),
        "hits_only": run_queries(hits_only, rounds),
        "index": built,
    }
    # the headline numbers: the same work as kb does on every query
    result.update({k: result["same_work"][k] for k in ("all", "by_category", "hits")})
    return result


# ---------------------------------------------------------------- HTTP clients


def http_latency(base_url: str, paths: list[str], rounds: int, budget_s: float) -> dict:
    """Sequential requests (one client) over ``paths``, stopping after ``budget_s``."""
    import requests

    session = requests.Session()
    for path in paths[:3]:
        session.get(base_url + path, timeout=120)
    timings: dict[str, list[float]] = {c: [] for c in CATEGORIES}
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    count = 0
    for _ in range(rounds):
        for (category, _q, _f), path in zip(QUERIES, paths, strict=True):
            t0 = time.perf_counter()
            response = session.get(base_url + path, timeout=120)
            timings[category].append(time.perf_counter() - t0)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            count += 1
            if time.perf_counter() - started > budget_s:
                break
        if time.perf_counter() - started > budget_s:
            break
    result = report(timings, time.perf_counter() - started, count)
    result["status"] = statuses
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["kb-inproc", "fts5"])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--rounds", type=int, default=4)  # the same for kb and FTS5
    args = parser.parse_args()
    if args.what == "kb-inproc":
        print(json.dumps(kb_inproc(args.data_dir, args.rounds)))
    else:
        print(json.dumps(fts5_bench(args.data_dir, args.db, args.rounds)))


if __name__ == "__main__":
    main()
