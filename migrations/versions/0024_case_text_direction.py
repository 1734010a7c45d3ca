"""case text direction: the characters that turn text around, taken out of PAKN cases stored
before the forms removed them

Revision ID: 0024
Revises: 0023

Since this release the citizen's form, staff intake, Open311 and the staff's moves keep a case's
text without the characters that set the direction of writing (core.forms.DIRECTION_CONTROLS):
a right-to-left override showed staff and the tracking page a name or a phone number backwards.
This takes them out of the cases stored before, as those forms would have. Nothing else in the
text changes. A downgrade has nothing to put back: the characters showed nothing but a reversal.
Survey responses are append-only and keep their comments as they were.
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# As core.forms.DIRECTION_CONTROLS on the day of this migration (a migration keeps its own copy).
CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
REMOVED = dict.fromkeys(map(ord, CONTROLS))
# Each table's key and the columns of text a citizen or staff wrote that the forms now clean.
TEXTS = {
    "pakn_case": ("id", ("content", "answer", "citizen_note", "forwarded_to")),
    "pakn_case_person": ("case_id", ("name", "phone", "email", "address")),
    "pakn_case_event": ("id", ("note", "detail")),  # the moves' notes, the agency forwarded to
}


def upgrade():
    bind = op.get_bind()
    for name, (key, columns) in TEXTS.items():
        table = sa.table(name, sa.column(key), *(sa.column(c) for c in columns))
        holding = sa.or_(
            *(table.c[c].contains(ch, autoescape=True) for c in columns for ch in CONTROLS)
        )
        for row in bind.execute(sa.select(table).where(holding)).mappings().all():
            cleaned = {c: row[c].translate(REMOVED) if row[c] else row[c] for c in columns}
            bind.execute(sa.update(table).where(table.c[key] == row[key]).values(**cleaned))


def downgrade():
    pass
