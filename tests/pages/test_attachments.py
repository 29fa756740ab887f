"""Attachments: real PDF/DOCX/PNG files, content checks, versions, downloads, limits."""

import io
import struct
import zipfile
import zlib
from pathlib import Path
from urllib.parse import quote

import docx
import pytest
from werkzeug.test import EnvironBuilder

from tests.pages.conftest import bearer

URL = "/api/v1/pages/Мастер-класс/attachments"


def minimal_pdf(text: str = "Hello") -> bytes:
    """A small valid PDF written by hand (objects, xref table, trailer)."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def minimal_docx(text: str = "Конспект занятия") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def minimal_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes([0, 255, 0, 0]))
    signature = bytes([0x89]) + b"PNG" + bytes([13, 10, 26, 10])
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def fetch(client, url: str):
    """GET a download and close it (file responses hold the file open until closed)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


@pytest.fixture
def files(client, seeded, token_for, app):
    editor, admin, reader = (bearer(token_for(r)) for r in ("editor", "admin", "reader"))
    created = client.put(
        "/api/v1/pages/Мастер-класс",
        json={"body": "[[Файл:план.pdf]]", "base_revision": None},
        headers=editor,
    )
    assert created.status_code == 201

    class Files:
        upload_dir = Path(app.config["KB_UPLOAD_DIR"])

        def upload(self, content: bytes, name: str, who=editor):
            return client.post(
                URL,
                data={"file": (io.BytesIO(content), name)},
                headers=who,
                content_type="multipart/form-data",
            )

        def stored(self) -> list[Path]:
            return [p for p in self.upload_dir.rglob("*") if p.is_file()]

    result = Files()
    result.editor, result.admin, result.reader = editor, admin, reader
    return result


def test_pdf_upload_is_stored_by_hash_and_downloadable(files, client, app):
    from pypdf import PdfReader

    pdf = minimal_pdf()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1  # really a valid PDF
    response = files.upload(pdf, "План занятия.pdf")
    assert response.status_code == 201
    data = response.get_json()
    assert data["filename"] == "План занятия.pdf" and data["size"] == len(pdf)
    assert data["content_type"] == "application/pdf" and isinstance(data["id"], int)
    assert data["url"].startswith("/files/")
    [stored] = files.stored()
    import hashlib

    digest = hashlib.sha256(pdf).hexdigest()
    assert stored == files.upload_dir / digest[:2] / digest[2:4] / digest
    download = fetch(client, data["url"])
    assert download.status_code == 200 and download.data == pdf
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''" + quote("План занятия.pdf") in disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "application/pdf"
    with app.app_context():
        from kb.search.models import SearchChange

        assert SearchChange.query.filter_by(entity="attachment", entity_id=data["id"]).count() == 1


def test_docx_and_image(files, client):
    response = files.upload(minimal_docx(), "Конспект.docx")
    assert response.status_code == 201
    assert response.get_json()["content_type"].endswith("wordprocessingml.document")
    image = files.upload(minimal_png(), "схема.png").get_json()
    shown = fetch(client, image["url"])
    assert shown.headers["Content-Disposition"].startswith("inline")
    assert shown.headers["Content-Type"] == "image/png"
    listed = client.get("/api/v1/pages/Мастер-класс/attachments").get_json()["attachments"]
    assert [a["filename"] for a in listed] == ["Конспект.docx", "схема.png"]


BAD_FILES = [
    (minimal_docx(), "подмена.pdf"),  # a DOCX pretending to be a PDF
    (minimal_pdf(), "подмена.docx"),
    (b"MZ\x90\x00 program", "setup.exe"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "a.svg"),
    (b"\xff\xfe\xfa not utf-8 \xc3\x28", "заметки.txt"),
    (b"", "пустой.txt"),
    (b"<html><script>alert(1)</script></html>", "page.html"),
    (b"plain words", "без расширения"),
]


def test_disallowed_or_mislabelled_files(files):
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("readme.txt", "not an office document")
    for content, name in [*BAD_FILES, (zipped.getvalue(), "архив.docx")]:
        response = files.upload(content, name)
        assert response.status_code == 422, (name, response.get_json())
        assert response.get_json()["error"]
    assert files.stored() == []
    assert list((files.upload_dir / "tmp").iterdir()) == []


def test_utf8_text_is_accepted(files):
    response = files.upload("Список литературы: «Азбука робототехники»\n".encode(), "книги.txt")
    assert response.status_code == 201 and response.get_json()["content_type"] == "text/plain"


def test_size_limit(files, app, client):
    app.config["KB_MAX_UPLOAD_MB"] = 1
    builder = EnvironBuilder(
        path=URL,
        method="POST",
        headers=files.editor,
        data={"file": (io.BytesIO(b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)), "большой.pdf")},
    )
    environ = builder.get_environ()
    try:
        response = client.open(environ)
        assert response.status_code == 413 and "1 МБ" in response.get_json()["error"]
    finally:  # the test client leaves a large body's spooled file open
        environ["wsgi.input"].close()
        builder.close()
    assert files.stored() == []
    assert list((files.upload_dir / "tmp").iterdir()) == []


def test_same_name_becomes_a_new_version(files, client):
    first = files.upload(minimal_pdf("one"), "план.pdf").get_json()
    again = files.upload(minimal_pdf("one"), "план.pdf").get_json()
    assert again["version"] == 1  # identical bytes: no new version
    second = files.upload(minimal_pdf("two"), "план.pdf").get_json()
    assert second["id"] == first["id"] and second["version"] == 2
    assert fetch(client, first["url"]).data == minimal_pdf("two")
    assert fetch(client, first["url"] + "?v=1").data == minimal_pdf("one")
    assert fetch(client, first["url"] + "?v=7").status_code == 404


def test_path_in_filename_is_dropped(files):
    response = files.upload("текст".encode(), "../../etc/passwd.txt")
    assert response.get_json()["filename"] == "passwd.txt"


def test_permissions_and_admin_delete_restore(files, client, auth, users):
    assert files.upload(minimal_pdf(), "план.pdf", who=files.reader).status_code == 403
    data = files.upload(minimal_pdf(), "план.pdf").get_json()
    auth.login(users["admin"])
    token = auth.csrf("/wiki/Мастер-класс")
    response = client.post(f"/attachments/{data['id']}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert fetch(client, data["url"]).status_code == 200  # admins still see it
    auth.logout()
    assert fetch(client, data["url"]).status_code == 404
    auth.login(users["admin"])
    client.post(f"/attachments/{data['id']}/restore", data={"csrf_token": auth.csrf()})
    auth.logout()
    assert fetch(client, data["url"]).status_code == 200


def test_html_upload_form_without_javascript(files, client, auth, users):
    auth.login(users["editor"])
    page = client.get("/wiki/Мастер-класс").get_data(as_text=True)
    assert 'id="upload-form"' in page and 'data-api="/api/v1/pages/' in page
    response = client.post(
        "/wiki/Мастер-класс/attachments",
        data={"file": (io.BytesIO(minimal_pdf()), "план.pdf"), "csrf_token": auth.csrf()},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "прикреплён" in html and "план.pdf" in html
    # The page's [[Файл:план.pdf]] link now points at the file.
    assert 'class="attachment" href="/files/' in html


def test_upload_to_missing_page(client, seeded, token_for):
    response = client.post(
        "/api/v1/pages/Нет_такой/attachments",
        data={"file": (io.BytesIO(minimal_pdf()), "a.pdf")},
        headers=bearer(token_for("editor")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 404


def test_missing_file_field(files, client):
    response = client.post(URL, data={}, headers=files.editor, content_type="multipart/form-data")
    assert response.status_code == 400 and response.get_json()["error"]
