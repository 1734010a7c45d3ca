"""list indexes: the published PAKN in their order, a point's counts from an index

Revision ID: 0035
Revises: 0034

/pakn/published lists the published PAKN newest first, twenty a page. The index on state and
due date found them but not in that order: every page sorted all of them (0.9 s for page 500
of 45,000 on SQLite). An index on state, publishing time and id gives them in the page's order,
so a page reads only the rows up to it.

A survey point's answers page counts the point's answers by channel, flagged and excluded. With
the index on point and time only, that read every answer's row (0.4 s for 100,000 answers);
with channel, flags and id (which the exclusions are found by) in an index, the index alone
answers.
"""

from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_pakn_case_state_published", "pakn_case", ["state", "published_at", "id"]
    )
    op.create_index(
        "ix_response_point_channel_flags", "response", ["point_id", "channel", "flags", "id"]
    )


def downgrade():
    op.drop_index("ix_response_point_channel_flags", table_name="response")
    op.drop_index("ix_pakn_case_state_published", table_name="pakn_case")
