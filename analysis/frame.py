"""Responses as numpy arrays, read through SQL or through the sealed blocks (blocks.py)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

import numpy as np
from sqlalchemy import func, select

from analysis import blocks, indicators, stats
from core.extensions import db
from core.models import local_day_start
from survey.models import CRITERIA, Channel, Exclusion, Response

CHANNELS = tuple(c.value for c in Channel)
EPOCH = date(1970, 1, 1)
BLANK = -1  # in the answers read from SQL; 0 is "no opinion", 1-5 the scale


@dataclass(frozen=True)
class ResponseFrame:
    """Every response's unit, local day, channel, questionnaire and indicators, as arrays.

    Rows are in order of unit, day and id: each unit's responses are one run, and those of a
    period a slice of it, so the per-unit sums need neither sorting nor copying per query.
    """

    unit_id: np.ndarray  # int64 (N,)
    day: np.ndarray  # int32 (N,), days since 1970-01-01 in Vietnam time
    channel: np.ndarray  # int8 (N,), index into CHANNELS
    questionnaire_id: np.ndarray  # int32 (N,)
    # The indicator columns (analysis/indicators.py) eight to a byte, as sealed: uint8 (N,
    # indicators.PACKED). Unpacked one unit's slice at a time where they are multiplied.
    packed: np.ndarray = field(repr=False)
    # Each unit's products per month (analysis/periods.py), kept by a server's frame from the
    # first query needing them; None in a frame read for one use, which keeps none.
    month_products: dict | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.unit_id)

    def subset(self, keep: np.ndarray) -> "ResponseFrame":
        """Return the rows where keep is true (or at these positions), in the same order."""
        return ResponseFrame(**{name: take_rows(getattr(self, name), keep) for name in ARRAYS})

    @cached_property
    def unit_day_keys(self) -> np.ndarray:
        """unit_id * 2^20 + day per row: sorted, as the rows are."""
        return blocks.unit_day_keys(self.unit_id, self.day)

    @cached_property
    def unit_runs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(unit ids, starts, ends) of each unit's run of rows."""
        starts, ends = stats.runs(self.unit_id)
        return self.unit_id[starts], starts, ends


ARRAYS = ("unit_id", "day", "channel", "questionnaire_id", "packed")


def day_number(d: date) -> int:
    return (d - EPOCH).days


def _packed_columns(dialect: str) -> tuple[str, str, str]:
    """Return SQL for the local day, the channel number and the answers packed as digits."""
    values = [f"coalesce({c.lower()}, 9)" for c in CRITERIA] + ["hk"]
    channel = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(CHANNELS))
    if dialect == "sqlite":
        # Whole seconds: julianday() rounds to milliseconds, so 23:59:59.9996 became the next day.
        day = "cast(julianday(substr(submitted_at, 1, 19)) - 2440587.5 + 7/24.0 as integer)"
        packed = f"printf('{'%d' * len(values)}', {', '.join(values)})"
    else:
        # Date arithmetic, not epoch / 86400 + 7/24: that numeric sum falls just short of a
        # whole day at local midnight, which put every 00:00:00 response on the day before.
        day = "(cast(submitted_at + interval '7 hours' as date) - date '1970-01-01')"
        packed = "concat(" + ", ".join(v.replace("hk", "cast(hk as int)") for v in values) + ")"
    return day, f"CASE channel {channel} END", packed


def load_frame(
    first_day: int | None = None, last_day: int | None = None, after_id: int | None = None
) -> ResponseFrame:
    """Read responses (optionally of local days first_day..last_day, or newer than after_id)."""
    sqlite = db.engine.dialect.name == "sqlite"
    # Excluded responses (README.md, "How far each answer can be trusted") never reach the figures.
    where = ["id NOT IN (SELECT response_id FROM exclusion WHERE undone_at IS NULL)"]
    params = {}
    for name, bound, op in (("start", first_day, ">="), ("end", last_day, "<")):
        if bound is None:
            continue
        # Local midnight is 17:00 UTC the day before: compare on the stored UTC time.
        moment = local_day_start(EPOCH + timedelta(days=bound if name == "start" else bound + 1))
        params[name] = moment.isoformat(" ", "microseconds") if sqlite else moment
        where.append(f"submitted_at {op} " + (f":{name}" if sqlite else f"%({name})s"))
    if after_id is not None:
        params["after"] = after_id
        where.append("id > " + (":after" if sqlite else "%(after)s"))
    return frame_of(read_columns(" AND ".join(where), params))


def read_columns(where: str, params: dict) -> blocks.Columns:
    """Return the figures' columns and ids of the responses matching an SQL condition."""
    day, channel, packed = _packed_columns(db.engine.dialect.name)
    sql = (
        f"SELECT id, unit_id, {day}, {channel}, questionnaire_id, {packed} "  # noqa: S608
        f"FROM response WHERE {where} ORDER BY id"
    )
    # The driver's own cursor: a million rows skip SQLAlchemy's per-row result processing.
    cursor = db.session.connection().connection.cursor()
    try:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    n = len(rows)
    if n == 0:
        return {name: np.zeros((0, *shape), dtype) for name, dtype, shape in blocks.FIELDS}
    columns = list(zip(*rows, strict=True))
    digits = np.frombuffer("".join(columns[5]).encode("ascii"), dtype=np.uint8)
    digits = digits.reshape(n, len(CRITERIA) + 1) - ord("0")
    answers = digits[:, :-1].astype(np.int8)
    answers[answers == 9] = BLANK
    x = indicators.from_answers(answers, digits[:, -1].astype(bool))
    return {
        "id": np.array(columns[0], dtype=np.int64),
        "unit_id": np.array(columns[1], dtype=np.int64),
        "day": np.array(columns[2], dtype=np.int32),
        "channel": np.array(columns[3], dtype=np.int8),
        "questionnaire_id": np.array(columns[4], dtype=np.int32),
        "packed": indicators.pack(x),
    }


def read_after(last_id: int) -> blocks.Columns:
    """Return the columns of the responses with an id above last_id, in id order."""
    placeholder = ":after" if db.engine.dialect.name == "sqlite" else "%(after)s"
    return read_columns(f"id > {placeholder}", {"after": last_id})


def stored_frame(first_day: int | None = None, last_day: int | None = None) -> ResponseFrame:
    """Read responses like load_frame, through the sealed blocks (analysis/blocks.py)."""
    columns = blocks.every_response(read_after)
    keep = not_excluded(columns["id"])
    if first_day is not None:
        keep &= columns["day"] >= first_day
    if last_day is not None:
        keep &= columns["day"] <= last_day
    return frame_of(columns, keep)


def not_excluded(ids: np.ndarray) -> np.ndarray:
    """Return where the responses with these ids are not excluded (README.md: "How far each
    answer can be trusted")."""
    excluded = db.session.scalars(
        select(Exclusion.response_id).where(Exclusion.undone_at.is_(None))
    ).all()
    return ~np.isin(ids, np.array(excluded, np.int64))


def response_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Response))


def frame_of(columns: blocks.Columns, keep: np.ndarray | None = None) -> ResponseFrame:
    """Return a frame of the columns (of the rows where keep is true), in unit, day, id order.

    The columns come as runs already in that order (sealed blocks, ids ascending from one to
    the next), then rows in id order: a stable sort of the unit-day keys orders the rows of a
    day by id, and numpy's stable sort of 64-bit keys (timsort) merges runs rather than sorting
    them again.
    """
    rows = np.arange(len(columns["unit_id"])) if keep is None else np.flatnonzero(keep)
    rows = rows.take(
        blocks.unit_day_order(columns["unit_id"].take(rows), columns["day"].take(rows))
    )
    return ResponseFrame(**{name: take_rows(columns[name], rows) for name in ARRAYS})


def take_rows(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Return array[rows] for positions or a mask: np.take, ten times faster on the packed rows."""
    if rows.dtype == bool:
        return np.compress(rows, array, axis=0)
    return np.take(array, rows, axis=0)


def with_newer(old: ResponseFrame, new: ResponseFrame) -> ResponseFrame:
    """Return old's rows with new's inserted in order (new's ids all come after old's)."""
    # After any old rows of the same unit and day: one copy of old, no sorting it again.
    at = np.searchsorted(old.unit_day_keys, new.unit_day_keys, side="right")
    touched = set(month_number(new.day).tolist())
    merged = ResponseFrame(
        **{name: np.insert(getattr(old, name), at, getattr(new, name), 0) for name in ARRAYS},
        month_products=None if old.month_products is None else _kept(old.month_products, touched),
    )
    # Its keys and runs from the two frames', not from every row again (at 5M responses 50-110
    # ms of each first request after a citizen answers): cached_property reads them from there.
    merged.__dict__["unit_day_keys"] = np.insert(old.unit_day_keys, at, new.unit_day_keys)
    units = np.union1d(old.unit_runs[0], new.unit_runs[0])
    starts = np.searchsorted(merged.unit_id, units, side="left")
    merged.__dict__["unit_runs"] = units, starts, np.searchsorted(merged.unit_id, units, "right")
    return merged


def _kept(months: dict, touched: set) -> dict:
    # dict() copies in one step, while another thread may be adding a month to the original.
    return {m: p for m, p in dict(months).items() if m not in touched}


def month_number(days: np.ndarray) -> np.ndarray:
    """Return the months (since January 1970) of day numbers."""
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_start(month: int) -> int:
    """Return the day number of a month's first day."""
    return int(np.datetime64(month, "M").astype("datetime64[D]").astype(np.int64))
