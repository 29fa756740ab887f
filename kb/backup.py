"""Backup and restore: one archive with a portable database dump, the uploads and a manifest.

The dump is JSON Lines per table (values encoded by column type), so a backup taken on
SQLite restores into PostgreSQL and back. Tables are written and restored in foreign-key
order; restoring needs an empty database (``kb init`` is run first) and an empty uploads
folder, and is done in one transaction.
"""

import base64
import hashlib
import io
import json
import os
import tarfile
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from kb.database import db
from kb.errors import Conflict, InvalidInput
from kb.models import import_all_models

FORMAT_VERSION = 1
# login_throttles: failed sign-ins of the last day, not worth restoring anywhere else.
SKIPPED_TABLES = {"alembic_version", "login_throttles"}


@dataclass
class BackupSummary:
    path: Path
    tables: dict[str, int]
    files: int


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((kind, raw),) = value.items()
        if kind == "$datetime":
            return datetime.fromisoformat(raw)
        if kind == "$date":
            return date.fromisoformat(raw)
        if kind == "$bytes":
            return base64.b64decode(raw)
        if kind == "$decimal":
            return Decimal(raw)
    return value


def _tables() -> list[sa.Table]:
    import_all_models()
    return [t for t in db.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    archive.addfile(info, io.BytesIO(data))


def _upload_files(upload_dir: Path) -> list[Path]:
    return sorted(p for p in upload_dir.rglob("*") if p.is_file() and not p.name.startswith("."))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def create_backup(path: Path) -> BackupSummary:
    """Write one .tar.gz archive of the database and uploads (a consistent DB snapshot)."""
    upload_dir = Path(current_app.config["KB_UPLOAD_DIR"])
    manifest: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "tables": {},
        "files": {},
        "created_at": datetime.now().isoformat(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    # The archive holds password hashes and private answers: readable by its owner only,
    # whatever the umask. fchmod also covers a partial file left by a crashed run.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
        with db.engine.connect() as connection, connection.begin():
            for table in _tables():
                rows = connection.execute(sa.select(table).order_by(*table.primary_key.columns))
                lines = [
                    json.dumps({k: _encode(v) for k, v in row._mapping.items()}, ensure_ascii=False)
                    for row in rows
                ]
                data = ("\n".join(lines) + ("\n" if lines else "")).encode()
                _add_bytes(archive, f"db/{table.name}.jsonl", data)
                manifest["tables"][table.name] = {"rows": len(lines), "sha256": _sha256(data)}
        for file in _upload_files(upload_dir):
            relative = file.relative_to(upload_dir).as_posix()
            data = file.read_bytes()
            _add_bytes(archive, f"uploads/{relative}", data)
            manifest["files"][relative] = {"size": len(data), "sha256": _sha256(data)}
        _add_bytes(
            archive, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode()
        )
    partial.replace(path)
    return BackupSummary(
        path, {k: v["rows"] for k, v in manifest["tables"].items()}, len(manifest["files"])
    )


def _read_member(archive: tarfile.TarFile, name: str) -> bytes:
    try:
        member = archive.extractfile(name)
    except KeyError as error:
        raise InvalidInput(f"в архиве нет {name}: это не резервная копия kb") from error
    if member is None:
        raise InvalidInput(f"{name} в архиве — не файл")
    return member.read()


def _check(name: str, data: bytes, expected: str) -> None:
    if _sha256(data) != expected:
        raise InvalidInput(f"контрольная сумма не сходится: {name} (архив повреждён)")


def _reset_sequences(connection: sa.Connection, tables: list[sa.Table]) -> None:
    """PostgreSQL: move each serial column's sequence past the restored ids."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto" and isinstance(column.type, sa.Integer)
            ):
                sequence = connection.execute(
                    sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                    {"t": table.name, "c": column.name},
                ).scalar()
                if sequence:
                    connection.execute(
                        sa.text(
                            f"SELECT setval('{sequence}', "
                            f"COALESCE(MAX({column.name}), 0) + 1, false) FROM {table.name}"
                        )
                    )


def restore_backup(path: Path) -> BackupSummary:
    """Restore an archive into an empty (migrated) database and an empty uploads folder."""
    if not path.is_file():
        raise InvalidInput(f"файл {path} не найден")
    upload_dir = Path(current_app.config["KB_UPLOAD_DIR"])
    tables = _tables()
    with db.engine.connect() as connection:
        for table in tables:
            if connection.execute(sa.select(sa.func.count()).select_from(table)).scalar():
                raise Conflict(
                    f"база данных не пуста (таблица {table.name}): восстановление "
                    "возможно только в пустую базу"
                )
    if _upload_files(upload_dir):
        raise Conflict(f"папка {upload_dir} не пуста: восстановление возможно только в пустую")
    try:
        archive = tarfile.open(path, "r:gz")
    except (tarfile.TarError, OSError) as error:
        raise InvalidInput(f"{path} — не архив резервной копии: {error}") from error
    with archive:
        manifest = json.loads(_read_member(archive, "manifest.json"))
        if manifest.get("format") != FORMAT_VERSION:
            raise InvalidInput("неизвестный формат резервной копии")
        known = {t.name for t in tables}
        unknown = set(manifest["tables"]) - known
        if unknown:
            raise InvalidInput(f"в копии есть неизвестные таблицы: {', '.join(sorted(unknown))}")
        dumps = {}
        for name, info in manifest["tables"].items():
            data = _read_member(archive, f"db/{name}.jsonl")
            _check(name, data, info["sha256"])
            dumps[name] = data
        files = {}
        for relative, info in manifest["files"].items():
            if relative.startswith("/") or ".." in Path(relative).parts:
                raise InvalidInput(f"недопустимое имя файла в копии: {relative}")
            data = _read_member(archive, f"uploads/{relative}")
            _check(relative, data, info["sha256"])
            files[relative] = data

    with db.engine.connect() as connection, connection.begin():
        for table in tables:
            lines = dumps.get(table.name, b"").decode().splitlines()
            rows = [{k: _decode(v) for k, v in json.loads(line).items()} for line in lines]
            if rows:
                connection.execute(table.insert(), rows)
        _reset_sequences(connection, tables)
    for relative, data in files.items():
        target = upload_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_bytes(data)
        partial.replace(target)
    return BackupSummary(path, {k: v["rows"] for k, v in manifest["tables"].items()}, len(files))
