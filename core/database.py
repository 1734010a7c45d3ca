"""Connection settings that make SQLite safe for several workers."""

import os
from contextlib import suppress

from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from core.folding import SQLITE_FUNCTION, sqlite_fold

BUSY_TIMEOUT_MS = 10_000
# Ids and positions are INTEGER columns: 32 bits in PostgreSQL (64 in SQLite).
MAX_INTEGER = 2**31 - 1


class RowNumberConverter(IntegerConverter):
    """An <int:...> in a URL, at most the largest integer a column holds: a larger one names no
    row, and the database would refuse it (a 500) rather than find nothing."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INTEGER)
        super().__init__(map, *args, **kwargs)


def init_app(app) -> None:
    with app.app_context():
        from core.extensions import db

        if db.engine.dialect.name == "sqlite":
            _create_private(db.engine.url.database)
            event.listen(db.engine, "connect", _sqlite_pragmas)
            event.listen(db.engine, "checkin", _restore_cache_size)


def _create_private(database: str | None) -> None:
    """Make a new SQLite database file readable by its owner only, as a backup is
    (core/backup.py): it holds citizens' contact details and staff accounts. SQLite gives its
    write-ahead log and shared-memory files the database file's permissions. A file that
    exists keeps its own; where none can be made, SQLite says why when it connects."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    with suppress(OSError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()
    # The comments' search compares text folded alike on SQLite and PostgreSQL (core/folding.py).
    dbapi_connection.create_function(SQLITE_FUNCTION, 1, sqlite_fold, deterministic=True)


def large_cache(session, kib: int) -> None:
    """Give the session's SQLite connection a page cache of kib KiB until it goes back to the
    pool, where it gets its own again: a web worker's pooled connection would otherwise keep
    the large cache, and the memory it fills, for good. Nothing on other databases."""
    connection = session.connection()
    if not is_sqlite(connection.engine):
        return
    # Connection.info stays with the database connection from checkout to checkin.
    connection.info.setdefault(
        "cache_size", connection.exec_driver_sql("PRAGMA cache_size").scalar()
    )
    connection.exec_driver_sql(f"PRAGMA cache_size = {-int(kib)}")


def _restore_cache_size(dbapi_connection, record) -> None:
    size = record.info.pop("cache_size", None)
    if size is not None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA cache_size = {int(size)}")
        cursor.close()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
