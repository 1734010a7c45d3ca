"""api key unit: a key may be limited to one unit and the units under it

Revision ID: 0014
Revises: 0013

Null is every unit, as every key was until now: existing keys keep working unchanged.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: rebuilding api_key on SQLite would break the foreign key of
# the PAKN cases a key handed over. SQLite adds no constraint to a table, but takes one inline on
# the new column (and drops such a column again); Alembic would emit it apart, so it is spelled.
def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE api_key ADD COLUMN unit_id INTEGER "
            "CONSTRAINT fk_api_key_unit_id_unit REFERENCES unit (id)"
        )
        return
    op.add_column(
        "api_key",
        sa.Column(
            "unit_id",
            sa.Integer(),
            sa.ForeignKey("unit.id", name=op.f("fk_api_key_unit_id_unit")),
            nullable=True,
        ),
    )


def downgrade():
    op.drop_column("api_key", "unit_id")
