"""events agreements hotline receipts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=20), nullable=False),
        sa.Column("public_key", sa.String(length=128), nullable=False),
        sa.Column("private_key", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_keys")),
    )
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_a_id", sa.Integer(), nullable=False),
        sa.Column("party_b_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_a_id"], ["parties.id"], name=op.f("fk_agreements_party_a_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["party_b_id"], ["parties.id"], name=op.f("fk_agreements_party_b_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
        sa.UniqueConstraint("party_a_id", "party_b_id", name=op.f("uq_agreements_party_a_id")),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreements_party_b_id"), ["party_b_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_events_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("party_id", "seq", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_item_id"), ["item_id"], unique=False)

    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("thread_id", sa.String(length=40), nullable=False),
        sa.Column("in_reply_to", sa.String(length=40), nullable=True),
        sa.Column("sender_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("ref_kind", sa.String(length=20), nullable=True),
        sa.Column("ref_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("ack_deadline", sa.DateTime(), nullable=True),
        sa.Column("escalation_tier", sa.Integer(), server_default="0", nullable=False),
        sa.Column("escalation_state", sa.String(length=20), server_default="none", nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["parties.id"], name=op.f("fk_messages_recipient_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["parties.id"], name=op.f("fk_messages_sender_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_messages_ack_deadline"), ["ack_deadline"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_messages_recipient_id"), ["recipient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_messages_sender_id"), ["sender_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_thread_id"), ["thread_id"], unique=False)

    op.create_table(
        "receipts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("item_kind", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("item_hash", sa.String(length=64), nullable=False),
        sa.Column("journal_seq", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_receipts_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("party_id", "item_id", "event", name=op.f("uq_receipts_party_id")),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipts_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_receipts_party_id"), ["party_id"], unique=False)

    op.create_table(
        "notice_approvals",
        sa.Column("notice_id", sa.String(length=40), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_notice_approvals_notice_id_notices")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_notice_approvals_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("notice_id", "party_id", "kind", name=op.f("pk_notice_approvals")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ack_deadline", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("escalation_tier", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "escalation_state", sa.String(length=20), server_default="none", nullable=False
            )
        )
        batch_op.create_index("ix_alerts_ack_deadline", ["ack_deadline"], unique=False)

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("short_notice", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("event_seq", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_column("event_seq")

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_column("short_notice")

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_ack_deadline")
        batch_op.drop_column("escalation_state")
        batch_op.drop_column("escalation_tier")
        batch_op.drop_column("ack_deadline")

    op.drop_table("notice_approvals")
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipts_party_id"))
        batch_op.drop_index(batch_op.f("ix_receipts_item_id"))

    op.drop_table("receipts")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_thread_id"))
        batch_op.drop_index(batch_op.f("ix_messages_sender_id"))
        batch_op.drop_index(batch_op.f("ix_messages_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_messages_ack_deadline"))

    op.drop_table("messages")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_item_id"))

    op.drop_table("events")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreements_party_b_id"))

    op.drop_table("agreements")
    op.drop_table("service_keys")
