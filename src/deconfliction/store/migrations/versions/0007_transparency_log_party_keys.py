"""transparency log and party keys

``journal_nodes`` (the Merkle tree's stored subtree hashes), ``journal_checkpoints``
(signed tree heads) and ``party_keys`` (parties' Ed25519 public keys for RFC 9421
request signatures). Issue 12.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_nodes",
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_journal_nodes")),
    )
    op.create_table(
        "journal_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_journal_checkpoints")),
    )
    with op.batch_alter_table("journal_checkpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_checkpoints_at"), ["at"], unique=False)
    op.create_table(
        "party_keys",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=20), nullable=False),
        sa.Column("public_key", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_party_keys_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_keys")),
    )
    with op.batch_alter_table("party_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_party_keys_party_id"), ["party_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("party_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_keys_party_id"))
    op.drop_table("party_keys")
    with op.batch_alter_table("journal_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_checkpoints_at"))
    op.drop_table("journal_checkpoints")
    op.drop_table("journal_nodes")
