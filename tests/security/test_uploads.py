"""Uploads: size limit while streaming, type by content, clean names, no traversal, no SVG."""

import io
import os
import socket

import pytest
import requests

from kb.accounts import service as accounts
from kb.database import db
from kb.pages import service as pages
from kb.pages.models import Attachment

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


@pytest.fixture
def wiki(app, users, token_for):
    app.config["KB_MAX_UPLOAD_MB"] = 1
    with app.app_context():
        pages.create_space("obshchee", "Общее", is_default=True)
        pages.put_page(
            "Файлы", title="Файлы", body="текст", base_revision=None,
            author=accounts.get_user(users["editor"]),
        )  # fmt: skip
        page_id = pages.get_page("Файлы").id
    return {"Authorization": f"Bearer {token_for('editor')}"}, page_id


def upload(client, headers, name: str, data: bytes):
    return client.post(
        "/api/v1/pages/Файлы/attachments",
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def stored_files(app) -> list[str]:
    root = app.config["KB_UPLOAD_DIR"]
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def attachment_rows(app) -> int:
    with app.app_context():
        count = db.session.query(Attachment).count()
        db.session.remove()
    return count


def test_type_is_judged_by_content(app, client, wiki):
    headers, _page = wiki
    refused = {
        "fake.pdf": b"<html><script>alert(1)</script></html>",
        "page.png": b"<html><body onload=alert(1)>",
        "picture.png": SVG,
        "picture.svg": SVG,
        "page.html": b"<script>alert(1)</script>",
        "binary.txt": b"\x00\x01\x02\xff\xfe" * 50,
        "script.js": b"alert(1)",
    }
    for name, data in refused.items():
        answer = upload(client, headers, name, data)
        assert answer.status_code == 422, (name, answer.status_code)
    assert attachment_rows(app) == 0
    assert [f for f in stored_files(app) if not f.startswith("tmp/")] == []
    assert upload(client, headers, "pixel.png", PNG).status_code == 201


def test_names_are_cleaned_and_never_reach_the_disk(app, client, wiki):
    headers, page_id = wiki
    for name in ("../../../secret_key.txt", "..\\..\\evil.txt", "a\x00b\u202e.txt", " .txt"):
        answer = upload(client, headers, name, b"plain text\n")
        if answer.status_code == 201:
            filename = answer.get_json()["filename"]
            assert "/" not in filename and "\\" not in filename and ".." not in filename
            assert "\x00" not in filename and "\u202e" not in filename
        else:
            assert answer.status_code == 422
    data_dir = app.config["KB_DATA_DIR"]
    assert not (data_dir.parent / "secret_key.txt").exists()
    assert not (data_dir / "evil.txt").exists()
    # blobs are named by their hash only
    for path in stored_files(app):
        assert all(c in "0123456789abcdef/" for c in path), path


def test_download_paths_cannot_traverse(app, client, wiki):
    headers, page_id = wiki
    secret = app.config["SECRET_KEY"].encode()
    assert upload(client, headers, "notes.txt", b"notes\n").status_code == 201
    for path in (
        f"/files/{page_id}/../../secret_key",
        f"/files/{page_id}/..%2F..%2Fsecret_key",
        f"/files/{page_id}/%2e%2e/%2e%2e/kb.sqlite3",
        f"/files/{page_id}/notes.txt/../../../secret_key",
        f"/files/{page_id}//etc/passwd",
    ):
        answer = client.get(path)
        assert answer.status_code in (404, 308), path
        assert secret not in answer.data and b"root:" not in answer.data
        answer.close()
    good = client.get(f"/files/{page_id}/notes.txt")
    assert good.status_code == 200 and good.data == b"notes\n"
    assert good.headers["Content-Disposition"].startswith("attachment")
    assert good.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in good.headers["Content-Security-Policy"]
    good.close()
    image = upload(client, headers, "pixel.png", PNG)
    assert image.status_code == 201
    inline = client.get(f"/files/{page_id}/pixel.png")
    assert inline.mimetype == "image/png"
    assert "sandbox" in inline.headers["Content-Security-Policy"]
    inline.close()


def test_size_limit_while_reading(app, client, wiki):
    headers, _page = wiki
    limit = 1024 * 1024
    too_big = upload(client, headers, "big.txt", b"a" * (limit + 10))
    assert too_big.status_code == 413
    assert attachment_rows(app) == 0
    assert [f for f in stored_files(app)] == []  # the partial temp file is gone too
    assert upload(client, headers, "fits.txt", b"a" * (limit - 10)).status_code == 201


@pytest.mark.server
def test_size_limit_is_enforced_while_streaming(live_server):
    """The server refuses on the announced length before reading, and cuts off a chunked
    upload once it passes MAX_CONTENT_LENGTH; nothing is stored either way."""
    live_server.run_cli(
        "user", "add", "up@example.org", "--name", "У", "--role", "editor", "--password-stdin",
        stdin="correct-horse-42\n",
    )  # fmt: skip
    token = live_server.run_cli("token", "create", "up@example.org").stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    made = requests.put(
        live_server.url + "/api/v1/pages/Файлы",
        json={"title": "Файлы", "body": "x", "base_revision": None},
        headers=auth,
        timeout=10,
    )
    assert made.status_code in (200, 201), made.text
    host, port = "127.0.0.1", live_server.port
    # 1. an announced 1 GB body: answered 413 at once, without sending the body
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            (
                "POST /api/v1/pages/%D0%A4%D0%B0%D0%B9%D0%BB%D1%8B/attachments HTTP/1.1\r\n"
                f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                "Content-Type: multipart/form-data; boundary=XX\r\n"
                "Content-Length: 1073741824\r\n\r\n"
            ).encode()
        )
        head = sock.recv(4096).decode("latin-1")
    assert head.startswith("HTTP/1.1 413"), head[:200]

    # 2. a chunked body with no length: cut off while reading
    def body():
        yield b'--XX\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n'
        for _ in range(30):
            yield b"a" * (1024 * 1024)
        yield b"\r\n--XX--\r\n"

    try:
        answer = requests.post(
            live_server.url + "/api/v1/pages/Файлы/attachments",
            data=body(),
            headers={**auth, "Content-Type": "multipart/form-data; boundary=XX"},
            timeout=30,
        )
        assert answer.status_code == 413
    except requests.ConnectionError:
        pass  # the server closed the connection mid-upload: also a refusal
    listing = requests.get(
        live_server.url + "/api/v1/pages/Файлы/attachments", headers=auth, timeout=10
    ).json()
    assert listing in ([], {"attachments": []}) or not listing.get("attachments")
    uploads = live_server.data_dir / "uploads"
    assert [p for p in uploads.rglob("*") if p.is_file()] == []
    assert os.path.isdir(uploads)
