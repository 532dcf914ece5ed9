"""party limits and token expiry

``party_limits``: the limits set for one party (rate, quotas, notice window; see
``deconfliction.limits``), the settings' defaults standing for the others.
``tokens.expires_at``: a token issued with an expiry is refused after it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "party_limits",
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_party_limits_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("party_id", "name", name=op.f("pk_party_limits")),
    )
    # plain ALTER TABLE (SQLite 3.35+ adds and drops in place; batch mode would copy it)
    op.add_column("tokens", sa.Column("expires_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("tokens", "expires_at")
    op.drop_table("party_limits")
