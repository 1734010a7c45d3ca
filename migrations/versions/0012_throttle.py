"""throttle: PAKN's rate-limit counters become core's, for sign-in too

Revision ID: 0012
Revises: 0011

A new table under the new names (on SQLite a renamed table keeps its old constraint name), the
counts copied across, so that no window starts again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    _move("pakn_throttle", "throttle")


def downgrade():
    _move("throttle", "pakn_throttle")


def _move(old: str, new: str) -> None:
    op.create_table(
        new,
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=f"pk_{new}"),
    )
    op.create_index(f"ix_{new}_expires_at", new, ["expires_at"], unique=False)
    names = ("key", "hits", "expires_at")
    source = sa.table(old, *(sa.column(name) for name in names))
    target = sa.table(new, *(sa.column(name) for name in names))
    op.execute(target.insert().from_select(names, source.select()))
    op.drop_index(f"ix_{old}_expires_at", table_name=old)
    op.drop_table(old)
