"""mail outbox: e-mails to citizens about their PAKN, and the language each case was sent in

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE (see 0013): cases sent before this spoke the default language.
    op.add_column(
        "pakn_case", sa.Column("locale", sa.String(length=5), server_default="vi", nullable=False)
    )
    op.create_table(
        "pakn_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("gave_up_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["pakn_case.id"], name="fk_pakn_mail_case_id_pakn_case"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pakn_mail"),
    )
    op.create_index("ix_pakn_mail_case_id", "pakn_mail", ["case_id"], unique=False)
    op.create_index(
        "ix_pakn_mail_due", "pakn_mail", ["sent_at", "gave_up_at", "next_attempt_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_pakn_mail_due", table_name="pakn_mail")
    op.drop_index("ix_pakn_mail_case_id", table_name="pakn_mail")
    op.drop_table("pakn_mail")
    op.drop_column("pakn_case", "locale")
