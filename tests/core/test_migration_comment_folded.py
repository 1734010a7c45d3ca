"""Migration 0029: each survey comment stored folded, filled for the responses from before."""

import importlib.util
import secrets

import pytest
from sqlalchemy import inspect, text

from core.extensions import MIGRATIONS, db
from core.folding import fold
from tests.core.test_folding import WORDS
from tests.core.test_migrations import downgraded_to, index_names, plan

TRIGRAM_INDEX = "ix_response_comment_folded_trgm"
VIETNAMESE = [
    *WORDS, "Nguyễn Thị Ánh Tuyết", "Đắk Lắk", "Quảng Ngãi", "ĐẶNG VĂN ĐỨC", "Thừa Thiên Huế",
    "Cần Thơ", "giấy tờ photo công chứng", "Ủy ban nhân dân xã", "Ưu tiên người cao tuổi",
    "ỐC ỔI ỖI ỘI", "ẰẲẴẶ ằẳẵặ", "Ơn ớn ờn ởn ỡn ợn", "Chờ\nlâu", "",
]  # fmt: skip


# The search's question whether any comment lacks its folded text, and a search.
UNFOLDED = ("SELECT id FROM response WHERE comment IS NOT NULL AND comment <> '' "
            "AND comment_folded IS NULL LIMIT 1")  # fmt: skip
SEARCH = ("SELECT id FROM response WHERE comment IS NOT NULL AND comment <> '' AND "
          "comment_folded LIKE '%ong ben%' AND id < 48 ORDER BY id DESC")  # fmt: skip


def trigrams(conn) -> bool:
    """Whether this PostgreSQL has pg_trgm (the migration creates it where it is available)."""
    return (
        conn.exec_driver_sql(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'"
        ).scalar()
        == 1
    )


def migration():
    """The migration's module, loaded from its file as Alembic loads it."""
    path = MIGRATIONS / "versions" / "0029_response_comment_folded.py"
    spec = importlib.util.spec_from_file_location("migration_0029", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("words", VIETNAMESE)
def test_the_migration_folds_as_the_app_does(words):
    """Its copy of fold() must fold as core.folding.fold(), which folds the words searched."""
    assert migration().fold(words) == fold(words)


def test_the_migration_fills_the_comments_from_before_and_its_downgrade_drops_them(app, runner):
    """0029, on this run's database: every comment stored before is folded, over several
    batches; none where there is no comment; no change counted for analysis (the triggers of
    0008 watch the figures' columns only); a downgrade drops the column, keeps the responses."""
    count = 2 * migration().BATCH + 5
    rows = [
        "INSERT INTO unit (id, code, name, level, path) VALUES (1, '01', 'Phường Một', "
        "'Phường', '/1/')",
        "INSERT INTO questionnaire (id, version, checksum, definition, created_at) "
        "VALUES (1, 1, 'x', '{}', '2026-03-01 00:00:00')",
    ]  # fmt: skip
    response = ("INSERT INTO response (id, questionnaire_id, unit_id, submitted_at, channel, hk, "
                "comment, flags) VALUES (:id, 1, 1, '2026-03-01 00:00:00', 'static', false, "
                ":comment, '')")  # fmt: skip

    def comment(id_: int) -> str | None:
        return VIETNAMESE[id_ % len(VIETNAMESE)] or (None if id_ // len(VIETNAMESE) % 2 else "")

    def columns():
        with db.engine.connect() as conn:
            return {c["name"] for c in inspect(conn).get_columns("response")}

    def changes(conn):
        return conn.execute(text("SELECT max(version) FROM response_version")).scalar()

    with downgraded_to(runner, "0028"):
        assert "comment_folded" not in columns()
        with db.engine.begin() as conn:
            for sql in rows:
                conn.execute(text(sql))
            conn.execute(text(response), [{"id": i, "comment": comment(i)} for i in range(count)])
            before = changes(conn)
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade", "0029"]).exit_code == 0
        with db.engine.connect() as conn:
            stored = conn.execute(text("SELECT id, comment, comment_folded FROM response"))
            stored = {id_: (written, folded) for id_, written, folded in stored}
            assert changes(conn) == before
        assert len(stored) == count
        for id_, (written, folded) in stored.items():
            assert written == comment(id_)
            assert folded == (fold(written) if written else None), id_
        assert stored[1] == ("Đường", "duong") and stored[2][1] == "phuong ben nghe"
        assert {written for written, _folded in stored.values()} >= {None, ""}
        indexes = index_names("response")
        assert "ix_response_comment_unfolded" in indexes
        with db.engine.begin() as conn:
            assert "ix_response_comment_unfolded" in plan(conn, UNFOLDED)
            assert conn.execute(text(UNFOLDED)).all() == []
            if db.engine.dialect.name == "postgresql" and trigrams(conn):
                assert TRIGRAM_INDEX in indexes
                assert TRIGRAM_INDEX in plan(conn, SEARCH)
                assert conn.execute(text(SEARCH)).scalars().all() == [26, 2]
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0028"]).exit_code == 0
        assert "comment_folded" not in columns()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM response")).scalar() == count
        assert not {TRIGRAM_INDEX, "ix_response_comment_unfolded"} & index_names("response")


def test_where_pg_trgm_may_not_be_created_the_migration_goes_on_without_it(app):
    """A role that may not create the extension: the refusal is rolled back to a savepoint, and
    the migration's transaction goes on (the role and the dropped extension are rolled back)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's; this run is on SQLite")
    role = f"no_extensions_{secrets.token_hex(4)}"
    with db.engine.connect() as conn, conn.begin() as transaction:
        if not trigrams(conn):
            pytest.skip("pg_trgm is not available on this server")
        conn.exec_driver_sql(f"CREATE ROLE {role}")
        conn.exec_driver_sql("DROP EXTENSION IF EXISTS pg_trgm CASCADE")
        conn.exec_driver_sql(f"SET LOCAL ROLE {role}")
        assert migration()._trigrams(conn) is False
        assert conn.execute(text("SELECT 1")).scalar() == 1
        conn.exec_driver_sql("RESET ROLE")
        assert migration()._trigrams(conn) is True
        transaction.rollback()
