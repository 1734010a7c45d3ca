"""A server's frame of every response, kept warm: read once, then only what has changed."""

import threading
import time
from dataclasses import dataclass, replace

from sqlalchemy import func, select

from analysis import blocks, frame
from core.extensions import db
from survey.models import Exclusion, Response

RECOUNT_SECONDS = 30


@dataclass
class _Held:
    """A server's frame of every response, and what it was read from."""

    responses: frame.ResponseFrame
    last_id: int  # the highest id read
    read: int  # responses read, excluded ones too: every id up to last_id
    version: int  # the responses' version (blocks.data_version) when read
    exclusions: tuple[int, int]  # exclusions and undone ones, when read
    counted_at: float


_cache: dict[str, _Held] = {}
_lock = threading.Lock()


def cached_frame() -> frame.ResponseFrame:
    """Return all responses, read again only when the responses or exclusions have changed."""
    # An append raises the highest id, and a deletion or an edit the responses' version: the
    # two say whether to read again, without a count of the table per request. Exclusions are
    # few and counted. One statement for the four.
    last_id, version, *exclusions = db.session.execute(
        select(
            select(func.coalesce(func.max(Response.id), 0)).scalar_subquery(),
            blocks.DATA_VERSION.scalar_subquery(),
            select(func.count()).select_from(Exclusion).scalar_subquery(),
            select(func.count(Exclusion.undone_at)).scalar_subquery(),
        )
    ).one()
    exclusions = tuple(exclusions)
    key, now = str(db.engine.url), time.monotonic()
    with _lock:
        held = _cache.get(key)
    if held is not None and (held.version, held.exclusions) != (version, exclusions):
        held = None
    if held is not None and now - held.counted_at >= RECOUNT_SECONDS:
        # On PostgreSQL ids can commit out of order (a long import beside live answers), and
        # anywhere a hand can insert a response with a lower id: one below the highest id read
        # may have come since. Count them now and then.
        if blocks.count_up_to(held.last_id) != held.read:
            held = None
        else:
            held.counted_at = now
    if held is None:
        columns = blocks.every_response(frame.read_after)
        every = frame.frame_of(columns, frame.not_excluded(columns["id"]))
        every = replace(every, month_products={})  # kept by month as queries need them
        held = _Held(every, _last(columns, 0), len(columns["id"]), version, exclusions, now)
    elif last_id > held.last_id:
        # Only the newer responses: read those and insert them, not the whole table again.
        new = frame.read_after(held.last_id)
        newer = frame.frame_of(new, frame.not_excluded(new["id"]))
        kept = frame.with_newer(held.responses, newer)
        held = _Held(kept, _last(new, held.last_id), held.read + len(new["id"]), version,
                     exclusions, held.counted_at)  # fmt: skip
    with _lock:
        _cache[key] = held
    return held.responses


def _last(columns: blocks.Columns, default: int) -> int:
    """Return the highest id read, not the one asked for before."""
    return int(columns["id"].max()) if len(columns["id"]) else default
