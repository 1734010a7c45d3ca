"""A period's products from whole months kept per frame plus the days around them."""

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from analysis import frame, periods, warm
from analysis.frame import ResponseFrame, day_number
from analysis.indexes import Query, compute
from analysis.indicators import WIDTH, pack, unpack
from core.extensions import db
from survey.models import CRITERIA
from survey.response_insert import import_responses

UNITS = {3: 0, 5: 1}  # unit id -> position; unit 8 is in the frame but not counted


def index_of(ids):
    return np.array([UNITS.get(int(i), -1) for i in ids], np.int64)


def d(y, m, day):
    return day_number(date(y, m, day))


def random_frame(seed: int, n: int = 3000) -> ResponseFrame:
    rng = np.random.default_rng(seed)
    unit = rng.choice([3, 5, 8], n)
    day = rng.integers(d(2024, 11, 1), d(2025, 4, 1), n)
    order = np.lexsort((day, unit))
    return ResponseFrame(
        unit_id=unit[order].astype(np.int64), day=day[order].astype(np.int32),
        channel=np.zeros(n, np.int8), questionnaire_id=np.ones(n, np.int32),
        packed=pack((rng.random((n, WIDTH)) < 0.4).astype(np.uint8)[order]), month_products={},
    )  # fmt: skip


def by_hand(f: ResponseFrame, first: int, end: int) -> np.ndarray:
    """Each counted unit's rows of the days first..end - 1, multiplied in float64."""
    out = np.zeros((len(UNITS), WIDTH, WIDTH))
    for unit, position in UNITS.items():
        x = unpack(f.packed[(f.unit_id == unit) & (f.day >= first) & (f.day < end)]).astype(float)
        out[position] = x.T @ x
    return out


@pytest.mark.parametrize(
    ("first", "end", "months"),
    [
        (d(2025, 1, 1), d(2025, 2, 1), ["2025-01"]),
        (d(2025, 1, 15), d(2025, 3, 10), ["2025-02"]),
        (d(2024, 12, 1), d(2025, 3, 1), ["2024-12", "2025-01", "2025-02"]),
        (d(2025, 1, 2), d(2025, 2, 1), []),
        (d(2025, 1, 1), d(2025, 1, 31), []),
        (d(2025, 1, 1), d(2025, 1, 1), []),
        (d(2025, 2, 1), d(2025, 1, 1), []),
    ],
)
def test_whole_months_of_a_period(first, end, months):
    found = [str(np.datetime64(m, "M")) for m in periods._whole_months(first, end)]
    assert found == months


def test_products_equal_the_rows_multiplied_at_once_for_any_period():
    f = random_frame(1)
    rng = np.random.default_rng(2)
    bounds = [(d(2024, 11, 1), d(2025, 4, 1)), (d(2025, 1, 1), d(2025, 4, 1))]
    bounds += [tuple(sorted(rng.integers(d(2024, 10, 20), d(2025, 4, 10), 2))) for _ in range(40)]
    for first, end in bounds:  # asked again and again: kept months are reused
        got = periods.period_products(f, int(first), int(end), index_of, len(UNITS))
        assert np.array_equal(got, by_hand(f, first, end)), (first, end)
    assert set(f.month_products) == set(range(658, 663))  # Nov 2024 .. Mar 2025
    held_units, held = f.month_products[660]  # January 2025, every unit of the frame
    assert held_units.tolist() == [3, 5, 8] and held.dtype == np.float32


def test_months_of_different_units_add_up_right():
    # Unit 5 had no answers in January, unit 3 none in December.
    f = random_frame(6)
    january = (f.unit_id == 5) & (f.day >= d(2025, 1, 1)) & (f.day < d(2025, 2, 1))
    december = (f.unit_id == 3) & (f.day >= d(2024, 12, 1)) & (f.day < d(2025, 1, 1))
    f = replace(f.subset(~(january | december)), month_products={})
    for first, end in [(d(2024, 11, 1), d(2025, 4, 1)), (d(2024, 11, 20), d(2025, 3, 5))]:
        got = periods.period_products(f, first, end, index_of, len(UNITS))
        assert np.array_equal(got, by_hand(f, first, end)), (first, end)
    for month, (units, products) in f.month_products.items():
        assert units.tolist() == [3, 5, 8]  # every month holds every unit of the frame
        if month == 660:  # January: zeros for unit 5
            assert not products[1].any() and products[0].any() and products[2].any()


def test_months_kept_from_before_a_new_unit_add_up_with_the_newer_ones():
    # Unit 5 answers for the first time after the frame's months were computed.
    f = random_frame(7)
    f = replace(f.subset(f.unit_id != 5), month_products={})
    first, end = d(2024, 12, 1), d(2025, 4, 1)
    periods.period_products(f, first, end, index_of, len(UNITS))  # months kept: units 3 and 8
    new = replace(random_frame(8, 40), month_products=None)
    new = new.subset((new.unit_id == 5) & (new.day >= d(2025, 3, 1)))  # March only
    merged = frame.with_newer(f, new)
    kept = {m: units.tolist() for m, (units, _) in merged.month_products.items()}
    assert kept and all(units == [3, 8] for units in kept.values())  # March was dropped
    got = periods.period_products(merged, first, end, index_of, len(UNITS))
    assert np.array_equal(got, by_hand(merged, first, end)) and got[1].any()


def test_a_frame_read_for_one_use_keeps_no_month():
    f = replace(random_frame(3), month_products=None)
    got = periods.period_products(f, d(2024, 11, 1), d(2025, 4, 1), index_of, len(UNITS))
    assert np.array_equal(got, by_hand(f, d(2024, 11, 1), d(2025, 4, 1)))
    assert f.month_products is None


def test_new_rows_drop_only_the_months_they_fall_in():
    f = random_frame(4)
    year = (d(2024, 11, 1), d(2025, 4, 1))
    periods.period_products(f, *year, index_of, len(UNITS))
    new = random_frame(5, n=40)
    keep = new.day >= d(2025, 2, 1)
    new = new.subset(keep & (new.day < d(2025, 3, 1)))  # February only
    both = frame.with_newer(f, new)
    assert set(both.month_products) == {658, 659, 660, 662}  # all but February
    got = periods.period_products(both, *year, index_of, len(UNITS))
    assert np.array_equal(got, by_hand(both, *year))
    assert np.array_equal(got - by_hand(new, *year), by_hand(f, *year))


def test_a_frame_keeps_at_most_months_bytes(monkeypatch):
    month = 3 * WIDTH * WIDTH * 4  # three units' products in float32
    monkeypatch.setattr(periods, "MONTHS_BYTES", 2 * month + month // 2)  # room for two months
    f = random_frame(6)
    for first, end in [(d(2024, 11, 1), d(2025, 2, 1)), (d(2025, 2, 1), d(2025, 4, 1))]:
        got = periods.period_products(f, first, end, index_of, len(UNITS))
        assert np.array_equal(got, by_hand(f, first, end))
        assert len(f.month_products) == 2
    assert set(f.month_products) == {661, 662}  # the most recently used


def test_a_servers_figures_equal_a_fresh_reads_for_any_period(tree, questionnaire):
    # Responses on every day from mid-December to early March, in two communes.
    days = np.arange(np.datetime64("2024-12-10"), np.datetime64("2025-03-06"))
    lines = [
        f"{unit},{day} 09:00,static," + ",".join([str(1 + (i + k) % 5)] * len(CRITERIA)) + ",no"
        for i, day in enumerate(days) for k, unit in enumerate(("26734", "26800"))
    ]  # fmt: skip
    header = ",".join(["unit_code", "submitted_at", "channel", *CRITERIA, "HK"]) + "\n"
    import_responses((header + "\n".join(lines) + "\n").encode())
    db.session.commit()
    served = warm.cached_frame()
    assert served.month_products == {}
    for first, last in [("2025-01-01", "2025-01-31"), ("2024-12-15", "2025-02-28"),
                        ("2024-12-01", "2025-03-31"), ("2025-01-05", "2025-01-20")]:  # fmt: skip
        q = Query(date.fromisoformat(first), date.fromisoformat(last))
        ours, fresh = compute(served, q), compute(frame.stored_frame(), q)
        assert np.array_equal(ours.n, fresh.n, equal_nan=True)
        assert np.array_equal(ours.estimate, fresh.estimate, equal_nan=True)
        assert np.array_equal(ours.ci_low, fresh.ci_low, equal_nan=True)
    assert set(served.month_products) >= {659, 660, 661}  # Dec 2024 .. Feb 2025 whole
