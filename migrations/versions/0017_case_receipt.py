"""case receipt: a PAKN may name its dossier by the receipt code printed on it

Revision ID: 0017
Revises: 0016

Null for every case received before: none named a dossier.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode, as in 0010 and 0014: rebuilding pakn_case on SQLite would
# break the foreign keys of its persons, photos and events. SQLite takes the constraint only
# inline on the new column, so it is spelled there.
def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE pakn_case ADD COLUMN receipt_id INTEGER "
            "CONSTRAINT fk_pakn_case_receipt_id_receipt_code REFERENCES receipt_code (id)"
        )
    else:
        op.add_column(
            "pakn_case",
            sa.Column(
                "receipt_id",
                sa.Integer(),
                sa.ForeignKey("receipt_code.id", name=op.f("fk_pakn_case_receipt_id_receipt_code")),
                nullable=True,
            ),
        )
    op.create_index(op.f("ix_pakn_case_receipt_id"), "pakn_case", ["receipt_id"])


def downgrade():
    op.drop_index(op.f("ix_pakn_case_receipt_id"), table_name="pakn_case")
    op.drop_column("pakn_case", "receipt_id")
