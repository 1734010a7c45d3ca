"""imported file: the files `responses import` loaded, by digest, so one is not loaded twice

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "imported_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_file")),
    )
    op.create_index(op.f("ix_imported_file_sha256"), "imported_file", ["sha256"])


def downgrade():
    op.drop_index(op.f("ix_imported_file_sha256"), table_name="imported_file")
    op.drop_table("imported_file")
