"""Alembic environment: runs against the engine of the current Flask app."""

from alembic import context
from flask import current_app

from kb.database import db
from kb.models import import_all_models

import_all_models()
target_metadata = db.metadata


def run_migrations() -> None:
    engine = db.engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=engine.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `kb init`")
with current_app.app_context():
    run_migrations()
