"""The PAKN pages ask as many queries for a page of many units and accounts as for one, and the
published list is read in an index's order, not sorted (bench/scale_pages.py measures them)."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from core.extensions import db
from core.models import Role, Unit, User, utcnow
from feedback.models import Case, CaseEvent
from feedback.workflow import State
from tests.conftest import FAST_HASH, add_units, login, queries_of


def publish(case: Case, at) -> None:
    case.state, case.outcome = str(State.PUBLISHED), "competent"
    case.answer = case.published_answer = "Đã xử lý."
    case.public_summary = "Tóm tắt."
    case.answered_at = case.published_at = at
    case.answered_on = at.date()


def more_communes(tree, count: int) -> list[Unit]:
    communes = [Unit(code=f"9{i:04}", name=f"Xã {i}", level="Xã", parent=tree["760"])
                for i in range(count)]  # fmt: skip
    add_units(*communes)
    tree.update({u.code: u for u in communes})  # where make_case finds them
    return communes


def published_cases(make_case, units: list[Unit], count: int) -> list[Case]:
    now, cases = utcnow(), []
    for i in range(count):
        case = make_case(units[i % len(units)].code)
        publish(case, now - timedelta(minutes=i))
        cases.append(case)
    db.session.commit()
    return cases


@pytest.mark.parametrize(
    "url", ["/pakn/published", "/pakn/published?unit=760", "/open311/v2/requests.json"]
)
def test_a_list_of_cases_asks_the_same_queries_for_many_units_as_for_one(
    client, tree, make_case, url
):
    published_cases(make_case, [tree["26734"]], 20)
    one_unit = queries_of(client, url)
    db.session.execute(update(Case).values(state=str(State.RECEIVED)))  # off the lists
    published_cases(make_case, more_communes(tree, 20), 20)
    assert queries_of(client, url) == one_unit


def test_a_case_page_asks_the_same_queries_for_a_long_history_by_many(app, client, tree, make_case):
    case = make_case("26734")
    handlers = [User(email=f"h{i}@x.vn", role=Role.HANDLER, unit=unit, password_hash=FAST_HASH)
                for i, unit in enumerate(more_communes(tree, 30))]  # fmt: skip
    admin = User(email="admin@x.vn", role=Role.ADMIN, password_hash=FAST_HASH)
    db.session.add_all([*handlers, admin])
    db.session.commit()
    login(client, "admin@x.vn")
    url = f"/staff/cases/{case.id}"

    def note_by(handler):
        state = case.state
        db.session.add(CaseEvent(case_id=case.id, actor=handler, action="note", from_state=state,
                                 to_state=state, note="Ghi chú"))  # fmt: skip
        db.session.commit()

    note_by(handlers[0])
    one_line = queries_of(client, url)
    for handler in handlers[1:]:
        note_by(handler)
    page = client.get(url).get_data(as_text=True)
    assert all(h.email in page for h in handlers)  # each line says who, and the handler choices
    assert queries_of(client, url) == one_line


def sorts(query) -> bool:
    """Whether the database sorts the rows for the query, rather than reading them in the order
    of an index (PostgreSQL told not to sort where it can do without)."""
    sql = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "sqlite":
        plan = db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
        return any("ORDER BY" in row[-1] for row in plan)
    db.session.execute(text("SET LOCAL enable_sort = off"))
    plan = db.session.execute(text(f"EXPLAIN {sql}")).scalars().all()
    return any("Sort" in line for line in plan)


def test_the_published_list_reads_an_index_in_its_order(app):
    query = (
        select(Case)
        .where(Case.state == str(State.PUBLISHED))
        .order_by(Case.published_at.desc(), Case.id.desc())
        .limit(20)
        .offset(10_000)
    )
    assert not sorts(query)
    assert sorts(query.order_by(None).order_by(Case.content))  # the check can tell
