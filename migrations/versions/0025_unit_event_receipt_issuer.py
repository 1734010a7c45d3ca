"""unit event and receipt issuer: what each import did to the unit tree, and who issued each
receipt code

Revision ID: 0025
Revises: 0024

Adds the `unit_event` table (a line per unit an import added or changed: the values it changed
from and to, who imported, the file's name and SHA-256) and, on `receipt_code`, who issued each
code (`issued_by_id`, an account; `issued_by_key_id`, an API key; neither for the command line),
the batch it was issued in and an index on its time, by which the back office lists the latest
issues. It fills none of them: units made before have no history, and codes issued before no
issuer and no batch (the back office lists no issue of theirs). Old servers keep working after
it (they name none of the new columns), but until they are rolled the units they import have no
history line and the codes they issue neither issuer nor batch: the back office does not list
those issues. The index is built in the upgrade's transaction: on PostgreSQL a large
`receipt_code` table takes its writes (answers by receipt code, new codes) only once it is built.
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

# The new columns of receipt_code: name, type, the table a foreign key names (or None).
RECEIPT_COLUMNS = (
    ("issued_by_id", "INTEGER", "user"),
    ("issued_by_key_id", "INTEGER", "api_key"),
    ("batch", "VARCHAR(32)", None),
)


# receipt_code's columns by plain ALTER TABLE, not batch mode, as in 0014 and 0023: SQLite adds
# no constraint to a table, but takes one inline on the new column (and drops such a column
# again).
def upgrade():
    op.create_table(
        "unit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=800), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"], name="fk_unit_event_actor_id_user"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name="fk_unit_event_unit_id_unit"),
        sa.PrimaryKeyConstraint("id", name="pk_unit_event"),
    )
    op.create_index("ix_unit_event_unit_id", "unit_event", ["unit_id"], unique=False)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, kind, target in RECEIPT_COLUMNS:
        if sqlite:
            constraint = (
                f' CONSTRAINT fk_receipt_code_{name}_{target} REFERENCES "{target}" (id)'
                if target
                else ""
            )
            op.execute(f"ALTER TABLE receipt_code ADD COLUMN {name} {kind}{constraint}")
            continue
        key = [sa.ForeignKey(f"{target}.id", name=f"fk_receipt_code_{name}_{target}")]
        column_type = sa.Integer() if kind == "INTEGER" else sa.String(length=32)
        op.add_column(
            "receipt_code",
            sa.Column(name, column_type, *(key if target else []), nullable=True),
        )
    op.create_index("ix_receipt_code_created_at", "receipt_code", ["created_at"], unique=False)


def downgrade():
    op.drop_index("ix_receipt_code_created_at", table_name="receipt_code")
    for name, _kind, _target in reversed(RECEIPT_COLUMNS):
        op.drop_column("receipt_code", name)
    op.drop_index("ix_unit_event_unit_id", table_name="unit_event")
    op.drop_table("unit_event")
