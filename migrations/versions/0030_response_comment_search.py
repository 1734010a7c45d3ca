"""response comment search: on SQLite, the folded comments in an index of their own, for the search

Revision ID: 0030
Revises: 0029

The comments page's search is a LIKE on the comments stored folded (0029). SQLite's planner
reads it through 0028's index, in the page's order, and fetches each comment's row for its
folded text: a search that finds nothing read every row with a comment, about half a second
for 100,000 comments. This partial index holds, for each response with a folded comment, what
the search and the filters it is combined with ask of the row (time, unit, household register,
the folded text), in the page's order: the page's responses are chosen in it alone, and
only the fifty found are read from the table (survey/comments.py).

PostgreSQL has no use for it: 0029's trigram index serves its search, and a B-tree entry there
is limited to about 2,700 bytes, which a 1,000-character comment folded may exceed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

SEARCH_INDEX = "ix_response_comment_search"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.create_index(
            SEARCH_INDEX,
            "response",
            ["submitted_at", "id", "unit_id", "hk", "comment_folded"],
            sqlite_where=sa.text("comment_folded IS NOT NULL"),
        )


def downgrade():
    op.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")
