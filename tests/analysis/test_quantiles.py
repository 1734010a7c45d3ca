"""analysis.quantiles: numpy-only quantiles, checked against scipy.special and known values.

scipy is the oracle here; the module itself must not import it. Where scipy.special.stdtrit
is itself inexact (close to the median, and in extreme tails) the checks use values computed
to 40 digits with mpmath instead, written out below.
"""

import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import special

from analysis.quantiles import expit, logit, normal_quantile, t_quantile

ROOT = Path(__file__).resolve().parents[2]

GRID_DF = np.unique(
    np.concatenate(
        [
            np.arange(1.0, 201.0),
            np.round(np.logspace(np.log10(201.0), 7.0, 60)),
            np.logspace(0.0, 7.0, 57),  # mostly non-integer
            [1.0001, 1.25, 1.5, math.sqrt(2.0), 2.5, 3.7, 5.5, 19.99, 20.01, 37.25, 99.9],
            [1234.5678, 12345.678, 7.77e5, 3.3e6],
        ]
    )
)
GRID_P = np.array(
    [
        1e-6,
        0.0001 / (199 * 200),
        0.05 / (200 * 199) / 2,
        1e-4,
        0.005,
        0.025,
        0.05,
        0.1,
        0.3,
        0.5,
        0.7,
        0.9,
        0.95,
        0.975,
        0.995,
        0.999999,
    ]
)


def rel_err(actual, expected):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    return np.abs(actual - expected) / np.abs(expected)


def test_t_quantile_matches_scipy_on_grid():
    df, p = GRID_DF[:, None], GRID_P[None, :]
    ours, theirs = t_quantile(df, p), special.stdtrit(df, p)
    assert ours.shape == theirs.shape == (GRID_DF.size, GRID_P.size)
    median = p == 0.5
    assert (ours[:, median[0]] == 0.0).all()
    # Measured: at most 7.4e-15 (df = 6, p = 0.995: scipy's own error, ours is 2e-17 against
    # 40-digit values), median 2e-16.
    assert rel_err(ours[:, ~median[0]], theirs[:, ~median[0]]).max() <= 1e-13


def test_t_quantile_single_values_take_the_same_path_as_arrays():
    # Single values are computed in plain floats, arrays with numpy: the same algorithm.
    grid = t_quantile(GRID_DF[:, None], GRID_P[None, :])
    for i, df in enumerate(GRID_DF):
        for j, p in enumerate(GRID_P):
            single = t_quantile(df, p)
            assert isinstance(single, np.float64)
            assert abs(single - grid[i, j]) <= 4e-15 * abs(grid[i, j]), (df, p)


# (df, p, quantile to 20 digits), from mpmath at 40 digits (p as the double it is written as).
# scipy 1.17's stdtrit is off by the relative amount in the comment.
HIGH_PRECISION = [
    (1.0, 0.4999, -0.00031415927569437069231),  # scipy 5e-13
    (4.0, 0.4999, -0.00026666667061725468335),  # scipy 1.6e-9
    (4.0, 0.5001, 0.00026666667061725468335),  # scipy 1.6e-9
    (2.9, 0.2, -0.98382751977045960087),  # scipy 4e-13
    (2.5, 0.8, 1.0101638747222389413),  # scipy 1e-14
    (10.0, 0.49, -0.025702893008090309743),
    (1.5, 1e-6, -5219.469324706945951),
    (3.7, 0.3, -0.57243538413884980288),
    (19.5, 0.45, -0.12730837364474411784),
    (20.5, 1e-6, -6.5389465562294137521),
    (37.25, 0.025, -2.0257335447752265852),
    (60.0, 1e-9, -7.0569715766666691771),
    (7.0, 0.9999, 7.063432828157638827),
    (1e6, 1e-6, -4.7534523482796808065),
    (1e7, 0.025, -1.9599642217672054666),
    (0.5, 0.025, -164.55767348048851485),  # df < 1 works too
]


@pytest.mark.parametrize(("df", "p", "expected"), HIGH_PRECISION)
def test_t_quantile_against_high_precision_values(df, p, expected):
    assert rel_err(t_quantile(df, p), expected) <= 4e-15
    assert rel_err(t_quantile(np.array([df]), p)[0], expected) <= 4e-15


def test_t_quantile_published_values():
    # The two-sided 95% points of the usual t table, to double precision at p = 0.975 (the
    # double nearest 0.975): 40-digit values rounded. t(0.975, 1) = tan(0.475 pi) for p exactly
    # 0.975, 12.7062047361747046; t(0.975, 10) is 2.22813885198627422.
    table = {
        1: 12.706204736174694,
        2: 4.302652729749462,
        10: 2.2281388519862744,
        30: 2.0422724563012378,
        120: 1.9799304050824404,
    }
    for df, expected in table.items():
        assert rel_err(t_quantile(df, 0.975), expected) <= 1e-15
        assert rel_err(t_quantile(df, 0.025), -expected) <= 1e-15
        assert rel_err(special.stdtrit(df, 0.975), expected) <= 1e-15
    assert math.isclose(t_quantile(1, 0.75), 1.0, rel_tol=1e-15)  # the Cauchy quartile


def test_normal_quantile_published_value():
    # The exact quantile at the double nearest 0.975 is 1.95996398454005386; scipy's ndtri
    # gives 1.959963984540054, one ulp above it, AS241 one ulp below.
    z = normal_quantile(0.975)
    assert isinstance(z, float)
    assert math.isclose(z, 1.959963984540054, rel_tol=4e-16)
    assert math.isclose(z, 1.95996398454005386, rel_tol=2e-16)
    assert normal_quantile(0.5) == 0.0


def test_t_quantile_closed_forms():
    p = np.linspace(0.25, 0.75, 101)  # p - 1/2 is exact here
    assert rel_err(t_quantile(1.0, p[p != 0.5]), np.tan(np.pi * (p[p != 0.5] - 0.5))).max() < 4e-16
    p = np.concatenate([np.logspace(-12, -1, 23), np.linspace(0.1, 0.9, 17)])
    two = (2 * p - 1) / np.sqrt(2 * p * (1 - p))
    assert rel_err(t_quantile(2.0, p[p != 0.5]), two[p != 0.5]).max() < 1e-15


def test_t_quantile_infinite_df_is_the_normal_quantile():
    p = np.concatenate([np.logspace(-300, -1, 50), np.linspace(0.1, 0.9, 16), [0.975, 0.999999]])
    assert (t_quantile(np.inf, p) == normal_quantile(p)).all()
    assert t_quantile(np.inf, 0.975) == normal_quantile(0.975)
    # and huge finite df tends to it
    assert rel_err(t_quantile(1e300, p), normal_quantile(p)).max() < 1e-15


@pytest.mark.parametrize(
    ("df", "p", "expected"),
    [
        (np.nan, 0.3, np.nan),
        (0.0, 0.3, np.nan),
        (-1.0, 0.3, np.nan),
        (-np.inf, 0.3, np.nan),
        (5.0, np.nan, np.nan),
        (5.0, -0.1, np.nan),
        (5.0, 1.1, np.nan),
        (5.0, np.inf, np.nan),
        (5.0, -np.inf, np.nan),
        (np.nan, np.nan, np.nan),
        (5.0, 0.0, -np.inf),
        (5.0, 1.0, np.inf),
        (1.0, 0.0, -np.inf),
        (np.inf, 0.0, -np.inf),
        (np.inf, 1.0, np.inf),
        (0.3, 0.0, -np.inf),
        (5.0, 0.5, 0.0),
        (1.0, 0.5, 0.0),
        (np.inf, 0.5, 0.0),
        (0.5, 0.5, 0.0),
        # Beyond the largest float: -1 / (pi 1e-310) for df = 1, about -3e309 for df = 1.0001.
        (1.0, 1e-310, -np.inf),
        (1.0001, 1e-310, -np.inf),
        (0.01, 1e-300, -np.inf),
    ],
)
def test_t_quantile_special_values(df, p, expected):
    # scipy agrees, except that it returns +inf at p = 0 and garbage or +inf beyond the floats.
    single, array = t_quantile(df, p), t_quantile(np.array([df, df]), np.array([p, p]))
    for value in (single, *array):
        if np.isnan(expected):
            assert np.isnan(value)
        else:
            assert value == expected


def test_t_quantile_extreme_tails():
    # Far beyond what the app needs, but finite and right (scipy is not, here).
    cases = [
        (3.0, 1e-300, -1.0331108360446529e100),
        (30.0, 5e-324, -300187201203.11761),
        (1000.0, 5e-324, -58.263765237171187),
        (1.5, 1e-300, -5.2194694273446363e199),
        (0.5, 1e-100, -1.028491156e199),
    ]
    for df, p, expected in cases:
        assert rel_err(t_quantile(df, p), expected) < 1e-9
        assert rel_err(t_quantile(np.array([df]), p)[0], expected) < 1e-9


def test_t_quantile_broadcasts():
    df = np.arange(1.0, 51.0)
    by_df = t_quantile(df, 0.025)
    assert by_df.shape == (50,)
    assert rel_err(by_df, special.stdtrit(df, 0.025)).max() < 1e-13
    p = np.linspace(0.01, 0.99, 7)
    by_p = t_quantile(12, p)
    assert by_p.shape == (7,)
    assert rel_err(by_p[p != 0.5], special.stdtrit(12, p)[p != 0.5]).max() < 1e-13
    both = t_quantile(df[:, None], p[None, :])
    assert both.shape == (50, 7)
    assert (both[:, 3] == 0).all() and (both[11] == by_p).all() and (both[:, 0] < 0).all()
    assert t_quantile([[3.0], [30.0]], [0.1, 0.9]).shape == (2, 2)
    mixed = t_quantile([5.0, np.nan, 0.0, np.inf], 0.975)
    assert np.isnan(mixed[1:3]).all() and mixed[3] == normal_quantile(0.975)
    assert rel_err(mixed[0], special.stdtrit(5, 0.975)) < 1e-13
    assert np.ndim(t_quantile(5, 0.975)) == 0 and np.ndim(t_quantile(np.float64(5), 0.975)) == 0
    assert t_quantile(np.array(5.0), np.array(0.975)) == t_quantile(5, 0.975)
    assert t_quantile(np.array([], dtype=float), 0.025).shape == (0,)


def test_t_quantile_is_monotone_across_methods():
    # The expansion takes over from Newton's method at df = 20 (later in far tails).
    p = np.linspace(1e-6, 1 - 1e-6, 2001)
    for df in (1.0, 1.5, 2.0, 3.0, 7.7, 19.99, 20.0, 20.01, 35.0, 1e3, 1e6):
        assert (np.diff(t_quantile(df, p)) > 0).all(), df
    df = np.linspace(1.0, 80.0, 7901)
    for p in (1e-6, 1e-3, 0.025, 0.2, 0.45):
        assert (np.diff(t_quantile(df, p)) >= 0).all(), p


def test_normal_quantile_matches_scipy():
    p = np.concatenate([np.logspace(-300, -1, 300), np.linspace(0.1, 0.9, 81)])
    p = np.concatenate([p, 1 - p[(p < 0.5) & (p > 1e-15)]])
    ours = normal_quantile(p)
    assert isinstance(ours, np.ndarray) and ours.shape == p.shape
    assert rel_err(ours[p != 0.5], special.ndtri(p[p != 0.5])).max() < 2e-15
    assert all(normal_quantile(float(v)) == z for v, z in zip(p, ours, strict=True))
    edges = np.array([0.0, 1.0, -0.5, 1.5, np.nan])
    expected = [-np.inf, np.inf, np.nan, np.nan, np.nan]
    np.testing.assert_array_equal(normal_quantile(edges), expected)
    np.testing.assert_array_equal([normal_quantile(float(v)) for v in edges], expected)
    np.testing.assert_array_equal(special.ndtri(edges), expected)


def test_logit_and_expit_match_scipy():
    p = np.concatenate(
        [np.linspace(0.0, 1.0, 10001), [1e-300, 5e-324, 1 - 1e-16, -0.1, 1.1, np.nan, np.inf]]
    )
    ours, theirs = logit(p), special.logit(p)
    assert (np.isnan(ours) == np.isnan(theirs)).all()
    infinite = np.isinf(theirs)
    assert (ours[infinite] == theirs[infinite]).all() and infinite.sum() == 2
    ok = np.isfinite(theirs) & (theirs != 0)
    assert rel_err(ours[ok], theirs[ok]).max() < 4e-16  # within an ulp: same formulas
    x = np.concatenate([np.linspace(-750.0, 750.0, 30001), [np.inf, -np.inf, np.nan, -0.0]])
    ours, theirs = expit(x), special.expit(x)
    assert (np.isnan(ours) == np.isnan(theirs)).all()
    ok = ~np.isnan(theirs) & (theirs > 0)
    assert rel_err(ours[ok], theirs[ok]).max() < 4e-16
    assert (ours[~np.isnan(theirs) & (theirs == 0)] == 0).all()
    assert isinstance(logit(0.25), np.float64) and isinstance(expit(0.25), np.float64)
    assert logit(0.0) == -np.inf and logit(1.0) == np.inf and np.isnan(logit(2.0))
    assert expit(logit(0.3)) == pytest.approx(0.3, rel=1e-15)


def test_neither_it_nor_the_app_imports_scipy():
    """scipy costs a tenth of a second at every start; the export and the pages do without it."""
    code = (
        "import sys, wsgi, analysis.quantiles, analysis.stats, analysis.tables, analysis.cli; "
        "print('scipy' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"


def test_no_warnings_escape():
    # pyproject already turns warnings into errors in tests; this holds without that too.
    df = np.array([np.nan, -1.0, 0.0, 0.01, 1.0, 1.0001, 2.0, 7.0, 50.0, 1e9, np.inf])
    p = np.array([np.nan, -1.0, 0.0, 5e-324, 1e-300, 0.3, 0.5, 1 - 1e-16, 1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t_quantile(df[:, None], p[None, :])
        for one_df in df:
            for one_p in p:
                t_quantile(one_df, one_p)
        normal_quantile(p)
        logit(p)
        expit(np.array([-1e4, 1e4, np.nan, -np.inf]))
