"""response version: a counter of the changes to the responses that a count cannot see

Revision ID: 0008
Revises: 0007

Analysis keeps copies of the responses (sealed blocks in the database, each server's frame in
memory) and checked them against the highest id and a count of the responses, which sees
appends and a response committed below the highest id, but not an edit, nor a deletion beside
an insert. Triggers now count those, however they are made (a hand UPDATE or DELETE in psql or
sqlite3 included), and any UPDATE of the blocks' own rows; the copies carry the count they were
made at (analysis/blocks.py). A future migration that rebuilds the response table on SQLite
(batch mode) must create the triggers again: tests/analysis/test_blocks.py edits responses by
hand.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# What the figures read of a response: changing any of these makes the copies stale.
FIGURE_COLUMNS = ", ".join(
    ["id", "unit_id", "submitted_at", "channel", "questionnaire_id", "hk"]
    + [f"{e}{i}" for e, n in zip("abcde", (4, 4, 5, 3, 3), strict=True) for i in range(1, n + 1)]
)
BUMP = (
    "INSERT INTO response_version (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = response_version.version + 1"
)
# (name, table, event). A response committed below the highest id is not counted: on
# PostgreSQL it happens without any hand (ids are taken before their transaction commits), and
# on SQLite a trigger on every INSERT made an import 60 % slower. The readers count those.
TRIGGERS = (
    ("response_deleted", "response", "AFTER DELETE"),
    ("response_updated", "response", f"AFTER UPDATE OF {FIGURE_COLUMNS}"),
    # A block altered by hand. (One deleted by hand leaves fewer responses held than the
    # count, and the app deletes them all when any is wrong: no reason to count that.)
    ("response_block_updated", "response_block", "AFTER UPDATE"),
)
POSTGRESQL_TRIGGERS = (("response_truncated", "response", "AFTER TRUNCATE"),)  # not in SQLite


def _triggers(sqlite: bool) -> tuple:
    return TRIGGERS if sqlite else TRIGGERS + POSTGRESQL_TRIGGERS


def upgrade():
    op.create_table(
        "response_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_version")),
    )
    # Blocks sealed before the triggers existed may hold edits nobody counted: seal them again.
    op.execute("DELETE FROM response_block")
    with op.batch_alter_table("response_block") as batch_op:
        batch_op.add_column(
            sa.Column("data_version", sa.Integer(), nullable=False, server_default="0")
        )
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite runs a trigger per row, PostgreSQL these once per statement.
    body = f"BEGIN {BUMP}; END"
    if not sqlite:
        op.execute(
            "CREATE FUNCTION response_changed() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        body = "FOR EACH STATEMENT EXECUTE FUNCTION response_changed()"
    for name, table, event in _triggers(sqlite):
        op.execute(f"CREATE TRIGGER {name} {event} ON {table} {body}")


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, table, _ in _triggers(sqlite):
        op.execute(f"DROP TRIGGER {name}" + ("" if sqlite else f" ON {table}"))
    if not sqlite:
        op.execute("DROP FUNCTION response_changed()")
    op.execute("DELETE FROM response_block")
    with op.batch_alter_table("response_block") as batch_op:
        batch_op.drop_column("data_version")
    op.drop_table("response_version")
