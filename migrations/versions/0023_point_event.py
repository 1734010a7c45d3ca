"""point event: who added, renamed or retired each survey point, and who imported each file

Revision ID: 0023
Revises: 0022

Points made before get no history (who made them was not recorded), and files imported before
no importer: None stands for the command line or for "before this release".
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


# imported_file.imported_by_id by plain ALTER TABLE, not batch mode, as in 0014: SQLite adds no
# constraint to a table, but takes one inline on the new column (and drops such a column again).
def upgrade():
    op.create_table(
        "point_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"], name="fk_point_event_actor_id_user"),
        sa.ForeignKeyConstraint(
            ["point_id"], ["survey_point.id"], name="fk_point_event_point_id_survey_point"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_point_event"),
    )
    op.create_index("ix_point_event_point_id", "point_event", ["point_id"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE imported_file ADD COLUMN imported_by_id INTEGER "
            'CONSTRAINT fk_imported_file_imported_by_id_user REFERENCES "user" (id)'
        )
        return
    op.add_column(
        "imported_file",
        sa.Column(
            "imported_by_id",
            sa.Integer(),
            sa.ForeignKey("user.id", name="fk_imported_file_imported_by_id_user"),
            nullable=True,
        ),
    )


def downgrade():
    op.drop_column("imported_file", "imported_by_id")
    op.drop_index("ix_point_event_point_id", table_name="point_event")
    op.drop_table("point_event")
