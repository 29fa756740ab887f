"""Disk full or an unwritable upload directory during an upload: a clear error, no partial
files, no orphan rows — and uploads work again once the disk is back."""

import resource
import shutil

import pytest
import requests

from tests.faults.conftest import workers

pytestmark = [pytest.mark.server, pytest.mark.serial]


def _upload(server, headers, name: str, data: bytes):
    return requests.post(
        server.url + "/api/v1/pages/Главная/attachments",
        files={"file": (name, data, "text/plain")},
        headers=headers,
        timeout=30,
    )


def _files(server) -> list[str]:
    root = server.data_dir / "uploads"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _attachments(server, headers) -> list:
    answer = requests.get(
        server.url + "/api/v1/pages/Главная/attachments", headers=headers, timeout=10
    )
    body = answer.json()
    return body["attachments"] if isinstance(body, dict) else body


def _check_refusal(answer) -> None:
    assert answer.status_code in (503, 507), answer.status_code
    message = answer.json()["error"]
    assert "мест" in message or "хранилищ" in message, message


# Werkzeug keeps an upload below 500 KB in memory (its spooled temporary file), so a file of
# UPLOAD bytes reaches our own write path (KB_UPLOAD_DIR/tmp/*.part) before anything fails.
UPLOAD = 400 * 1024


def _largest_written_file(server) -> int:
    """The largest file the worker appends to while serving: the SQLite database itself is
    left out (in WAL mode it is written only at a checkpoint; commits go to the -wal file)."""
    files = [p for p in server.data_dir.rglob("*") if p.is_file() and p.suffix != ".sqlite3"]
    return max((p.stat().st_size for p in files), default=0)


def test_disk_full_during_upload(served):
    server, headers = served
    # "disk full": the worker may not grow any file past `limit` (writes fail with EFBIG);
    # the files it writes while serving stay below it, the upload does not
    limit = max(_largest_written_file(server) + 64 * 1024, 128 * 1024)
    assert limit < UPLOAD, f"data files of {limit} bytes leave no room for the fault"
    old = {pid: resource.prlimit(pid, resource.RLIMIT_FSIZE) for pid in workers(server)}
    for pid, (_soft, hard) in old.items():
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, hard))  # soft limit only
    answer = _upload(server, headers, "big.txt", b"a" * UPLOAD)
    _check_refusal(answer)
    assert _files(server) == []  # the partial file in uploads/tmp was removed
    assert _attachments(server, headers) == []
    for pid in workers(server):
        resource.prlimit(
            pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        )
    assert _upload(server, headers, "big.txt", b"a" * UPLOAD).status_code == 201
    assert len(_attachments(server, headers)) == 1


def test_unwritable_upload_directory(served):
    server, headers = served
    uploads = server.data_dir / "uploads"
    shutil.rmtree(uploads)
    uploads.write_text("not a directory")  # works for root too, unlike chmod
    answer = _upload(server, headers, "notes.txt", b"notes\n")
    _check_refusal(answer)
    assert _attachments(server, headers) == []
    uploads.unlink()
    uploads.mkdir()
    assert _upload(server, headers, "notes.txt", b"notes\n").status_code == 201
    assert len(_attachments(server, headers)) == 1
