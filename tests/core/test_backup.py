"""`backup`: a copy of the SQLite database that is whole, consistent and never half written.

Each test runs on a SQLite database of its own (a copy of one migrated once), whichever
database the suite runs on: the command is for SQLite, and says so on any other."""

import shutil
import sqlite3
import stat
import threading
from datetime import datetime

import pytest

from core import backup as backup_module
from core import create_app
from core.extensions import db, upgrade_database


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    path = tmp_path_factory.mktemp("backup") / "migrated.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "x"})
    with app.app_context():
        upgrade_database()
        db.engine.dispose()
    return path


@pytest.fixture
def live(tmp_path, migrated):
    """A database in WAL mode with a few units, and an app (with its CLI runner) on it."""
    path = tmp_path / "instance" / "hailong.db"
    path.parent.mkdir()
    shutil.copy(migrated, path)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executemany(
            "INSERT INTO unit (code, name, level, path) VALUES (?, ?, 'Xã', '/')",
            [(f"U{i}", f"Xã Số {i}") for i in range(5)],
        )
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "x", "TESTING": True}
    )
    return path, app.test_cli_runner()


def rows(path, query="SELECT code FROM unit ORDER BY code"):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return connection.execute(query).fetchall()


def test_the_copy_holds_what_is_still_in_the_write_ahead_log(live, tmp_path):
    path, runner = live
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA wal_autocheckpoint=0")  # the new row stays in hailong.db-wal
    writer.execute("INSERT INTO unit (code, name, level, path) VALUES ('NEW', 'Xã Mới', 'Xã', '/')")
    writer.commit()
    plain = tmp_path / "cp.db"
    shutil.copy(path, plain)  # what cp would have kept: the file without its log
    assert ("NEW",) not in rows(plain)
    result = runner.invoke(args=["backup", "--out", str(tmp_path / "copy.db")])
    writer.close()
    assert result.exit_code == 0, result.output
    copy = tmp_path / "copy.db"
    assert rows(copy) == [("NEW",), *[(f"U{i}",) for i in range(5)]]
    assert rows(copy, "PRAGMA journal_mode") == [("delete",)]  # one file, nothing beside it
    assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
    assert not (tmp_path / "copy.db-wal").exists()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600  # personal data: its owner's only
    assert f"Backed up to {copy}: {copy.stat().st_size:,} bytes, integrity ok" in result.output
    assert "responses 0, PAKN cases 0, units 6, accounts 0" in result.output


def test_a_copy_taken_while_workers_write_holds_whole_transactions(live, tmp_path):
    """A writer adds units two at a time, in one transaction each: any copy taken meanwhile
    holds an even number of them, never half of a transaction."""
    path, runner = live
    stop = threading.Event()

    def write():
        connection = sqlite3.connect(path, timeout=10)
        number = 0
        while not stop.is_set():
            with connection:
                for _ in range(2):
                    number += 1
                    connection.execute(
                        "INSERT INTO unit (code, name, level, path) VALUES (?, 'x', 'Xã', '/')",
                        (f"W{number}",),
                    )
        connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        copies = []
        for i in range(8):
            copy = tmp_path / f"copy{i}.db"
            result = runner.invoke(args=["backup", "--out", str(copy)])
            assert result.exit_code == 0, result.output
            copies.append(len(rows(copy, "SELECT code FROM unit WHERE code LIKE 'W%'")))
    finally:
        stop.set()
        writer.join()
    assert all(n % 2 == 0 for n in copies), copies
    assert copies == sorted(copies) and copies[-1] > 0  # taken while the writer went on


def test_into_a_folder_by_vietnam_time_keeping_the_newest(live, tmp_path, monkeypatch):
    path, runner = live
    folder = tmp_path / "backups"
    folder.mkdir()
    other = folder / "notes.txt"
    other.write_text("kept")
    taken = []
    for moment in ("2026-12-01 17:30:00", "2026-12-02 17:30:00", "2026-12-03 17:30:00"):
        monkeypatch.setattr(backup_module, "utcnow", lambda m=moment: datetime.fromisoformat(m))
        result = runner.invoke(args=["backup", "--out", str(folder), "--keep", "2"])
        assert result.exit_code == 0, result.output
        taken.append(result.output)
    # 17:30 UTC is 00:30 the next day in Vietnam.
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["hailong-20261203-003000.db", "hailong-20261204-003000.db", "notes.txt"]
    assert f"Deleted the older backup {folder / 'hailong-20261202-003000.db'}." in taken[2]
    assert "Deleted" not in taken[0] + taken[1]
    assert other.read_text() == "kept"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "{existing}"], "exists: give a new name, or a folder"),
        (["--out", "{tmp}/missing/copy.db"], "missing is not a folder"),
        (["--out", "{tmp}/copy.db", "--keep", "2"], "--keep needs --out to be a folder"),
        (["--out", "{tmp}", "--keep", "0"], "0 is not in the range x>=1"),
        ([], "Missing option '--out'"),
    ],
)
def test_a_wrong_target_is_refused_and_nothing_is_written(live, tmp_path, args, message):
    path, runner = live
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"an earlier backup")
    before = sorted(p.name for p in tmp_path.iterdir())
    args = [a.format(existing=existing, tmp=tmp_path) for a in args]
    result = runner.invoke(args=["backup", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert existing.read_bytes() == b"an earlier backup"


def test_a_failed_copy_leaves_no_file(live, tmp_path, monkeypatch):
    path, runner = live
    path.write_bytes(b"not a database at all" * 200)  # the instance's file, damaged
    result = runner.invoke(args=["backup", "--out", str(tmp_path / "copy.db")])
    assert result.exit_code == 1
    assert "SQLite could not copy the database" in result.output
    assert not any(p.name.startswith(("copy.db", ".copy.db")) for p in tmp_path.iterdir())


def test_another_database_is_backed_up_with_its_own_tools(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/none",
            "SECRET_KEY": "x",
            "TESTING": True,
        }
    )
    result = app.test_cli_runner().invoke(args=["backup", "--out", str(tmp_path / "x.db")])
    assert result.exit_code == 1
    assert "the database is postgresql, not SQLite" in result.output and "pg_dump" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_database_that_is_not_there_is_said_plainly(tmp_path):
    """A wrong DATABASE_URL or instance folder in a cron line: a message, not a traceback,
    and no empty database made where the app's should be."""
    missing = tmp_path / "instance" / "hailong.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}", "SECRET_KEY": "x"})
    result = app.test_cli_runner().invoke(args=["backup", "--out", str(tmp_path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # no traceback
    assert f"there is no database at {missing}" in result.output
    assert "DATABASE_URL" in result.output
    assert not missing.exists() and sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_database_without_tables_says_to_upgrade_it(tmp_path):
    """Made by a command run before `db upgrade`: nothing worth keeping, and the way on said."""
    empty = tmp_path / "hailong.db"
    sqlite3.connect(empty).close()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{empty}", "SECRET_KEY": "x"})
    result = app.test_cli_runner().invoke(args=["backup", "--out", str(tmp_path / "copy.db")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "the database has no tables yet: run 'flask --app wsgi db upgrade' first" in (
        result.output
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hailong.db"]


def test_a_new_database_and_its_log_are_readable_by_their_owner_only(tmp_path):
    """Like a backup: the live file holds the same contact details and accounts."""
    path = tmp_path / "instance" / "hailong.db"
    path.parent.mkdir()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "x"})
    with app.app_context():
        upgrade_database()
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
        db.engine.dispose()
    assert modes == {"hailong.db": 0o600, "hailong.db-wal": 0o600, "hailong.db-shm": 0o600}
