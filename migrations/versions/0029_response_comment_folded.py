"""response comment folded: each comment stored folded, for the comments page's search

Revision ID: 0029
Revises: 0028

The comments page finds words without regard to case or accents ("duong" finds "Đường"). It
folded every comment inside the query (a Python function per row on SQLite, normalize() and
regexp_replace() on PostgreSQL), so a search that matched nothing read and folded them all:
over half a second for 100,000 comments. The comment is now stored folded beside it, and the
search is a plain LIKE on that column. The responses from before are filled here in batches,
with the fold copied below as it is today, so that this migration does what it did whatever
the code becomes.

A server of the release before, during a rolling upgrade, stores comments without it: a
partial index holds those (none once every server is new), so that the search sees at once
whether it must fold some in its query.

On PostgreSQL, where the pg_trgm extension is available (or already created), a trigram index
on the folded comments lets a search read the index instead of every comment. The extension is
created in a savepoint: where this database's role may not create it, the migration goes on
without the index (the search is then a scan of the column, as on SQLite).
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

BATCH = 10_000
TRIGRAM_INDEX = "ix_response_comment_folded_trgm"
UNFOLDED = sa.text("comment IS NOT NULL AND comment <> '' AND comment_folded IS NULL")
_NO_MARKS = dict.fromkeys(range(0x300, 0x370))
response = sa.table(
    "response",
    sa.column("id", sa.Integer),
    sa.column("comment", sa.Text),
    sa.column("comment_folded", sa.Text),
)


def fold(text: str) -> str:
    """core.folding.fold() as it is at this revision. It must fold as that does: the page folds
    the words searched with it (tests/core/test_migration_comment_folded.py checks that the two agree)."""
    return unicodedata.normalize("NFD", text.lower()).translate(_NO_MARKS).replace("đ", "d")


def upgrade():
    op.add_column("response", sa.Column("comment_folded", sa.Text(), nullable=True))
    conn = op.get_bind()
    fill = (
        response.update()
        .where(response.c.id == sa.bindparam("row_id"))
        .values(comment_folded=sa.bindparam("folded"))
    )
    batch = (
        sa.select(response.c.id, response.c.comment)
        .where(response.c.comment.is_not(None), response.c.comment != "")
        .order_by(response.c.id)
        .limit(BATCH)
    )
    rows = conn.execute(batch).all()
    while rows:
        conn.execute(fill, [{"row_id": id_, "folded": fold(comment)} for id_, comment in rows])
        rows = conn.execute(batch.where(response.c.id > rows[-1].id)).all()
    # Made once they are all filled, so it starts empty (see survey/models.py).
    op.create_index(
        "ix_response_comment_unfolded",
        "response",
        ["id"],
        sqlite_where=UNFOLDED,
        postgresql_where=UNFOLDED,
    )
    if conn.dialect.name == "postgresql" and _trigrams(conn):
        op.execute(
            f"CREATE INDEX {TRIGRAM_INDEX} ON response USING gin (comment_folded gin_trgm_ops) "
            "WHERE comment_folded IS NOT NULL"
        )


def _trigrams(conn) -> bool:
    """Whether pg_trgm is created in this database, creating it if it is available and this
    role may: a refusal is rolled back to a savepoint and leaves the migration's transaction
    usable."""
    available = "SELECT installed_version IS NOT NULL FROM pg_available_extensions WHERE name = :n"
    installed = conn.execute(sa.text(available), {"n": "pg_trgm"}).scalar()
    if installed is None:  # not available on this server
        return False
    if not installed:
        try:
            with conn.begin_nested():
                conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        except sa.exc.DBAPIError:
            return False
    return True


def downgrade():
    # The extension stays: it may have been there before, and other databases' users may use it.
    op.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
    op.drop_index("ix_response_comment_unfolded", table_name="response")
    op.drop_column("response", "comment_folded")
