"""when participants see a poll's results: after answering, when revealed, or always

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Polls that exist already showed their results to everybody: they keep doing so.
    # Plain ALTER TABLE … ADD COLUMN, never a batch copy of the table: on SQLite a batch
    # copy drops the old table, and with foreign keys on that deletes every poll's options
    # and votes (ON DELETE CASCADE) — tests/test_upgrades.py caught exactly that.
    op.add_column(
        'board_polls',
        sa.Column('results', sa.String(length=12), server_default='always', nullable=False),
    )
    op.add_column(
        'board_polls',
        sa.Column('revealed', sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy (see upgrade)
    op.drop_column('board_polls', 'revealed')
    op.drop_column('board_polls', 'results')
