"""A point's answers are counted from an index alone, not by reading every answer's row: a busy
counter has 100,000 of them (bench/scale_pages.py)."""

from sqlalchemy import text

from core.extensions import db
from survey.models import Response
from survey.services import counts_query


def reads_the_table(query, table: str) -> bool:
    """Whether the database reads the table's rows for the query, rather than an index alone
    (PostgreSQL told not to scan the table or a bitmap where an index can do)."""
    sql = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "sqlite":
        plan = [row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
        return any(f" {table} " in f"{line} " and "COVERING INDEX" not in line for line in plan)
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    db.session.execute(text("SET LOCAL enable_bitmapscan = off"))
    plan = db.session.execute(text(f"EXPLAIN {sql}")).scalars().all()
    return any(f" on {table} " in f"{line} " and "Index Only Scan" not in line for line in plan)


def test_a_points_counts_come_from_an_index(point):
    assert not reads_the_table(counts_query(Response.point_id == point.id), "response")
    # The check can tell: the comment is in no index but the comments page's partial one.
    assert reads_the_table(counts_query(Response.comment == "x"), "response")
