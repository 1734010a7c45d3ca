"""Migration 0030: on SQLite, the folded comments in an index that the search reads alone."""

from sqlalchemy import text

from core.extensions import db
from tests.core.test_migrations import downgraded_to, index_names, plan

SEARCH_INDEX = "ix_response_comment_search"
ROWS = [
    "INSERT INTO unit (id, code, name, level, path) VALUES (1, '01', 'Phường Một', 'Phường', "
    "'/1/'), (2, '02', 'Phường Hai', 'Phường', '/2/')",
    "INSERT INTO questionnaire (id, version, checksum, definition, created_at) "
    "VALUES (1, 1, 'x', '{}', '2026-03-01 00:00:00')",
    "INSERT INTO response (id, questionnaire_id, unit_id, submitted_at, channel, hk, comment, "
    "comment_folded, flags) VALUES "
    "(1, 1, 1, '2026-03-01 00:00:00', 'static', false, 'Chờ lâu', 'cho lau', ''), "
    "(2, 1, 1, '2026-03-02 00:00:00', 'static', false, NULL, NULL, ''), "
    "(3, 1, 1, '2026-03-03 00:00:00', 'static', true, 'Lâu quá', 'lau qua', ''), "
    "(4, 1, 2, '2026-03-04 00:00:00', 'static', false, 'Lâu', 'lau', ''), "
    "(5, 1, 1, '2026-03-05 00:00:00', 'static', false, 'Cảm ơn', 'cam on', '')",
]  # fmt: skip
# The page's choice of a search's responses (survey/comments.py), with a unit and a period.
SEARCH = ("SELECT id FROM response WHERE comment_folded IS NOT NULL AND comment_folded LIKE "
          "'%lau%' ESCAPE '\\' AND unit_id + 0 IN (1) AND submitted_at >= '2026-03-01 17:00:00' "
          "ORDER BY submitted_at DESC, id DESC LIMIT 51 OFFSET 0")  # fmt: skip


def test_the_search_index_is_read_alone_by_the_search_on_sqlite(app, runner):
    """0030, on this run's database: on SQLite, the page's choice of a search's responses reads
    the new index and nothing else (a covering index), with the planner's statistics or
    without; PostgreSQL gets none (its trigram index serves). A downgrade drops it."""
    sqlite = db.engine.dialect.name == "sqlite"
    with downgraded_to(runner, "0029"):
        assert SEARCH_INDEX not in index_names("response")
        with db.engine.begin() as conn:
            for sql in ROWS:
                conn.execute(text(sql))
            assert SEARCH_INDEX not in plan(conn, SEARCH)
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade", "0030"]).exit_code == 0
        assert (SEARCH_INDEX in index_names("response")) is sqlite
        with db.engine.begin() as conn:
            assert conn.execute(text(SEARCH)).scalars().all() == [3]
            if sqlite:
                assert f"USING COVERING INDEX {SEARCH_INDEX}" in plan(conn, SEARCH)
                conn.exec_driver_sql("ANALYZE")  # 0028's index is no choice for it either way
                assert f"USING COVERING INDEX {SEARCH_INDEX}" in plan(conn, SEARCH)
                conn.exec_driver_sql("DELETE FROM sqlite_stat1")
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0029"]).exit_code == 0
        assert SEARCH_INDEX not in index_names("response")
        with db.engine.connect() as conn:
            ids = conn.execute(text("SELECT id FROM response ORDER BY id")).scalars().all()
            assert ids == [1, 2, 3, 4, 5]
