"""user sessions: a session version that ends every session of an account, and the last sign-in

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode (see 0013). The server default gives every account version
# 0, whose mark is the one sessions carry today (nobody is signed out), and stays: servers of
# the release before, during a roll-out, make accounts without naming the column.
def upgrade():
    op.add_column(
        "user", sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("user", sa.Column("last_login_at", sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column("user", "last_login_at")
    op.drop_column("user", "session_version")
