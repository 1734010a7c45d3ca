"""password reset purpose: a link is a reset or a new account's invitation

Revision ID: 0031
Revises: 0030

An account made in the back office (or by `users create --invite`) has no password: it gets a
link to choose its first one, made, e-mailed and used as a reset link is (core/invitations.py).
The links table says which a link is; the links already there are resets, as the server
default makes those that servers of the release before still ask for during an upgrade.

A downgrade deletes the invitations' links, which the code before would take for resets; their
accounts keep no password (the value stored for none matches no password, in either release)
until an administrator sets one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "password_reset",
        sa.Column(
            "purpose",
            sa.Enum("reset", "invitation", name="linkpurpose", native_enum=False, length=10),
            server_default="reset",
            nullable=False,
        ),
    )


def downgrade():
    op.execute("DELETE FROM password_reset WHERE purpose = 'invitation'")
    op.drop_column("password_reset", "purpose")
