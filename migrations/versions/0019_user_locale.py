"""user locale: the language a staff member chose, for their pages and their morning digest

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode (see 0013): rebuilding user on SQLite would break the
# foreign keys of every table that records who acted. Accounts made before chose nothing.
def upgrade():
    op.add_column("user", sa.Column("locale", sa.String(length=5), nullable=True))


def downgrade():
    op.drop_column("user", "locale")
