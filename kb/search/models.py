"""The ordered change log the search index follows (the database is the truth)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from kb.database import db, utcnow


class SearchChange(db.Model):
    """One committed change that affects search: ``entity`` is 'page' or 'attachment'.

    Written in the same transaction as the change itself (see ``kb.search.changes``).
    """

    __tablename__ = "search_changes"

    id: so.Mapped[int] = so.mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    entity: so.Mapped[str] = so.mapped_column(sa.String(20))
    entity_id: so.Mapped[int]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
