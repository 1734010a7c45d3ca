"""A point's answers page: its counts from an index alone, not by reading every answer's row,
and only once, with pages of fifty (a busy counter has 100,000 answers: bench/scale_pages.py)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from core.extensions import db
from core.models import utcnow
from survey.models import Response
from survey.questionnaires import current_questionnaire
from survey.services import counts_query
from tests.conftest import login


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


def add_answers(point, count: int, flagged: int) -> None:
    """count answers at the point, one a minute back from now, the newest flagged ones flagged."""
    now, questionnaire_id = utcnow(), current_questionnaire().id
    db.session.add_all(
        Response(questionnaire_id=questionnaire_id, unit_id=point.unit_id, point_id=point.id,
                 channel="static", hk=False, submitted_at=now - timedelta(minutes=i), a1=4,
                 flags="burst" if i < flagged else "")
        for i in range(count)
    )  # fmt: skip
    db.session.commit()


def rows_and_links(client, url: str, statements: list[str]) -> tuple[int, set[str]]:
    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    tbody = html[html.index("<table", html.index("<table") + 1) :]  # after the counts' table
    return tbody.count("<tr>\n<td>"), set(re.findall(r">(Newer|Older)</a>", html))


@pytest.mark.usefixtures("in_english")
def test_the_answers_come_fifty_a_page_and_are_counted_once(client, point, make_user):
    add_answers(point, 60, flagged=3)
    make_user("admin@x.vn", "admin")
    login(client, "admin@x.vn")
    url, statements = f"/staff/points/{point.token}/responses", []
    assert rows_and_links(client, url, statements) == (50, {"Older"})
    assert len([s for s in statements if "count(" in s.lower()]) == 1
    assert rows_and_links(client, f"{url}?page=2", []) == (10, {"Newer"})
    assert rows_and_links(client, f"{url}?flagged=1", []) == (3, set())
    assert client.get(f"{url}?page=3").status_code == 404
