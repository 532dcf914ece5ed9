"""notice lifecycle and escalation

Notices get their window (``starts_at``, ``ends_at``, filled from their volumes) and
``activation_blocked_at``, indexed by state for the lifecycle scheduler; alerts and
messages are indexed by (escalation state, deadline) for the escalation scheduler.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("starts_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("ends_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("activation_blocked_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE notices SET "
        "starts_at = COALESCE("
        "(SELECT MIN(volumes.start_at) FROM volumes WHERE volumes.notice_id = notices.id), "
        "filed_at), "
        "ends_at = COALESCE("
        "(SELECT MAX(volumes.end_at) FROM volumes WHERE volumes.notice_id = notices.id), "
        "filed_at)"
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.alter_column("starts_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column("ends_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index("ix_notices_state_starts", ["state", "starts_at"], unique=False)
        batch_op.create_index("ix_notices_state_ends", ["state", "ends_at"], unique=False)

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_ack_deadline")
        batch_op.create_index(
            "ix_alerts_escalation_due", ["escalation_state", "ack_deadline"], unique=False
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_ack_deadline")
        batch_op.create_index(
            "ix_messages_escalation_due", ["escalation_state", "ack_deadline"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_escalation_due")
        batch_op.create_index("ix_messages_ack_deadline", ["ack_deadline"], unique=False)

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_escalation_due")
        batch_op.create_index("ix_alerts_ack_deadline", ["ack_deadline"], unique=False)

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_state_ends")
        batch_op.drop_index("ix_notices_state_starts")
        batch_op.drop_column("activation_blocked_at")
        batch_op.drop_column("ends_at")
        batch_op.drop_column("starts_at")
