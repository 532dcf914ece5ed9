"""volume_cells answers a search from its primary key alone

On SQLite the table is rebuilt ``WITHOUT ROWID``, so its rows live in the primary
key's b-tree and a candidate search reads no second structure; on PostgreSQL the
primary key index includes the filtered columns, for index-only scans.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_KEY = "cell, span_class, start_at, volume_id"
_INCLUDED = "end_at, lower_m, upper_m, party_id"


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)


def _rebuild(*, with_rowid: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "volume_cells", recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
        ):
            pass
        return
    op.drop_constraint("pk_volume_cells", "volume_cells", type_="primary")
    include = "" if with_rowid else f" INCLUDE ({_INCLUDED})"
    op.execute(
        f"ALTER TABLE volume_cells ADD CONSTRAINT pk_volume_cells PRIMARY KEY ({_KEY}){include}"
    )
