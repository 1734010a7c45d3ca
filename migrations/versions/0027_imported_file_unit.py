"""imported file unit: the importer's unit on the day each file was imported

Revision ID: 0027
Revises: 0026

The import page showed a manager the files of the accounts of their units by each account's unit
today, so an account moved to another unit took its past imports along to the managers there.
The file now keeps its importer's unit as it was. Files imported before are given their
importer's unit today, the best this database knows; files of the command line, or from before
0023, have no importer and keep no unit.
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


# By plain ALTER TABLE, not batch mode, as in 0023: SQLite adds no constraint to a table, but
# takes one inline on the new column (and drops such a column again).
def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE imported_file ADD COLUMN importer_unit_id INTEGER "
            'CONSTRAINT fk_imported_file_importer_unit_id_unit REFERENCES unit (id)'
        )
    else:
        op.add_column(
            "imported_file",
            sa.Column(
                "importer_unit_id",
                sa.Integer(),
                sa.ForeignKey("unit.id", name="fk_imported_file_importer_unit_id_unit"),
                nullable=True,
            ),
        )
    op.execute(
        "UPDATE imported_file SET importer_unit_id = "
        '(SELECT unit_id FROM "user" WHERE "user".id = imported_file.imported_by_id) '
        "WHERE imported_by_id IS NOT NULL"
    )


def downgrade():
    op.drop_column("imported_file", "importer_unit_id")
