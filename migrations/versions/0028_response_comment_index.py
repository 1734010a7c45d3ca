"""response comment index: the responses with a comment, newest first, for the comments page

Revision ID: 0028
Revises: 0027

The back office's comments page lists the responses that hold a comment, newest first. About
one response in ten has one: without an index of its own, the page's query would read the
responses of its units in time order and skip the nine in ten without a comment, or sort every
comment in scope. A partial index holds only the responses with a comment, in the order the
page shows them, so a page reads its fifty rows and stops.
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

HAS_COMMENT = sa.text("comment IS NOT NULL AND comment <> ''")


def upgrade():
    op.create_index(
        "ix_response_comment_time",
        "response",
        ["submitted_at", "id"],
        sqlite_where=HAS_COMMENT,
        postgresql_where=HAS_COMMENT,
    )


def downgrade():
    op.drop_index("ix_response_comment_time", table_name="response")
