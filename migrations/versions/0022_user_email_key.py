"""user email key: accounts are found, and unique, by their address folded in Python

Revision ID: 0022
Revises: 0021

Sign-in and the uniqueness of accounts compared lower(email) in the database, and SQLite's
lower() folds only ASCII: there 'NGUYỄN@ubnd.vn' did not sign in typed 'nguyễn@ubnd.vn', and the
two could be made as two accounts. The key is the address as core.models.email_key() folds it,
copied below as it is today, so that this migration does what it did whatever the code becomes.

Two accounts that the key makes one (possible on SQLite until now) are not merged, nor either
dropped: which one stays is a person's choice. The migration stops before it changes anything,
naming them and saying how to give one another address.
"""

import unicodedata
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

KEY_LENGTH = 762  # casefold() may lengthen an address of 254 characters up to three times
user = sa.table(
    "user",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("role", sa.String),
    sa.column("active", sa.Boolean),
    sa.column("last_login_at", sa.DateTime),
    sa.column("email_key", sa.String),
)
# SQLite adds a NOT NULL column to a table with rows only with a default: '' then stands for
# the missing key, and this refuses it as PostgreSQL's NOT NULL does (a server of the release
# before, during a roll-out, makes accounts without naming the column).
NO_KEY_TRIGGER = """
CREATE TRIGGER user_email_key_required BEFORE INSERT ON "user" WHEN NEW.email_key = ''
BEGIN SELECT RAISE(ABORT, 'NOT NULL constraint failed: user.email_key'); END
"""


def email_key(address: str) -> str:
    """core.models.email_key() as it is at this revision."""
    folded = unicodedata.normalize("NFD", address.strip()).casefold()
    return unicodedata.normalize("NFC", folded)


# Plain ALTER TABLE, not batch mode (see 0013): rebuilding user on SQLite would break the
# foreign keys of every table that records who acted.
def upgrade():
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    accounts = defaultdict(list)
    columns = (user.c.id, user.c.email, user.c.role, user.c.active, user.c.last_login_at)
    for row in conn.execute(sa.select(*columns).order_by(user.c.id)):
        accounts[email_key(row.email)].append(row)
    if same := [rows for rows in accounts.values() if len(rows) > 1]:
        raise RuntimeError(_report(same))
    op.add_column(
        "user",
        sa.Column(
            "email_key",
            sa.String(length=KEY_LENGTH),
            nullable=not sqlite,
            server_default="" if sqlite else None,
        ),
    )
    if accounts:
        conn.execute(
            user.update()
            .where(user.c.id == sa.bindparam("row_id"))
            .values(email_key=sa.bindparam("key")),
            [{"row_id": row.id, "key": key} for key, (row,) in accounts.items()],
        )
    if sqlite:
        op.execute(NO_KEY_TRIGGER)
    else:
        op.alter_column(
            "user", "email_key", existing_type=sa.String(length=KEY_LENGTH), nullable=False
        )
    op.create_index("ix_user_email_key", "user", ["email_key"], unique=True)


def _report(same: list[list]) -> str:
    """Name the accounts that would be one, and say how to part them."""
    lines = [
        "migration 0022 changed nothing: an account's address is to be unique in any letter "
        "case, and these accounts' addresses differ only in case:"
    ]
    for rows in same:
        for row in rows:
            state = "active" if row.active else "deactivated"
            last = f"{row.last_login_at:%Y-%m-%d %H:%M} UTC" if row.last_login_at else "never"
            lines.append(f"  id {row.id}\t{row.email}\t{row.role}\t{state}\tlast sign-in {last}")
        lines.append("")
    example = same[0][-1]
    lines += [
        "Decide which account of each group keeps its address, give each of the others an",
        "address of its own (one its owner reads; the history of every account is kept), e.g.",
        f"  UPDATE \"user\" SET email = 'new address' WHERE id = {example.id};",
        "then run `flask --app wsgi db upgrade` again.",
    ]
    return "\n".join(lines)


def downgrade():
    op.drop_index("ix_user_email_key", table_name="user")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER user_email_key_required")
    op.drop_column("user", "email_key")
