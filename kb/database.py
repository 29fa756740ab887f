"""Database: SQLAlchemy 2.x declarative base, engine tuning and Alembic migrations.

SQLite is tuned so concurrent requests wait instead of failing: WAL journal (readers never
block), foreign keys on, and write transactions that start with ``BEGIN IMMEDIATE`` (a
deferred transaction that reads and then writes can fail at once with "database is locked"
when another writer committed meanwhile). Waiting for the write lock happens in Python with
``time.sleep`` rather than in SQLite's busy handler: under gevent, ``time.sleep`` yields to
the greenlet that holds the lock, while SQLite's own sleep would block the whole worker
until it times out. PostgreSQL uses the same code unchanged.
"""

import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, g, has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import orm as so

SQLITE_LOCK_WAIT_SECONDS = 30.0
SQLITE_BUSY_TIMEOUT_MS = 50  # only a safety net: write locks are awaited in _begin_immediate
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(so.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


# Ids, revision numbers and seqs are 32-bit integers in the database: a larger number
# names nothing (checked before a query, so it never overflows the driver).
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    """Naive UTC timestamp: stored the same way on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


def mark_write_transaction() -> None:
    """Ask for ``BEGIN IMMEDIATE`` on SQLite in this context (Socket.IO handlers, CLI)."""
    g.db_write = True


def _wants_write_lock() -> bool:
    """Writes are expected from unsafe HTTP methods, marked contexts and CLI/background work."""
    try:
        if "db_write" in g:
            return bool(g.db_write)
    except RuntimeError:  # outside an application context
        return True
    if has_request_context():
        return request.method not in SAFE_METHODS
    return True


def _begin_immediate(connection) -> None:
    deadline = time.monotonic() + SQLITE_LOCK_WAIT_SECONDS
    delay = 0.001
    while True:
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except sa.exc.OperationalError as error:
            if "locked" not in str(error.orig) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _tune_sqlite(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: a save that was acknowledged survives a power loss (NORMAL in WAL mode may
        # lose the last transactions); a teacher's save is rare and one fsync is cheap.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection):
        if _wants_write_lock():
            _begin_immediate(connection)
        else:
            connection.exec_driver_sql("BEGIN")


def init_database(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    if uri.startswith("sqlite"):
        options.setdefault(
            "connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
    else:
        options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    if uri.startswith("sqlite"):
        with app.app_context():
            _tune_sqlite(db.engine)


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


def upgrade_database() -> None:
    """Bring the schema to the newest migration (idempotent). Needs an app context."""
    command.upgrade(alembic_config(), "head")


def schema_is_current() -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return set(current) == set(script.get_heads())
