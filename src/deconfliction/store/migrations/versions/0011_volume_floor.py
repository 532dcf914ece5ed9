"""A standing zone's floor

``volumes.floor_m``: the ground elevation under a standing zone's volume (metres, in
the feeds' altitude reference), where its authority gives one; null elsewhere. The
tracks service predicts no aircraft below it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: SQLite (3.35+) adds and drops the column in place,
# where batch mode would copy ``volumes``, which the rows of ``volume_cells`` refer to
# (on delete cascade).


def upgrade() -> None:
    op.add_column("volumes", sa.Column("floor_m", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("volumes", "floor_m")
