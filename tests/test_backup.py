"""`kb backup` / `kb restore`: a backup taken on SQLite restores on PostgreSQL, nothing lost."""

import json
import os
import subprocess
import tarfile
import uuid

import sqlalchemy as sa

from kb import create_app
from kb.backup import _encode, _tables, create_backup
from kb.database import db
from tests.conftest import kb_command


def run_kb(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*kb_command(), *args], env=env, capture_output=True, text=True, timeout=180
    )


def dump_everything(config: dict) -> dict:
    app = create_app({**config, "KB_ASYNC_MODE": "threading"})
    with app.app_context():
        result = {}
        with db.engine.connect() as connection:
            for table in _tables():
                rows = connection.execute(sa.select(table).order_by(*table.primary_key.columns))
                result[table.name] = [
                    json.dumps({k: _encode(v) for k, v in row._mapping.items()}, sort_keys=True)
                    for row in rows
                ]
        db.engine.dispose()
    return result


def test_backup_from_sqlite_restores_on_postgresql(tmp_path, postgres_cluster):
    source_dir = tmp_path / "source"
    env = {**os.environ, "KB_DATA_DIR": str(source_dir)}
    env.pop("KB_DATABASE_URL", None)
    assert run_kb(env, "init").returncode == 0
    assert run_kb(env, "demo").returncode == 0
    upload = source_dir / "uploads" / "ab" / "cd" / ("abcd" + "0" * 60)
    upload.parent.mkdir(parents=True)
    upload.write_bytes("материалы мастер-класса".encode())

    archive = tmp_path / "backup.tar.gz"
    result = run_kb(env, "backup", str(archive))
    assert result.returncode == 0, result.stderr
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["tables"]["users"]["rows"] >= 5
    assert len(manifest["files"]) == 1

    database = f"kb_{uuid.uuid4().hex[:12]}"
    postgres_cluster.execute(f"CREATE DATABASE {database}")
    target_env = {
        **os.environ,
        "KB_DATA_DIR": str(tmp_path / "target"),
        "KB_DATABASE_URL": postgres_cluster.url(database),
    }
    result = run_kb(target_env, "restore", str(archive))
    assert result.returncode == 0, result.stderr

    source = dump_everything({"KB_DATA_DIR": source_dir})
    target = dump_everything(
        {
            "KB_DATA_DIR": tmp_path / "target",
            "SQLALCHEMY_DATABASE_URI": postgres_cluster.url(database),
        }
    )
    assert source == target
    restored = tmp_path / "target" / "uploads" / upload.relative_to(source_dir / "uploads")
    assert restored.read_bytes() == upload.read_bytes()

    # New rows get fresh ids after a restore (sequences were moved past the restored ids).
    result = run_kb(
        target_env, "user", "add", "after@example.org", "--name", "После", "--role", "reader"
    )
    assert result.returncode == 0, result.stderr

    # Restoring again into the now non-empty database is refused and changes nothing.
    result = run_kb(target_env, "restore", str(archive))
    assert result.returncode == 2
    assert "не пуста" in result.stderr


def test_restore_rejects_a_damaged_or_foreign_file(tmp_path):
    env = {**os.environ, "KB_DATA_DIR": str(tmp_path / "d")}
    env.pop("KB_DATABASE_URL", None)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    result = run_kb(env, "restore", str(junk))
    assert result.returncode == 2 and "не архив" in result.stderr
    result = run_kb(env, "restore", str(tmp_path / "missing.tar.gz"))
    assert result.returncode == 2 and "не найден" in result.stderr


def test_backup_archive_is_readable_by_its_owner_only(tmp_path, app, users):
    # The archive holds password hashes and private answers: never 0644 under a usual umask,
    # also when it replaces an older archive or a partial file left by a crashed run.
    archive = tmp_path / "backups" / "kb.tar.gz"
    archive.parent.mkdir()
    archive.write_bytes(b"old archive")
    archive.chmod(0o644)
    stale = archive.with_name(archive.name + ".partial")
    stale.write_bytes(b"left by a crashed run")
    stale.chmod(0o644)
    old_umask = os.umask(0o022)
    try:
        with app.app_context():
            create_backup(archive)
    finally:
        os.umask(old_umask)
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        assert json.load(tar.extractfile("manifest.json"))["tables"]["users"]["rows"] == 4
