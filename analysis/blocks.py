"""Sealed blocks: the figures' columns of old responses, kept as arrays in the database.

Reading a million responses through SQL costs seconds (twenty columns of each row become Python
objects, then arrays); reading the same columns from a few blobs costs tens of milliseconds.
The app only ever appends responses, so a block of consecutive ids stays true while nothing else
changes them (see below): it holds every response with first_id <= id <= last_id, and only the
newer ones (the tail) are read from the response table. A tail of SEAL_AT responses or more is
sealed into new blocks by the reader that finds it. Exclusions change, so they are applied when
reading, never stored here.

A block's rows are in the order analysis reads them in, of unit, day and id (frame.py). Reading
then merges a few sorted runs, which costs a tenth of sorting a million rows (bench/README.md).

Blocks are checked before each use: their layout must be this code's, they must not overlap,
they must carry the responses' version (analysis/models.py: ResponseVersion), which triggers
raise when a response is deleted or what the figures read of it is edited, by the app or by
hand, and when a block's row is; and the response table must still hold as many responses up
to the last sealed id as the blocks do (which sees a response committed below it: on
PostgreSQL one whose id was taken before a block was sealed, or one inserted with its id given
by hand; and a block deleted by hand). Anything else drops every block, and they are sealed
again from the response table.
"""

import logging
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from typing import NamedTuple

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import DBAPIError

from analysis import indicators
from analysis.models import ResponseBlock, ResponseVersion
from core.database import BUSY_TIMEOUT_MS
from core.extensions import db
from survey.models import Response

SEAL_AT = 4096
DAY_SPAN = 1 << 20  # unit_day_keys: days 0..2^20 - 1 reach the year 4840
BLOCK_ROWS = 262_144  # about 12 MB of columns per block
FIELDS = (
    ("id", np.dtype("<i8"), ()),
    ("unit_id", np.dtype("<i8"), ()),
    ("day", np.dtype("<i4"), ()),
    ("channel", np.dtype("i1"), ()),
    ("questionnaire_id", np.dtype("<i4"), ()),
    ("packed", np.dtype("u1"), (indicators.PACKED,)),  # analysis/indicators.py
)
LAYOUT = "3;" + ",".join(f"{n}:{t.str}{list(s)}" for n, t, s in FIELDS) + ";" + indicators.LAYOUT

Columns = dict[str, np.ndarray]
log = logging.getLogger(__name__)


def encode(columns: Columns) -> bytes:
    """Return the columns of some responses as one blob, field after field."""
    return b"".join(np.ascontiguousarray(columns[n], dtype).tobytes() for n, dtype, _ in FIELDS)


def decode(data: bytes, count: int) -> Columns:
    """Return the columns held in a blob of count responses."""
    columns, offset = {}, 0
    for name, dtype, shape in FIELDS:
        items = count * int(np.prod(shape, dtype=np.int64))
        array = np.frombuffer(data, dtype, items, offset)
        columns[name] = array.reshape((count, *shape))
        offset += items * dtype.itemsize
    if offset != len(data):
        raise ValueError(f"a block of {count} responses has {len(data)} bytes, not {offset}")
    return columns


def unit_day_keys(unit_id: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Return unit_id * 2^20 + day: in the order of unit, then day."""
    return unit_id.astype(np.int64) * DAY_SPAN + day


def unit_day_order(unit_id: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Return the positions that put rows in order of unit, then day, keeping the order of the
    rows of one day (a block's ids ascending): the order of sealed blocks and of frames."""
    return np.argsort(unit_day_keys(unit_id, day), kind="stable")


def every_response(read_after: Callable[[int], Columns]) -> Columns:
    """Return the columns of every response, excluded ones too: block after block, each in
    order of unit, day and id, then the newer responses in id order.

    read_after(last_id) reads the responses with a higher id from the response table.
    """
    sqlite = db.engine.dialect.name == "sqlite"
    with _snapshot() if sqlite else nullcontext():
        # PostgreSQL reads the blocks with their bytes, in one statement for one view of them.
        blocks, version = _valid_blocks(with_data=not sqlite)
        return _joined(blocks, _tail(blocks, version, read_after))


def _joined(blocks: list, tail: Columns) -> Columns:
    """Return the blocks' columns, then the tail's, each field in one array."""
    total = sum(b.count for b in blocks) + len(tail["id"])
    columns = {name: np.empty((total, *shape), dtype) for name, dtype, shape in FIELDS}
    at = 0
    for block in blocks:
        targets = [columns[name][at : at + block.count] for name, _, _ in FIELDS]
        if block.data is None:
            _read_into(block.id, targets)
        else:
            for target, values in zip(targets, decode(block.data, block.count).values(),
                                      strict=True):  # fmt: skip
                target[...] = values
        at += block.count
    for name, _, _ in FIELDS:
        columns[name][at:] = tail[name]
    return columns


PIECE = 1 << 18  # 256 kB: freed pieces are reused, not mapped anew (1 MB: 40 % more faults)


def _read_into(rowid: int, targets: list[np.ndarray]) -> None:
    """Copy a block's bytes into its fields' arrays a piece at a time, by SQLite's blob I/O.

    Selecting the value made SQLite assemble it, then Python copy it: at a million responses
    62 MB of new memory for the 31 MB of arrays, and in a fresh process new memory costs more
    than the copying (a page fault every 4 kB).
    """
    driver = db.session.connection().connection.driver_connection
    with driver.blobopen("response_block", "data", rowid, readonly=True) as blob:
        if len(blob) != sum(t.nbytes for t in targets):
            raise ValueError(f"block {rowid} has {len(blob)} bytes, not the fields' size")
        for target in targets:
            flat = target.reshape(-1).view(np.uint8)  # rows of a C-ordered array: a view
            for start in range(0, len(flat), PIECE):
                piece = blob.read(min(PIECE, len(flat) - start))
                flat[start : start + len(piece)] = np.frombuffer(piece, np.uint8)


@contextmanager
def _snapshot():
    """Hold one SQLite read transaction while the blocks are checked and read.

    Their rows are read by rowid after the check, and SQLite gives a deleted row's rowid to the
    next row: blocks sealed again by another process in between must not be read instead.
    """
    driver = db.session.connection().connection.driver_connection
    if driver.in_transaction:  # this session has written: its transaction is the one view
        yield
        return
    driver.execute("BEGIN")
    try:
        yield
    finally:
        driver.commit()  # it only read: this ends the transaction


def seal_newer(read_after: Callable[[int], Columns]) -> None:
    """Seal the responses newer than the last block, when there are SEAL_AT of them or more."""
    _tail(*_valid_blocks(), read_after)


def _tail(blocks: list, version: int, read_after: Callable[[int], Columns]) -> Columns:
    """Return the responses newer than the blocks, sealing them when there are enough.

    version was read before the tail: a change in between leaves the new blocks stale, to be
    sealed again by the next reader, never trusted.
    """
    tail = read_after(blocks[-1].last_id if blocks else 0)
    if len(tail["id"]) >= SEAL_AT:
        _seal(tail, version)
    return tail


def status() -> tuple[int, int]:
    """Return (responses sealed, blocks)."""
    sealed, count = db.session.execute(
        select(func.coalesce(func.sum(ResponseBlock.count), 0), func.count())
    ).one()
    return int(sealed), int(count)


# The responses' version: the deletions and edits of responses (and of blocks) that the
# triggers of migration 0008 counted; 0 before the first.
DATA_VERSION = select(func.coalesce(func.max(ResponseVersion.version), 0))


def data_version() -> int:
    return db.session.scalar(DATA_VERSION)


def count_up_to(last_id: int) -> int:
    """Return how many responses the table holds with an id up to last_id.

    Counted as all of them less the newer ones, in one statement: SQLite counts a whole table
    from its smallest index, and a range of ids row by row (at a million responses, 15 ms
    against 50 when the newer ones are few).
    """
    every = select(func.count()).select_from(Response).scalar_subquery()
    newer = select(func.count()).select_from(Response).where(Response.id > last_id)
    return db.session.scalar(select(every - newer.scalar_subquery()))


def _valid_blocks(with_data: bool = False) -> tuple[list, int]:
    """Return the sealed blocks in id order, or none after dropping them if any is wrong, and
    the responses' version they were checked against."""
    version = data_version()
    blocks = _read_blocks(with_data)
    if not blocks:
        return [], version
    ordered = all(a.last_id < b.first_id for a, b in zip(blocks, blocks[1:], strict=False))
    current = all(b.layout == LAYOUT and b.data_version == version for b in blocks)
    held = sum(b.count for b in blocks)
    if ordered and current and count_up_to(blocks[-1].last_id) == held:
        return blocks, version
    log.warning("response blocks no longer match the responses: sealing them again")
    _write(lambda conn: conn.execute(delete(ResponseBlock)))
    return [], version


class Block(NamedTuple):
    id: int
    first_id: int
    last_id: int
    count: int
    layout: str
    data_version: int
    data: bytes | None  # None when read without it


def _read_blocks(with_data: bool) -> list[Block]:
    columns = "id, first_id, last_id, count, layout, data_version, "
    columns += "data" if with_data else "NULL"
    sql = f"SELECT {columns} FROM response_block ORDER BY first_id"  # noqa: S608 - constants
    # The driver's cursor: on PostgreSQL it can take bytea as bytes, where text (hex) would
    # double what crosses and cost 0.3 s more for a million responses.
    cursor = db.session.connection().connection.cursor()
    try:
        if db.engine.dialect.name == "postgresql":
            cursor.execute(sql, binary=True)
        else:
            cursor.execute(sql)
        return [Block(*row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def _seal(tail: Columns, version: int) -> None:
    """Store the tail's responses as blocks of up to BLOCK_ROWS."""
    rows = []
    for start in range(0, len(tail["id"]), BLOCK_ROWS):
        part = {name: tail[name][start : start + BLOCK_ROWS] for name, _, _ in FIELDS}
        ids = part["id"]
        first_id, last_id = int(ids[0]), int(ids[-1])  # the tail is in id order
        order = unit_day_order(part["unit_id"], part["day"])
        part = {name: np.take(part[name], order, axis=0) for name, _, _ in FIELDS}
        rows.append({"first_id": first_id, "last_id": last_id, "count": len(ids),
                     "layout": LAYOUT, "data_version": version,
                     "data": encode(part)})  # fmt: skip
    _write(lambda conn: conn.execute(insert(ResponseBlock), rows))


def _write(change: Callable) -> None:
    """Apply a change to the blocks in a transaction of its own; a failure only costs speed.

    Another reader may have sealed the same responses first (first_id is unique), a writer may
    hold the lock, or the database may be a read-only replica: the responses stay readable
    from the response table either way. A held lock is waited for only briefly.
    """
    try:
        with db.engine.begin() as conn:
            sqlite = conn.dialect.name == "sqlite"
            conn.exec_driver_sql("PRAGMA busy_timeout = 200" if sqlite
                                 else "SET LOCAL lock_timeout = '200ms'")  # fmt: skip
            try:
                change(conn)
            finally:
                if sqlite:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except DBAPIError as e:
        log.info("response blocks not written: %s", e.orig)
