"""survey integrity: receipt codes, exclusions, response flags and device hash

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("response") as batch:
        batch.add_column(sa.Column("flags", sa.String(length=80), nullable=False, server_default=""))
        batch.add_column(sa.Column("device_hash", sa.String(length=32), nullable=True))
        batch.drop_index("ix_response_point_id")
        batch.create_index("ix_response_point_time", ["point_id", "submitted_at"])
    op.create_table(
        "receipt_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("procedure", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"],
                                name=op.f("fk_receipt_code_response_id_response")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_receipt_code_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_code")),
        sa.UniqueConstraint("code", name=op.f("uq_receipt_code_code")),
    )
    op.create_index(op.f("ix_receipt_code_unit_id"), "receipt_code", ["unit_id"])
    op.create_table(
        "exclusion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("excluded_by_id", sa.Integer(), nullable=False),
        sa.Column("excluded_at", sa.DateTime(), nullable=False),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["excluded_by_id"], ["user.id"],
                                name=op.f("fk_exclusion_excluded_by_id_user")),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"],
                                name=op.f("fk_exclusion_response_id_response")),
        sa.ForeignKeyConstraint(["undone_by_id"], ["user.id"],
                                name=op.f("fk_exclusion_undone_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exclusion")),
    )
    op.create_index(op.f("ix_exclusion_response_id"), "exclusion", ["response_id"])


def downgrade():
    op.drop_index(op.f("ix_exclusion_response_id"), table_name="exclusion")
    op.drop_table("exclusion")
    op.drop_index(op.f("ix_receipt_code_unit_id"), table_name="receipt_code")
    op.drop_table("receipt_code")
    with op.batch_alter_table("response") as batch:
        batch.drop_index("ix_response_point_time")
        batch.create_index("ix_response_point_id", ["point_id"])
        batch.drop_column("device_hash")
        batch.drop_column("flags")
