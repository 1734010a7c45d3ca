"""case ever dissatisfied: a "not satisfied" rating counts even after a reopening

Revision ID: 0011
Revises: 0010

A reopened case may be rated again on its new answer. Decision 766's satisfaction ratio still
counts the case as rated "không hài lòng" once it was, so this flag is set by such a rating and
never cleared. Until now a rating could not be replaced, so the cases rated "no" are exactly
those to flag.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

case = sa.table("pakn_case", sa.column("satisfied", sa.Boolean), sa.column("ever_dissatisfied"))


# Plain ALTER TABLE, not batch mode, as in 0010: rebuilding pakn_case on SQLite would break the
# foreign keys of its persons, photos and events.
def upgrade():
    op.add_column(
        "pakn_case",
        sa.Column("ever_dissatisfied", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(case.update().where(case.c.satisfied.is_(False)).values(ever_dissatisfied=True))


def downgrade():
    op.drop_column("pakn_case", "ever_dissatisfied")
