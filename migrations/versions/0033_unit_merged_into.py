"""unit merged into: the unit a closed unit's work went to

Revision ID: 0033
Revises: 0032

Since 1/7/2025 some ten thousand communes merged into 3,321 new ones (Resolution
202/2025/QH15). A closed unit may name the unit it merged into, so that figures can be given
for today's units with their former communes' answers. Every unit before this migration names
none: a units file with the merged_into column says which.
"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


# By plain ALTER TABLE, not batch mode, as in 0014 and 0027: rebuilding unit on SQLite would
# break the foreign keys of every table that names a unit. SQLite adds no constraint to a
# table, but takes one inline on the new column (and drops such a column again).
def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE unit ADD COLUMN merged_into_id INTEGER "
            "CONSTRAINT fk_unit_merged_into_id_unit REFERENCES unit (id)"
        )
        return
    op.add_column(
        "unit",
        sa.Column(
            "merged_into_id",
            sa.Integer(),
            sa.ForeignKey("unit.id", name="fk_unit_merged_into_id_unit"),
            nullable=True,
        ),
    )


def downgrade():
    op.drop_column("unit", "merged_into_id")
