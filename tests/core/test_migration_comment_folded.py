"""Migration 0029: each survey comment stored folded, filled for the responses from before."""

import importlib.util

import pytest
from sqlalchemy import inspect, text

from core.extensions import MIGRATIONS, db
from core.folding import fold
from tests.core.test_folding import WORDS

TRIGRAM_INDEX = "ix_response_comment_folded_trgm"
VIETNAMESE = [
    *WORDS, "Nguyễn Thị Ánh Tuyết", "Đắk Lắk", "Quảng Ngãi", "ĐẶNG VĂN ĐỨC", "Thừa Thiên Huế",
    "Cần Thơ", "giấy tờ photo công chứng", "Ủy ban nhân dân xã", "Ưu tiên người cao tuổi",
    "ỐC ỔI ỖI ỘI", "ẰẲẴẶ ằẳẵặ", "Ơn ớn ờn ởn ỡn ợn", "Chờ\nlâu", "",
]  # fmt: skip


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

    db.session.remove()
    db.engine.dispose()  # no connection of the app may hold the tables while they change
    assert runner.invoke(args=["db", "downgrade", "0028"]).exit_code == 0
    try:
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
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0028"]).exit_code == 0
        assert "comment_folded" not in columns()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM response")).scalar() == count
            indexes = {i["name"] for i in inspect(conn).get_indexes("response")}
            assert TRIGRAM_INDEX not in indexes
    finally:
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
