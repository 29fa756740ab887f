"""Disk full or an unwritable upload directory during an upload: a clear error, no partial
files, no orphan rows — and uploads work again once the disk is back."""

import resource
import shutil

import pytest
import requests

from tests.faults.conftest import workers

pytestmark = pytest.mark.server


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


def test_disk_full_during_upload(served):
    server, headers = served
    # "disk full": the worker may not grow any file past 1 MB (writes fail with EFBIG)
    limit = 1024 * 1024
    old = {pid: resource.prlimit(pid, resource.RLIMIT_FSIZE) for pid in workers(server)}
    for pid, (_soft, hard) in old.items():
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, hard))  # soft limit only
    answer = _upload(server, headers, "big.txt", b"a" * (3 * limit))
    _check_refusal(answer)
    assert _files(server) == []
    assert _attachments(server, headers) == []
    for pid in workers(server):
        resource.prlimit(
            pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        )
    assert _upload(server, headers, "big.txt", b"a" * (3 * limit)).status_code == 201
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
