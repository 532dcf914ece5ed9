"""F3548 DSS records: entities, subscriptions, USS availability

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "f3548_entities",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("notice_id", sa.String(40), sa.ForeignKey("notices.id"), nullable=False),
        sa.Column("party_id", sa.Integer, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("manager", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("ovn", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("uss_base_url", sa.Text, nullable=False),
        sa.Column("subscription_id", sa.String(36), nullable=True),
        sa.Column("time_start", sa.DateTime(), nullable=False),
        sa.Column("time_end", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("notice_id"),
    )
    op.create_index("ix_f3548_entities_party_id", "f3548_entities", ["party_id"])
    op.create_index("ix_f3548_entities_subscription_id", "f3548_entities", ["subscription_id"])
    op.create_table(
        "f3548_subscriptions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("party_id", sa.Integer, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("manager", sa.String(100), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("notification_index", sa.Integer, nullable=False),
        sa.Column("uss_base_url", sa.Text, nullable=False),
        sa.Column("notify_for_operational_intents", sa.Boolean, nullable=False),
        sa.Column("notify_for_constraints", sa.Boolean, nullable=False),
        sa.Column("implicit", sa.Boolean, nullable=False),
        sa.Column("shape_wkb", sa.LargeBinary, nullable=False),
        sa.Column("min_lon", sa.Float, nullable=False),
        sa.Column("min_lat", sa.Float, nullable=False),
        sa.Column("max_lon", sa.Float, nullable=False),
        sa.Column("max_lat", sa.Float, nullable=False),
        sa.Column("lower_m", sa.Float, nullable=False),
        sa.Column("upper_m", sa.Float, nullable=False),
        sa.Column("time_start", sa.DateTime(), nullable=False),
        sa.Column("time_end", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_f3548_subscriptions_party_id", "f3548_subscriptions", ["party_id"])
    op.create_index("ix_f3548_subscriptions_time_end", "f3548_subscriptions", ["time_end"])
    op.create_table(
        "f3548_availability",
        sa.Column("uss", sa.String(100), primary_key=True),
        sa.Column("availability", sa.String(10), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("f3548_availability")
    op.drop_table("f3548_subscriptions")
    op.drop_table("f3548_entities")
