"""Attachments: files on a page, stored by SHA-256 under KB_UPLOAD_DIR, typed by content.

A file is written to a temporary name first and renamed into place when complete, so no
reader ever sees half a file; the user's file name never reaches the disk.
"""

import codecs
import hashlib
import os
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from kb.accounts.models import User
from kb.database import db, utcnow
from kb.errors import Conflict, InvalidInput, NotFound, TooLarge
from kb.pages.models import Attachment, AttachmentVersion, Page
from kb.pages.render import file_path
from kb.pages.service import check_admin, check_editor
from kb.search.changes import record_change

CHUNK = 64 * 1024
MAX_FILENAME = 255
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

# kind → (content type, extensions that may carry it)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pdf": ("application/pdf", (".pdf",)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
    ),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        (".pptx",),
    ),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    "odt": ("application/vnd.oasis.opendocument.text", (".odt",)),
    "odp": ("application/vnd.oasis.opendocument.presentation", (".odp",)),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", (".ods",)),
    "ole": ("application/x-ole-storage", (".doc", ".xls", ".ppt")),
    "png": ("image/png", (".png",)),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg")),
    "gif": ("image/gif", (".gif",)),
    "webp": ("image/webp", (".webp",)),
    "text": ("text/plain", (".txt", ".md", ".csv")),
}
OLE_TYPES = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
}
TEXT_TYPES = {".txt": "text/plain", ".md": "text/markdown", ".csv": "text/csv"}
ALLOWED_EXTENSIONS = sorted({ext for _type, exts in KINDS.values() for ext in exts})
ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.presentation": "odp",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
}


def upload_dir() -> Path:
    return Path(current_app.config["KB_UPLOAD_DIR"])


def blob_path(sha256: str) -> Path:
    return upload_dir() / sha256[:2] / sha256[2:4] / sha256


def max_upload_bytes() -> int:
    return int(current_app.config["KB_MAX_UPLOAD_MB"]) * 1024 * 1024


def clean_filename(name: str | None) -> str:
    """The user's name, made safe to show and to send back (never used on disk)."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _CONTROL.sub("", name)
    name = " ".join(name.split()).strip(" .")
    if not name:
        raise InvalidInput(_("У файла нет имени."))
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        ext = ext if dot and len(ext) <= 10 else ""
        name = name[: MAX_FILENAME - len(ext) - 1].rstrip() + ("." + ext if ext else "")
    return name


def _zip_kind(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size <= 100:
                    kind = ODF_MIMETYPES.get(archive.read("mimetype").strip())
                    if kind:
                        return kind
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return "docx"
                if "ppt/presentation.xml" in names:
                    return "pptx"
                if "xl/workbook.xml" in names:
                    return "xlsx"
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, NotImplementedError):
        return None
    return None


def _is_utf8_text(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if b"\x00" in chunk:
                return False
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def sniff(path: Path, extension: str) -> str | None:
    """The file's kind judged by its bytes (magic numbers, zip members, UTF-8)."""
    with path.open("rb") as handle:
        head = handle.read(2048)
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if extension in TEXT_TYPES and _is_utf8_text(path):
        return "text"
    return None


@dataclass
class StoredFile:
    sha256: str
    size: int
    content_type: str


def store_file(stream: BinaryIO, filename: str) -> StoredFile:
    """Write the upload to a temp file, check size and type, then move it into place."""
    extension = os.path.splitext(filename)[1].lower()
    if extension not in ALLOWED_EXTENSIONS:
        raise InvalidInput(
            _(
                "Файлы такого типа не принимаются. Можно: %(list)s.",
                list=", ".join(e.lstrip(".") for e in ALLOWED_EXTENSIONS),
            )
        )
    limit = max_upload_bytes()
    tmp_dir = upload_dir() / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        with tmp.open("wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(
                        _(
                            "Файл больше %(mb)s МБ.",
                            mb=current_app.config["KB_MAX_UPLOAD_MB"],
                        )
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise InvalidInput(_("Файл пустой."))
        kind = sniff(tmp, extension)
        if kind is None or extension not in KINDS[kind][1]:
            raise InvalidInput(
                _(
                    "Содержимое файла «%(name)s» не похоже на %(ext)s. "
                    "Проверьте, что файл не повреждён и имеет правильное расширение.",
                    name=filename,
                    ext=extension.lstrip(".").upper(),
                )
            )
        content_type = OLE_TYPES.get(extension) or (
            TEXT_TYPES[extension] if kind == "text" else KINDS[kind][0]
        )
        sha = digest.hexdigest()
        final = blob_path(sha)
        if final.exists():
            tmp.unlink()
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        return StoredFile(sha, size, content_type)
    finally:
        if tmp.exists():
            tmp.unlink()


def find_attachment(page: Page, filename: str) -> Attachment | None:
    return db.session.scalar(
        sa.select(Attachment).where(Attachment.page_id == page.id, Attachment.filename == filename)
    )


def get_attachment(attachment_id: int) -> Attachment:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound(_("Файл не найден."))
    return attachment


def add_attachment(
    page: Page, filename: str | None, stream: BinaryIO, uploader: User
) -> AttachmentVersion:
    """Attach a file; the same name again becomes a new version (identical bytes: no-op)."""
    check_editor(uploader)
    if page.deleted:
        raise NotFound(_("Страница удалена."))
    filename = clean_filename(filename)
    stored = store_file(stream, filename)
    attachment = find_attachment(page, filename)
    if attachment is None:
        attachment = Attachment(page_id=page.id, filename=filename)
        db.session.add(attachment)
        db.session.flush()
        number = 1
    else:
        current = attachment.versions[-1] if attachment.versions else None
        if current is not None and current.sha256 == stored.sha256 and not attachment.deleted:
            return current
        number = (current.number if current else 0) + 1
        attachment.deleted = False
    version = AttachmentVersion(
        attachment_id=attachment.id,
        number=number,
        sha256=stored.sha256,
        size=stored.size,
        content_type=stored.content_type,
        uploader_id=uploader.id,
        created_at=utcnow(),
        text_status="pending",
    )
    db.session.add(version)
    db.session.flush()
    db.session.refresh(attachment)
    record_change("attachment", attachment.id)
    db.session.commit()
    return version


def set_attachment_deleted(attachment: Attachment, deleted: bool, actor: User) -> None:
    check_admin(actor)
    if attachment.deleted == deleted:
        raise Conflict(_("Файл уже удалён.") if deleted else _("Файл не удалён."))
    attachment.deleted = deleted
    record_change("attachment", attachment.id)
    db.session.commit()


def version_for_download(
    page_id: int, filename: str, number: int | None, *, admin: bool
) -> AttachmentVersion:
    attachment = db.session.scalar(
        sa.select(Attachment).where(Attachment.page_id == page_id, Attachment.filename == filename)
    )
    if attachment is None or ((attachment.deleted or attachment.page.deleted) and not admin):
        raise NotFound(_("Файл не найден."))
    if number is None:
        return attachment.current
    for version in attachment.versions:
        if version.number == number:
            return version
    raise NotFound(_("У файла нет версии %(n)s.", n=number))


def is_inline(version: AttachmentVersion) -> bool:
    return version.content_type in INLINE_TYPES


def attachment_url(attachment: Attachment, version: int | None = None) -> str:
    url = file_path(attachment.page_id, attachment.filename)
    return f"{url}?v={version}" if version else url


def describe(attachment: Attachment) -> dict:
    current = attachment.current
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "size": current.size,
        "content_type": current.content_type,
        "url": attachment_url(attachment),
        "version": current.number,
        "uploaded_at": current.created_at.isoformat() + "Z",
    }
