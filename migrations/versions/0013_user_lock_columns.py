"""user lock columns: sign-in failures are counted in the throttle table, not on the account

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: rebuilding user on SQLite would break the foreign keys of
# every table that records who acted (SQLite drops a column in place since 3.35).
def upgrade():
    op.drop_column("user", "locked_until")
    op.drop_column("user", "failed_logins")


def downgrade():
    op.add_column(
        "user", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("user", sa.Column("locked_until", sa.DateTime(), nullable=True))
