"""case photo pending: citizens' photos kept as sent until re-encoded outside their request

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("pakn_case_photo") as batch_op:
        batch_op.add_column(
            sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    # The older schema holds only re-encoded photos: refuse rather than lose the others.
    pending = op.get_bind().execute(
        sa.text("SELECT count(*) FROM pakn_case_photo WHERE pending")
    ).scalar()
    if pending:
        raise RuntimeError(
            f"{pending} photos are not re-encoded yet: run `flask --app wsgi feedback photos`"
        )
    with op.batch_alter_table("pakn_case_photo") as batch_op:
        batch_op.drop_column("pending")
