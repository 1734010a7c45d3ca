"""case published answer: the answer as published, apart from the one addressed to the citizen

Revision ID: 0016
Revises: 0015

Until now publishing showed the citizen's answer word for word. Cases published before this
keep what the public read: their answer is copied into the published answer.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

case = sa.table(
    "pakn_case",
    sa.column("answer", sa.Text),
    sa.column("published_answer", sa.Text),
    sa.column("published_at", sa.DateTime),
)


# Plain ALTER TABLE, not batch mode, as in 0010: rebuilding pakn_case on SQLite would break the
# foreign keys of its persons, photos and events.
def upgrade():
    op.add_column("pakn_case", sa.Column("published_answer", sa.Text(), nullable=True))
    op.execute(
        case.update()
        .where(case.c.published_at.is_not(None))
        .values(published_answer=case.c.answer)
    )


def downgrade():
    # The older code publishes the citizen's answer, which may name them: refuse rather than
    # put it on the public page where another text was published.
    differing = op.get_bind().execute(
        sa.select(sa.func.count())
        .select_from(case)
        .where(case.c.published_at.is_not(None), case.c.answer != case.c.published_answer)
    ).scalar()
    if differing:
        raise RuntimeError(
            f"{differing} published cases show an answer other than the citizen's: the older "
            "code would publish the citizen's answer. Reopen them before downgrading."
        )
    op.drop_column("pakn_case", "published_answer")
