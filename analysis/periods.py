"""The sums every figure comes from: per unit, x.T @ x over the indicator rows of a period
(or of the rows a filter chose: chosen_products).

Multiplying every response's columns is most of a warm request's time (0.3 s for a year of 5M
responses). A server's frame (analysis/warm.py) therefore keeps each unit's products per
calendar month once a query has needed them, and a period's products are those of its whole
months plus the rows of the days before and after them: a year or a quarter is a sum of small
matrices. Sums of 0/1 products are whole numbers, so this is exact, equal to multiplying the
period's rows at once. New responses (frame.with_newer) drop the kept months they fall in; an
exclusion builds a new frame, which keeps nothing yet. A frame read for one use (an export
command) keeps none: multiplying each unit's slice of the period at once is cheaper when done
only once.
"""

import threading

import numpy as np

from analysis import stats
from analysis.blocks import unit_day_keys
from analysis.frame import ResponseFrame, month_number, month_start, take_rows
from analysis.indicators import WIDTH

# A frame's kept months at most, in bytes: a month is 8.5 MB for 1,000 units (46 x 46 float32
# each), so 30 months of a province; a larger tree keeps fewer, the least recently used going.
MONTHS_BYTES = 256 << 20
_lock = threading.Lock()


def period_products(frame: ResponseFrame, first: int, end: int, index_of, size: int) -> np.ndarray:
    """Return the products (size x W x W) of the rows of days first..end - 1 per unit.

    index_of maps unit ids to positions 0..size - 1 (-1: not counted).
    """
    months = _whole_months(first, end) if frame.month_products is not None else []
    if not months:
        return _day_products(frame, first, end, index_of, size)
    sums = _day_products(frame, first, month_start(months[0]), index_of, size)
    sums += _day_products(frame, month_start(months[-1] + 1), end, index_of, size)
    # Months of the same units (a frame's all are, but those kept from before a unit's first
    # answer: frame.with_newer) are added up as they are, then placed at the units' positions
    # once: placing each month was 3/4 of a warm year's time.
    # Whole numbers: float32 sums are exact while below 2^24, as they are under that many rows.
    dtype = np.float32 if len(frame) < stats.EXACT_FLOAT32_ROWS else np.float64
    added = {}
    for month in months:
        units, products = month_products(frame, month)
        key = units.tobytes()
        if key in added:
            np.add(added[key][1], products, out=added[key][1])
        else:
            added[key] = units, products.astype(dtype)
    for units, products in added.values():
        positions = index_of(units)
        known = positions >= 0
        sums[positions[known]] += products[known]
    return sums


def month_products(frame: ResponseFrame, month: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (unit ids, their products) of a month's rows, computed once per frame.

    The units are all the frame's, zeros for those without answers that month: the months of
    a frame have the same units, so that a period adds its months up as they are (a month kept
    by frame.with_newer from before a new unit's first answer has the units it had).
    """
    with _lock:
        held = frame.month_products.pop(month, None)
    if held is None:
        every_unit = frame.unit_runs[0]
        units, starts, ends = _slices(frame, month_start(month), month_start(month + 1))
        products = stats.grouped_products(
            frame.packed, starts, ends, np.searchsorted(every_unit, units), len(every_unit),
            WIDTH,
        )  # fmt: skip
        units = every_unit
        # Whole numbers below 2^24 are exact in float32, at half the memory.
        exact = products.max(initial=0) < stats.EXACT_FLOAT32_ROWS
        held = units, products.astype(np.float32) if exact else products
    with _lock:
        months = frame.month_products
        months[month] = held  # the most recently used last
        while len(months) > 1 and sum(p.nbytes for _u, p in months.values()) > MONTHS_BYTES:
            del months[next(iter(months))]
    return held


def _whole_months(first: int, end: int) -> list[int]:
    """Return the months lying wholly within days first..end - 1."""
    if end <= first:
        return []
    start, last = (int(m) for m in month_number(np.array([first, end - 1])))
    if month_start(start) < first:
        start += 1
    if month_start(last + 1) > end:
        last -= 1
    return list(range(start, last + 1))


def chosen_products(frame: ResponseFrame, chosen: np.ndarray, index_of, size: int) -> np.ndarray:
    """Return the products (size x W x W) of the chosen rows (a mask) per unit."""
    rows = np.flatnonzero(chosen)
    units = frame.unit_id[rows]
    starts, ends = stats.runs(units)
    return _unit_products(take_rows(frame.packed, rows), units[starts], starts, ends, index_of,
                          size)  # fmt: skip


def _day_products(frame: ResponseFrame, first: int, end: int, index_of, size: int) -> np.ndarray:
    units, starts, ends = _slices(frame, first, end)
    return _unit_products(frame.packed, units, starts, ends, index_of, size)


def _unit_products(packed, units, starts, ends, index_of, size: int) -> np.ndarray:
    """Sum x[s:e].T @ x[s:e] of each slice at its unit's position; units without one left out.

    packed: the rows' indicator columns eight to a byte (frame.packed, or some of its rows).
    """
    positions = index_of(units)
    known = positions >= 0
    return stats.grouped_products(packed, starts[known], ends[known], positions[known], size,
                                  WIDTH)  # fmt: skip


def _slices(frame: ResponseFrame, first: int, end: int):
    """Return (unit ids, starts, ends) of the units' rows of days first..end - 1, where any."""
    units, _, _ = frame.unit_runs
    keys = frame.unit_day_keys
    starts = np.searchsorted(keys, unit_day_keys(units, first))
    ends = np.searchsorted(keys, unit_day_keys(units, max(end, first)))
    some = ends > starts
    return units[some], starts[some], ends[some]
