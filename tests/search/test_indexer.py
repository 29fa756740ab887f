"""The index follows the database: rebuilds, crashes, gaps, several writers, attachments."""

import gc
import io
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from kb.database import db
from kb.pages import attachments as files
from kb.pages import service as pages
from kb.pages.models import AttachmentVersion
from kb.search import indexer
from kb.search import service as search
from kb.search.changes import record_change
from kb.search.index import (
    WRITE_LOCK,
    current_generation,
    file_lock,
    index_root,
    open_searcher,
    read_state,
)
from kb.search.models import SearchChange
from tests.search.conftest import add_page, catch_up, titles, user
from tests.search.files import write_docx, write_pdf, write_pptx

REPO = Path(__file__).resolve().parents[2]


def state() -> dict:
    with open_searcher(index_root()) as searcher:
        return read_state(searcher)


def indexed_ids() -> set[str]:
    with open_searcher(index_root()) as searcher:
        return {
            fields["doc_id"]
            for fields in searcher.all_stored_fields()
            if fields.get("kind") != "state"
        }


def max_change_id() -> int:
    return db.session.scalar(sa.select(sa.func.max(SearchChange.id))) or 0


def test_first_catch_up_builds_the_index_and_positions_it(ctx):
    add_page("Первая", "Про робототехнику")
    add_page("Вторая", "Про конструктор")
    assert current_generation(index_root()) is None
    catch_up()
    assert indexed_ids() == {f"page:{pages.find_page(s).id}" for s in ("Первая", "Вторая")}
    assert state()["applied"] == max_change_id()
    assert search.health() == {"index": "ok", "index_lag": 0}
    add_page("Третья", "Про датчики")
    assert search.health()["index_lag"] == 1
    assert catch_up() == 1
    assert search.health()["index_lag"] == 0


def test_deleting_the_index_directory_loses_nothing(ctx, app):
    for n in range(5):
        add_page(f"Страница {n}", f"Текст номер {n} про шестерёнки")
    catch_up()
    before = indexed_ids()
    shutil.rmtree(app.config["KB_INDEX_DIR"])
    assert search.search("шестерёнки").available is False  # answers, never crashes
    assert search.health()["index"] == "rebuilding"
    catch_up()
    assert indexed_ids() == before
    assert search.search("шестеренка").total == 5


# Whoosh leaves the broken TOC file open when unpickling it fails (its bug, not ours).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_broken_index_is_rebuilt(ctx):
    add_page("Страница", "Текст про магниты")
    catch_up()
    generation = current_generation(index_root())
    for toc in generation.glob("*.toc"):
        toc.write_bytes(b"garbage")
    catch_up()
    assert titles(search.search("магниты")) == ["Страница"]
    gc.collect()


def test_indexer_stopped_midway_catches_up(ctx, monkeypatch):
    for n in range(6):
        add_page(f"Страница {n}", f"Опыт {n}: театр теней")
    catch_up()
    for n in range(6, 12):
        add_page(f"Страница {n}", f"Опыт {n}: театр теней")
    monkeypatch.setattr(indexer, "BATCH", 2)
    real_index_page = indexer._index_page
    calls = {"n": 0}

    def dying(writer, session, page_id):
        calls["n"] += 1
        if calls["n"] > 3:  # the process "dies" in the middle of the second batch
            raise KeyboardInterrupt
        return real_index_page(writer, session, page_id)

    monkeypatch.setattr(indexer, "_index_page", dying)
    with pytest.raises(KeyboardInterrupt):
        catch_up()
    partial = state()["applied"]
    assert 0 < partial < max_change_id()  # the first batch was committed with its position
    monkeypatch.setattr(indexer, "_index_page", real_index_page)
    catch_up()
    assert search.search("театр теней", per_page=50).total == 12
    assert state()["applied"] == max_change_id()


def test_applying_a_change_twice_is_harmless(ctx):
    add_page("Страница", "Текст про Bee-Bot")
    catch_up()
    page_id = pages.find_page("Страница").id
    for _ in range(3):
        record_change("page", page_id)
    db.session.commit()
    catch_up()
    assert search.search("Bee-Bot").total == 1
    assert len(indexed_ids()) == 1


def test_gaps_from_out_of_order_commits_are_applied_later(ctx):
    """PostgreSQL can commit id N+1 before N: the skipped id is looked for again."""
    add_page("Ранняя", "Текст про кубики")
    catch_up()
    late = add_page("Поздняя", "Текст про пирамидки")
    db.session.commit()
    top = max_change_id()
    # Simulate: id top+2 committed while id top+1 (the late page's change) is still open.
    db.session.add(SearchChange(id=top + 2, entity="page", entity_id=pages.find_page("Ранняя").id))
    db.session.commit()
    catch_up()
    assert state()["applied"] == top + 2
    assert str(top + 1) in state()["gaps"]
    assert search.search("пирамидки").total == 1  # its own change (top) was applied
    db.session.add(SearchChange(id=top + 1, entity="page", entity_id=late.id))
    db.session.commit()
    assert search.health()["index_lag"] == 1
    assert catch_up() == 1
    assert state()["gaps"] == {}


def test_expired_gaps_are_dropped(ctx, monkeypatch):
    add_page("Страница", "Текст")
    catch_up()
    top = max_change_id()
    db.session.add(
        SearchChange(id=top + 5, entity="page", entity_id=pages.find_page("Страница").id)
    )
    db.session.commit()
    catch_up()
    assert len(state()["gaps"]) == 4
    monkeypatch.setattr(indexer, "GAP_TTL", -1.0)
    catch_up()
    assert state()["gaps"] == {}


def test_rebuild_swaps_generations_while_search_keeps_answering(ctx, app):
    for n in range(40):
        add_page(f"Конспект {n}", f"Занятие {n} по робототехнике с датчиками")
    catch_up()
    old = current_generation(index_root())
    errors, answers = [], []
    stop = threading.Event()

    def keep_searching():
        with app.app_context():
            while not stop.is_set():
                try:
                    answers.append(search.search("робототехника").total)
                except Exception as error:  # noqa: BLE001 - any error fails the test
                    errors.append(error)

    reader = threading.Thread(target=keep_searching)
    reader.start()
    try:
        for _ in range(3):
            search.rebuild()
    finally:
        stop.set()
        reader.join()
    assert not errors
    assert answers and set(answers) == {40}
    new = current_generation(index_root())
    assert new != old and not old.exists()
    assert [p.name for p in index_root().glob("gen-*")] == [new.name]


def test_changes_committed_during_a_rebuild_are_not_lost(ctx, monkeypatch):
    add_page("Старая", "Текст про кубики")
    catch_up()
    real_build = indexer._build

    def build_then_someone_saves(ix, progress, procs):
        documents = real_build(ix, progress, procs)
        add_page("Новая", "Текст про пирамидки")  # committed after the snapshot
        db.session.commit()
        return documents

    monkeypatch.setattr(indexer, "_build", build_then_someone_saves)
    search.rebuild()
    assert titles(search.search("пирамидки")) == ["Новая"]
    assert state()["applied"] == max_change_id()


def test_a_stale_schema_is_rebuilt(ctx, monkeypatch):
    add_page("Страница", "Текст про шестерёнки")
    catch_up()
    old = current_generation(index_root())
    monkeypatch.setattr(indexer, "SCHEMA_VERSION", 999)
    catch_up()
    assert current_generation(index_root()) != old
    assert state()["schema"] == 999


def test_writers_wait_for_the_lock_instead_of_failing(ctx):
    add_page("Страница", "Текст")
    catch_up()
    root = index_root()
    with file_lock(root, WRITE_LOCK, timeout=1):
        with pytest.raises(indexer.IndexBusy):
            search.catch_up(lock_timeout=0.2)
        # Readers are never blocked by a writer.
        assert search.search("текст").total == 1

    held, released = threading.Event(), threading.Event()

    def hold():
        with file_lock(root, WRITE_LOCK, timeout=1):
            held.set()
            time.sleep(0.3)
            released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)  # the other writer holds the lock before we try
    add_page("Вторая", "Текст")
    db.session.commit()
    assert search.catch_up(lock_timeout=5) == 1  # waited its turn
    assert released.is_set()
    holder.join()


WRITER = """
import sys
from kb import create_app
from kb.accounts import service as accounts
from kb.database import db
from kb.pages import service as pages
from kb.search import service as search

app = create_app({"TESTING": True, "KB_DATA_DIR": sys.argv[1], "KB_ASYNC_MODE": "threading"})
with app.app_context():
    author = accounts.get_user("anna@example.org")
    for n in range(int(sys.argv[3])):
        title = f"Процесс {sys.argv[2]} страница {n}"
        pages.save_page(title, "Общий текст про конструктор", author)
        db.session.commit()
        search.catch_up(lock_timeout=60)
print("done")
"""


def test_several_processes_write_without_lock_errors_or_corruption(ctx, app):
    add_page("Начало", "Общий текст про конструктор")
    catch_up()
    # The writers use this test's database (SQLite file or PostgreSQL) and index dir.
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "KB_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(app.config["KB_DATA_DIR"]), str(k), "8"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(3)
    ]
    # Meanwhile this process reads (and writes) too.
    for _ in range(20):
        assert search.search("конструктор").total >= 1
        catch_up()
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert "LockError" not in err and out.strip() == "done"
    catch_up()
    assert search.search("конструктор", per_page=50).total == 1 + 3 * 8
    assert len(indexed_ids()) == 1 + 3 * 8
    assert state()["applied"] == max_change_id()


def _attach(page, filename, path):
    with open(path, "rb") as handle:
        return files.add_attachment(
            page, filename, io.BytesIO(handle.read()), user("anna@example.org")
        )


def test_attachments_are_extracted_in_the_background_and_found(ctx, tmp_path):
    page = add_page("Мастер-класс Bee-Bot", "Материалы мастер-класса ниже.", tags=["робототехника"])
    _attach(page, "Конспект.docx", write_docx(tmp_path / "k.docx", ["Умные пчёлки: алгоритмы"]))
    _attach(
        page, "Слайды.pptx", write_pptx(tmp_path / "s.pptx", "Цифровая лаборатория", "Термометр")
    )
    _attach(page, "Программа.pdf", write_pdf(tmp_path / "p.pdf", ["Программа по робототехнике"]))
    broken = tmp_path / "broken.docx"
    broken.write_bytes(write_docx(tmp_path / "x.docx", ["х"]).read_bytes()[:200])
    with pytest.raises(Exception):  # noqa: B017 - the wiki refuses it; make a pending one by hand
        _attach(page, "Сломанный.docx", broken)
    db.session.rollback()
    statuses = db.session.scalars(sa.select(AttachmentVersion.text_status)).all()
    assert statuses == ["pending"] * 3
    catch_up()
    statuses = db.session.scalars(sa.select(AttachmentVersion.text_status)).all()
    assert statuses == ["ok"] * 3
    hit = search.search("пчёлки").hits[0]
    assert hit.attachment["filename"] == "Конспект.docx"
    assert (hit.slug, hit.title) == ("Мастер-класс_Bee-Bot", "Мастер-класс Bee-Bot")
    assert "<mark>пчёлки</mark>" in hit.snippet
    assert search.search("термометры").hits[0].attachment["filename"] == "Слайды.pptx"
    both = search.search("робототехника")
    assert {h.attachment["filename"] if h.attachment else None for h in both.hits} == {
        None,
        "Программа.pdf",
    }
    assert both.facets["type"] == {"page": 1, "attachment": 1}
    assert search.search("робототехника", kind="attachment").total == 1
    # Found by name, too; and a deleted attachment disappears.
    assert search.search("слайды").total == 1
    attachment = files.get_attachment(hit.attachment["id"])
    files.set_attachment_deleted(attachment, True, user("boss@example.org"))
    assert search.search("пчёлки").total == 0
    catch_up()
    assert search.search("пчёлки").total == 0


def test_reindex_reads_several_files_at_once_in_the_same_order(ctx, tmp_path):
    page = add_page("Материалы семинара", "Файлы ниже.")
    names = ["Шестерёнки", "Магниты", "Термометр", "Лабиринт", "Пчёлки"]
    versions = [
        _attach(page, f"{name}.docx", write_docx(tmp_path / f"{n}.docx", [f"Тема: {name}"]))
        for n, name in enumerate(names)
    ]
    missing = _attach(page, "Пропавший.pdf", write_pdf(tmp_path / "m.pdf", ["Пропал"]))
    files.blob_path(missing.sha256).unlink()
    db.session.commit()
    assert indexer.extract_pending(limit=10, workers=3) == 6
    for version, name in zip(versions, names, strict=True):
        db.session.refresh(version)
        assert (version.text_status, version.text) == ("ok", f"Тема: {name}")
    assert db.session.get(AttachmentVersion, missing.id).text_status == "failed"


def test_unreadable_file_is_indexed_by_name_and_marked(ctx, tmp_path):
    page = add_page("Страница с файлом", "Текст.")
    version = _attach(page, "Отчёт.pdf", write_pdf(tmp_path / "r.pdf", ["Отчёт"]))
    blob = files.blob_path(version.sha256)
    blob.write_bytes(b"%PDF-1.4 broken")
    catch_up()
    assert db.session.get(AttachmentVersion, version.id).text_status == "failed"
    hit = search.search("отчёт").hits[0]
    assert hit.attachment["filename"] == "Отчёт.pdf"


def test_deleting_a_page_removes_its_attachments(ctx, tmp_path):
    page = add_page("Страница", "Текст.")
    _attach(page, "План.docx", write_docx(tmp_path / "p.docx", ["Шестерёнки"]))
    catch_up()
    assert search.search("шестерёнки").total == 1
    pages.delete_page(pages.find_page("Страница"), user("boss@example.org"))
    catch_up()
    assert indexed_ids() == set()


def test_a_commit_wakes_the_background_indexer(tmp_path):
    """KB_INDEXER on: a saved page becomes searchable without anyone calling catch_up."""
    from kb import create_app
    from kb.database import upgrade_database
    from tests.search.conftest import make_world

    app = create_app(
        {
            "TESTING": True,
            "KB_DATA_DIR": tmp_path / "data",
            "KB_ASYNC_MODE": "threading",
            "KB_INDEXER": True,
        }
    )
    with app.app_context():
        upgrade_database()
    make_world(app)
    client = app.test_client()
    client.get("/healthz")  # the first request starts the worker
    worker = app.extensions["kb_search_worker"]
    try:
        assert worker.thread is not None and worker.thread.is_alive()
        with app.app_context():
            add_page("Срочная новость", "Семинар переносится на пятницу")
            db.session.commit()
        deadline = time.monotonic() + 10
        found = 0
        while time.monotonic() < deadline and not found:
            found = client.get("/api/v1/search?q=семинар").get_json()["total"]
            time.sleep(0.05)
        assert found == 1
    finally:
        worker.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_reindex_command(ctx, app):
    add_page("Страница", "Текст про кубики")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "Индекс перестроен: 1 документов." in result.output
    assert search.search("кубики").total == 1


def test_reindex_in_child_processes_gives_the_same_answers(ctx, monkeypatch):
    for n in range(30):
        add_page(f"Конспект {n}", f"Занятие {n} про {'датчики' if n % 3 else 'шестерёнки'}")
    db.session.commit()
    search.rebuild()
    before = {q: titles(search.search(q)) for q in ("датчик", "шестерёнками", "занятия")}
    assert indexer.rebuild(procs=2) == 30
    assert {q: titles(search.search(q)) for q in before} == before
    assert state()["applied"] == max_change_id()
    # `kb reindex` shares the work out once the wiki is large enough.
    monkeypatch.setattr(indexer, "PARALLEL_REBUILD_MIN", 10)
    assert indexer.rebuild_processes(30) == min(4, len(os.sched_getaffinity(0)))
    assert indexer.rebuild_processes(9) == 1


def test_a_rebuild_that_lost_documents_is_not_swapped_in(ctx, monkeypatch):
    add_page("Страница", "Текст про кубики")
    db.session.commit()
    search.rebuild()
    good = current_generation(index_root())
    real_build = indexer._build
    monkeypatch.setattr(
        indexer, "_build", lambda ix, progress, procs: real_build(ix, progress, procs) + 1
    )
    with pytest.raises(RuntimeError, match="indexed 1 of 2"):
        search.rebuild()
    assert current_generation(index_root()) == good
    assert titles(search.search("кубики")) == ["Страница"]
