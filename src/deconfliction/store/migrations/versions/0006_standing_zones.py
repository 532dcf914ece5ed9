"""standing zones

``notices.standing``: true for an authority's standing zones (airspace structure filed
by ``deconfliction zones import``), false for planned activity. Notices imported as
zones before this revision read as activity until imported again with a new horizon.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: SQLite (3.35+) adds and drops the column in place,
# where batch mode would copy ``notices``, which the rows of ``volumes`` refer to.


def upgrade() -> None:
    op.add_column(
        "notices", sa.Column("standing", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("notices", "standing")
