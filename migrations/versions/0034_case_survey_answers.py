"""case survey answers: the household-register "yes" answers one case of a counter's day counts

Revision ID: 0034
Revises: 0033

A household-register "yes" opens a PAKN case. Those that the survey's integrity checks flag, or
that come after a counter's first cases of the day, now join one case for the counter and the
day instead, which counts them here (feedback/household.py). Every case before this migration
stands for one answer at most: none is such a case. The index finds a counter's cases of a day.
"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode, as in 0011: rebuilding pakn_case on SQLite would break the
# foreign keys of its persons, photos and events.
def upgrade():
    op.add_column("pakn_case", sa.Column("survey_answers", sa.Integer(), nullable=True))
    op.create_index("ix_pakn_case_point_received_on", "pakn_case", ["point_id", "received_on"])


def downgrade():
    op.drop_index("ix_pakn_case_point_received_on", table_name="pakn_case")
    op.drop_column("pakn_case", "survey_answers")
