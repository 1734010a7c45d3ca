"""case publish due: the day an answered case must be published by, in working days

Revision ID: 0010
Revises: 0009

Cases answered before are filled from their answer's day with the same working-day arithmetic
and the days the administrator declared, so that their publishing status shows at once.
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

case = sa.table(
    "pakn_case",
    sa.column("topic", sa.String),
    sa.column("answered_on", sa.Date),
    sa.column("publish_due_on", sa.Date),
)
declared_day = sa.table("pakn_declared_day", sa.column("day", sa.Date), sa.column("working"))


# Plain ALTER TABLE, not batch mode: rebuilding pakn_case on SQLite would break the foreign keys
# of its persons, photos and events (SQLite drops a column in place since 3.35).
def upgrade():
    op.add_column("pakn_case", sa.Column("publish_due_on", sa.Date(), nullable=True))
    op.create_index(
        "ix_pakn_case_state_publish_due", "pakn_case", ["state", "publish_due_on"], unique=False
    )
    _fill()


def _fill():
    # The app's arithmetic and the province's configured days: this runs inside its context.
    from feedback.deadlines import build_calendar, working_days_after, years_around
    from feedback.settings import publish_days

    conn = op.get_bind()
    answered = conn.execute(
        sa.select(case.c.topic, case.c.answered_on)
        .where(case.c.answered_on.is_not(None))
        .distinct()
    ).all()
    if not answered:
        return
    first = min(day for _, day in answered)
    last = max(day for _, day in answered)
    years = range(years_around(first).start, years_around(last).stop)
    declared = conn.execute(
        sa.select(declared_day.c.day, declared_day.c.working).where(
            declared_day.c.day >= date(years.start, 1, 1),
            declared_day.c.day <= date(years.stop - 1, 12, 31),
        )
    ).all()
    calendar = build_calendar(years, [(day, bool(working)) for day, working in declared])
    for topic, day in answered:
        conn.execute(
            case.update()
            .where(case.c.topic == topic, case.c.answered_on == day)
            .values(publish_due_on=working_days_after(day, publish_days(topic), calendar))
        )


def downgrade():
    op.drop_index("ix_pakn_case_state_publish_due", table_name="pakn_case")
    op.drop_column("pakn_case", "publish_due_on")
