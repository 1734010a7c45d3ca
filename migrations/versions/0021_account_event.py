"""account event: who created or changed which staff account, and when

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "account_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"], name="fk_account_event_actor_id_user"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name="fk_account_event_user_id_user"),
        sa.PrimaryKeyConstraint("id", name="pk_account_event"),
    )
    op.create_index("ix_account_event_user_id", "account_event", ["user_id"], unique=False)


def downgrade():
    op.drop_index("ix_account_event_user_id", table_name="account_event")
    op.drop_table("account_event")
