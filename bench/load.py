"""Load the benchmark corpus into a fresh data dir through the wiki's service layer.

Every page goes through ``kb.pages.service.put_page`` (Markdown rendering, sanitizing,
revision, tags, links and the search change log), committed in batches; attachments through
``kb.pages.attachments.add_attachment``. Prints one JSON object: counts and timings.

    KB_DATA_DIR=bench/out/data python bench/load.py --pages 10000 --out bench/out
"""

import argparse
import io
import json
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402

PASSWORD = "bench-password-42"
ADMIN = "bench-admin@example.org"
BATCH = 250


def load(pages: int, seed: int, out: Path) -> dict:
    from kb import create_app
    from kb.accounts import service as accounts
    from kb.database import db, mark_write_transaction, upgrade_database
    from kb.pages import attachments as files
    from kb.pages import service as wiki
    from kb.pages.slugs import slug_for_title

    app = create_app({"KB_INDEXER": False})
    started = time.perf_counter()
    with app.app_context():
        upgrade_database()
        mark_write_transaction()
        org = accounts.save_organization(
            "МАДОУ «Радуга»", "Радуга", "kindergarten", "Сургут"
        )  # fmt: skip
        admin = accounts.create_user(ADMIN, "Организатор сети", "admin", PASSWORD, org)
        editors = [
            accounts.create_user(f"editor{i}@example.org", f"Педагог {i}", "editor", PASSWORD, org)
            for i in range(6)
        ]
        token = accounts.create_token(admin, "bench")
        spaces = [
            wiki.create_space(f"club-{i}", title, description, commit=False)
            for i, (title, description) in enumerate(corpus.SPACES)
        ]
        db.session.commit()
        generated = time.perf_counter()
        slugs: list[str] = []
        attached: list[tuple[str, list[tuple[str, bytes]]]] = []
        generation_time = 0.0
        source = corpus.generate(pages, seed)
        for number in range(pages):
            t0 = time.perf_counter()
            page = next(source)
            generation_time += time.perf_counter() - t0
            slug = slug_for_title(page.title)
            wiki.put_page(
                slug,
                title=page.title,
                body=page.body,
                author=editors[page.author],
                space=spaces[page.space],
                tags=page.tags,
                base_revision=None,
                commit=False,
            )
            slugs.append(slug)
            if page.attachments:
                attached.append((slug, page.attachments))
            if number % BATCH == BATCH - 1:
                db.session.commit()
                db.session.expunge_all()
                mark_write_transaction()
                spaces = [db.session.merge(s, load=False) for s in spaces]
                editors = [db.session.merge(e, load=False) for e in editors]
                print(f"  {number + 1} pages", file=sys.stderr, flush=True)
        db.session.commit()
        pages_done = time.perf_counter()
        attachment_count = 0
        for slug, items in attached:
            mark_write_transaction()
            page = wiki.find_page(slug)
            for filename, content in items:
                files.add_attachment(page, filename, io.BytesIO(content), editors[0])
                attachment_count += 1
            db.session.commit()
        finished = time.perf_counter()
        db.engine.dispose()
    out.mkdir(parents=True, exist_ok=True)
    (out / "slugs.txt").write_text("\n".join(quote(s, safe="") for s in slugs) + "\n")
    (out / "token.txt").write_text(token + "\n")
    page_seconds = pages_done - generated - generation_time
    return {
        "pages": pages,
        "attachments": attachment_count,
        "seed": seed,
        "generate_s": round(generation_time, 2),
        "load_pages_s": round(page_seconds, 2),
        "pages_per_s": round(pages / page_seconds, 1),
        "load_attachments_s": round(finished - pages_done, 2),
        "total_s": round(finished - started, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = parser.parse_args()
    print(json.dumps(load(args.pages, args.seed, args.out)))


if __name__ == "__main__":
    main()
