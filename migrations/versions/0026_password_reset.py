"""password reset: the links staff ask for by e-mail to choose a new password

Revision ID: 0026
Revises: 0025

One row per link asked for (core/password_reset.py): the SHA-256 of its token, never the
token itself past the e-mail that carries it (mail_token, cleared as that e-mail is settled),
when it expires and when it was used. The table comes empty; a downgrade drops it, and with
it every link not yet used: they are asked for again from the sign-in page.
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "password_reset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("mark", sa.String(length=20), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("mail_token", sa.String(length=64), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name="fk_password_reset_user_id_user"),
        sa.PrimaryKeyConstraint("id", name="pk_password_reset"),
        sa.UniqueConstraint("token_hash", name="uq_password_reset_token_hash"),
    )
    op.create_index("ix_password_reset_user_id", "password_reset", ["user_id"], unique=False)
    op.create_index("ix_password_reset_expires_at", "password_reset", ["expires_at"], unique=False)
    op.create_index(
        "ix_password_reset_next_attempt_at", "password_reset", ["next_attempt_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_password_reset_next_attempt_at", table_name="password_reset")
    op.drop_index("ix_password_reset_expires_at", table_name="password_reset")
    op.drop_index("ix_password_reset_user_id", table_name="password_reset")
    op.drop_table("password_reset")
