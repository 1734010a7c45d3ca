"""unit closed on: the day from which a unit no longer exists

Revision ID: 0032
Revises: 0031

Units close: since 1/7/2025 every district and some ten thousand communes (Resolution
202/2025/QH15). A closed unit keeps its row, its code and its history, so the column is only
the day it closed; every unit before this migration exists.
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("unit", sa.Column("closed_on", sa.Date(), nullable=True))


def downgrade():
    op.drop_column("unit", "closed_on")
