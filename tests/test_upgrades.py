"""Upgrades keep data: a database at every earlier migration, with a row in every table, is
upgraded to the newest schema and still holds every row and every value of the columns that
survive.

The rows are made from the reflected schema of that revision (a value of each column's type,
foreign keys pointing at the parent rows made before), so every migration added from now on
joins the test without writing anything here. A migration that drops a table or a column on
purpose names it in DROPPED with the reason.
"""

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from kb import create_app
from kb.database import alembic_config, schema_is_current
from kb.extensions import db

# (table, column or None for the whole table): why the migration drops it
DROPPED: dict[tuple[str, str | None], str] = {}

MOMENT = datetime(2025, 9, 1, 8, 30, 0)


def _earlier_revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    heads = set(script.get_heads())
    chain = [r.revision for r in script.walk_revisions()]  # newest first
    return [revision for revision in reversed(chain) if revision not in heads]


def _value(column: sa.Column, table: str, index: int):
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.DateTime):
        return MOMENT
    if isinstance(kind, sa.Date):
        return MOMENT.date()
    if isinstance(kind, sa.Integer):  # BigInteger and SmallInteger too
        return 7 + index
    if isinstance(kind, sa.Float | sa.Numeric):
        return 1.5
    if isinstance(kind, sa.LargeBinary):
        return b"\x00kb"
    if isinstance(kind, sa.JSON):
        return {"kept": "да"}
    if isinstance(kind, sa.String | sa.Text):
        text = f"{table[:6]}-{column.name}-ёлка"
        length = getattr(kind, "length", None)
        return text[:length] if length else text + " — текст, который должен сохраниться"
    raise AssertionError(f"no sample value for {table}.{column.name}: {kind!r}")


def _fill(connection: sa.Connection) -> dict[str, dict]:
    """One row in every table (parents first); returns the rows as inserted."""
    metadata = sa.MetaData()
    metadata.reflect(bind=connection)
    made: dict[str, dict] = {}
    ids: dict[str, int] = {}
    for index, table in enumerate(metadata.sorted_tables):
        if table.name == "alembic_version":
            continue
        row = {}
        for column in table.columns:
            foreign = next(iter(column.foreign_keys), None)
            if foreign is not None:
                parent = foreign.column.table.name
                if parent == table.name or parent not in ids:
                    assert column.nullable, f"{table.name}.{column.name}: no parent row"
                    row[column.name] = None
                else:
                    row[column.name] = ids[parent]
            elif column.primary_key and isinstance(column.type, sa.Integer):
                continue  # the database numbers it
            else:
                row[column.name] = _value(column, table.name, index)
        result = connection.execute(table.insert().values(**row))
        key = result.inserted_primary_key
        if key and len(table.primary_key.columns) == 1 and key[0] is not None:
            ids[table.name] = key[0]
            row[next(iter(table.primary_key.columns)).name] = key[0]
        made[table.name] = row
    return made


@pytest.mark.parametrize("revision", _earlier_revisions())
def test_upgrade_from_every_earlier_revision_keeps_the_data(tmp_path, empty_database_url, revision):
    config = {"TESTING": True, "KB_DATA_DIR": tmp_path / "data", "KB_ASYNC_MODE": "threading"}
    if empty_database_url:
        config["SQLALCHEMY_DATABASE_URI"] = empty_database_url
    app = create_app(config)
    try:
        with app.app_context():
            command.upgrade(alembic_config(), revision)
            with db.engine.begin() as connection:
                before = _fill(connection)
            assert not schema_is_current()
            command.upgrade(alembic_config(), "head")
            assert schema_is_current()
            metadata = sa.MetaData()
            with db.engine.connect() as connection:
                metadata.reflect(bind=connection)
                for name, row in before.items():
                    if (name, None) in DROPPED:
                        continue
                    assert name in metadata.tables, f"table {name} lost in the upgrade"
                    table = metadata.tables[name]
                    kept = {c: v for c, v in row.items() if (name, c) not in DROPPED}
                    missing = [c for c in kept if c not in table.columns]
                    assert not missing, f"columns of {name} lost in the upgrade: {missing}"
                    rows = connection.execute(sa.select(table)).mappings().all()
                    assert len(rows) == 1, f"{name}: {len(rows)} rows after the upgrade"
                    after = {c: rows[0][c] for c in kept}
                    assert after == kept, name
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()


def test_every_revision_but_the_newest_is_tested():
    revisions = _earlier_revisions()
    assert "0001" in revisions and len(revisions) >= 2
