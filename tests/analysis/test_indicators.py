"""The 0/1 columns behind every figure, and their packing in the sealed blocks."""

import numpy as np

from analysis import indicators
from survey.models import CRITERIA, ELEMENTS


def by_hand(row: list[int], hk: bool) -> list[int]:
    """One response's columns, the obvious way: a criterion is answered when 1-5."""
    answered = [int(a >= 1) for a in row]
    satisfied = [int(a >= 4) for a in row]
    per_element = [
        int(any(a for a, c in zip(answered, CRITERIA, strict=True) if c[0] == e)) for e in ELEMENTS
    ]
    return [*answered, *satisfied, *per_element, int(any(answered)), int(hk), 1]


def test_columns_match_a_response_worked_by_hand():
    # A1 5, A2 blank, A3 no opinion, B... blank; C1 3; E3 4; every other criterion blank.
    row = [-1] * len(CRITERIA)
    row[0], row[2] = 5, 0
    row[CRITERIA.index("C1")], row[CRITERIA.index("E3")] = 3, 4
    x = indicators.from_answers(np.array([row], np.int8), np.array([True]))
    assert x.shape == (1, indicators.WIDTH) and x.dtype == np.uint8
    k = len(CRITERIA)
    assert np.flatnonzero(x[0, :k]).tolist() == [0, CRITERIA.index("C1"), CRITERIA.index("E3")]
    assert np.flatnonzero(x[0, k : 2 * k]).tolist() == [0, CRITERIA.index("E3")]
    any_e = {e: x[0, indicators.ANY[e]] for e in indicators.ANY}
    assert any_e == {"A": 1, "B": 0, "C": 1, "D": 0, "E": 1, "overall": 1}
    assert (x[0, indicators.HK], x[0, indicators.ONE]) == (1, 1)


def test_columns_match_the_obvious_computation_on_random_answers():
    rng = np.random.default_rng(5)
    answers = rng.integers(-1, 6, (2000, len(CRITERIA))).astype(np.int8)
    answers[rng.random(2000) < 0.05] = -1  # some answered nothing at all
    hk = rng.random(2000) < 0.1
    x = indicators.from_answers(answers, hk)
    assert x.flags.c_contiguous
    expected = [by_hand(r, h) for r, h in zip(answers.tolist(), hk.tolist(), strict=True)]
    assert x.tolist() == expected


def test_packing_keeps_every_column():
    rng = np.random.default_rng(6)
    x = (rng.random((1001, indicators.WIDTH)) < 0.5).astype(np.uint8)
    packed = indicators.pack(x)
    assert packed.shape == (1001, indicators.PACKED) and packed.dtype == np.uint8
    back = indicators.unpack(packed)
    assert back.flags.c_contiguous and np.array_equal(back, x)
