"""The comments page's search reads each comment stored folded (migration 0029): every way a
response is stored fills it, and the page finds what the stored text holds."""

from datetime import datetime

import pytest
from sqlalchemy import insert, select, text

from core.extensions import db
from core.folding import fold
from survey.demo import load_demo
from survey.models import CRITERIA, Response
from tests.conftest import login, page_forms, thanked
from tests.survey import test_comments_page as page
from tests.survey.test_import_page import send

pytestmark = pytest.mark.usefixtures("in_english")

world = page.world  # the comments page's fixture: three counters, the staff of each scope

WRITTEN = "  ĐƯỜNG vào Khó tìm, phải hỏi 3 LẦN  "
STORED = "ĐƯỜNG vào Khó tìm, phải hỏi 3 LẦN"
FOLDED = "duong vao kho tim, phai hoi 3 lan"


def folded_of_every_response() -> list[tuple]:
    rows = db.session.execute(select(Response.comment, Response.comment_folded)).all()
    return sorted(rows, key=lambda row: (row.comment is not None, row.comment or ""))


def found(client, words: str) -> list[str]:
    """The comments the page finds for the words, signed in as an administrator."""
    if client.get(page.URL).status_code != 200:
        login(client, "admin@x.vn")
    return page.listed(client.get(page.URL, query_string={"q": words}))


def test_the_survey_form_stores_the_comment_folded(client, world):
    point = world["points"]["26734"]
    form = page_forms(client.get(f"/s/{point.token}").get_data(as_text=True))[-1]
    data = dict(form["fields"]) | {code: "4" for code in CRITERIA} | {"HK": "no"}
    assert thanked(client.post(form["action"], data=data | {"comment": WRITTEN}))
    form = page_forms(client.get(f"/s/{point.token}").get_data(as_text=True))[-1]
    other = data | dict(form["fields"]) | {"A1": "5"}  # a new key, and other answers
    assert thanked(client.post(form["action"], data=other))
    assert folded_of_every_response() == [(None, None), (STORED, FOLDED)]
    assert found(client, "duong vao kho") == [STORED]


def test_the_paper_form_typed_at_the_counter_stores_the_comment_folded(client, world):
    login(client, "handler@x.vn")
    form = page_forms(client.get("/staff/paper").get_data(as_text=True))[-1]["fields"]
    data = form | {"unit": "26734", "day": "2026-01-15", "answers": "4455344455555444-05",
                   "hk": "k", "comment": WRITTEN}  # fmt: skip
    assert client.post("/staff/paper", data=data).status_code == 302
    assert folded_of_every_response() == [(STORED, FOLDED)]


def import_csv(*comments: str) -> bytes:
    header = "unit_code,submitted_at,channel," + ",".join(CRITERIA) + ",HK,comment"
    lines = [f'26734,2024-03-25 14:30,paper,{",".join(["4"] * len(CRITERIA))},no,"{c}"'
             for c in comments]  # fmt: skip
    return ("\n".join([header, *lines]) + "\n").encode()


def test_the_import_command_stores_each_comment_folded(runner, tmp_path, client, world):
    path = tmp_path / "paper.csv"
    path.write_bytes(import_csv(WRITTEN, "", "  ", "Cảm ơn"))
    result = runner.invoke(args=["responses", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert folded_of_every_response() == [
        (None, None), (None, None), ("Cảm ơn", "cam on"), (STORED, FOLDED),
    ]  # fmt: skip
    assert found(client, "lan") == [STORED]


def test_the_import_page_stores_each_comment_folded(client, world):
    login(client, "manager@x.vn")
    assert send(client, import_csv(WRITTEN, "")).status_code == 303
    assert folded_of_every_response() == [(None, None), (STORED, FOLDED)]


def test_sqlalchemy_inserts_that_do_not_name_it_fill_it(world):
    """The model's default: the ORM (the services, the demo, the tests' factories) and Core's
    insert() of many rows at once (the benchmarks) fill it from the comment."""
    page.answer(world, "26734", STORED)
    page.answer(world, "26734", "")
    row = {"questionnaire_id": world["questionnaire"].id, "unit_id": world["tree"]["26737"].id,
           "submitted_at": datetime(2026, 3, 1), "channel": "static", "hk": False}  # fmt: skip
    db.session.execute(insert(Response), [row | {"comment": "Cảm ơn"}, row | {"comment": None}])
    db.session.commit()
    assert folded_of_every_response() == [
        (None, None), ("", None), ("Cảm ơn", "cam on"), (STORED, FOLDED),
    ]  # fmt: skip


def test_the_demo_stores_its_comments_folded(tree, questionnaire):
    load_demo("http://survey.test")
    db.session.commit()
    rows = folded_of_every_response()
    assert len(rows) > 100
    assert all(folded == (fold(comment) if comment else None) for comment, folded in rows)


def test_the_search_reads_the_stored_text_not_the_comment(client, world):
    """A comment whose stored folded text says otherwise is found by that text: the search
    does not fold the comments again."""
    page.answer(world, "26734", "Chờ lâu")
    db.session.execute(text("UPDATE response SET comment_folded = 'phi cao'"))
    db.session.commit()
    assert found(client, "cho lau") == []
    assert found(client, "PHÍ") == ["Chờ lâu"]


def test_a_comment_stored_without_it_is_still_found(client, world):
    """A server of the release before, during a rolling upgrade, stores none: the search folds
    those comments in the query, as it did before."""
    page.answer(world, "26734", "Đường vào khó tìm", at=datetime(2026, 3, 1, 3))
    page.answer(world, "26734", "Cảm ơn", at=datetime(2026, 3, 2, 3))
    page.answer(world, "26737", "Mặt đường hẹp", at=datetime(2026, 3, 3, 3))
    db.session.execute(text("UPDATE response SET comment_folded = NULL WHERE comment <> 'Cảm ơn'"))
    db.session.commit()
    assert found(client, "DUONG") == ["Mặt đường hẹp", "Đường vào khó tìm"]
    assert found(client, "cam") == ["Cảm ơn"]
    assert found(client, "100%") == []


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"unit": "26734"},
        {"since": "2026-03-01", "until": "2026-03-31"},
        {"household_register": "y"},
        {"page": "2"},
        {"dissatisfied": "y"},
    ],
)
def test_on_sqlite_a_search_chooses_its_responses_in_the_index_of_0030(client, world, filters):
    """SQLite: the page's search chooses its responses in migration 0030's index, read alone
    (but for the answers the dissatisfied filter reads), then reads those rows only; it never
    walks 0028's index of every comment's row, and asks in 0029's index whether any comment
    lacks its folded text. So with the planner's statistics (ANALYZE) and without."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("0030's index is SQLite's; PostgreSQL's search reads 0029's trigram index")
    for n in range(120):
        code = ("26734", "26737")[n % 2]
        low = dict.fromkeys((c.lower() for c in CRITERIA), 1) if n % 3 == 0 else {}
        page.answer(world, code, f"Chờ lâu {n}" if n % 4 else "Cảm ơn", hk=n % 5 == 0, **low)
    login(client, "manager@x.vn")  # the units of district 760: the page filters by unit
    statements = []

    def seen(_conn, _cursor, statement, parameters, *_args):
        if "FROM response" in statement:
            statements.append((statement, parameters))

    try:
        for analyzed in (False, True):
            if analyzed:
                db.session.execute(text("ANALYZE"))
                db.session.commit()
                db.engine.dispose()  # SQLite reads the statistics as a connection opens
            statements.clear()
            db.event.listen(db.engine, "before_cursor_execute", seen)
            try:
                response = client.get(page.URL, query_string={"q": "LÂU", **filters})
            finally:
                db.event.remove(db.engine, "before_cursor_execute", seen)
            assert response.status_code == 200
            assert page.listed(response) and all("lâu" in c for c in page.listed(response))
            with db.engine.connect() as conn:
                plans = [
                    str(conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all())
                    for sql, params in statements
                ]
            assert len(plans) == 2
            assert "ix_response_comment_unfolded" in plans[0]
            reads = "INDEX" if "dissatisfied" in filters else "COVERING INDEX"
            assert f"USING {reads} ix_response_comment_search" in plans[1]
            assert "SEARCH response USING INTEGER PRIMARY KEY" in plans[1]
            assert "ix_response_comment_time" not in str(plans)
    finally:
        db.session.execute(text("DELETE FROM sqlite_stat1"))  # the next tests' plans are theirs
        db.session.commit()
        db.engine.dispose()
