"""staff digest: the morning e-mail to each staff member, one a day at most

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name="fk_staff_digest_user_id_user"),
        sa.PrimaryKeyConstraint("id", name="pk_staff_digest"),
        sa.UniqueConstraint("user_id", "day", name="uq_staff_digest_user_id_day"),
    )


def downgrade():
    op.drop_table("staff_digest")
