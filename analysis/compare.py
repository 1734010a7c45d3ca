"""Periods, changes between periods, sibling ranks with rank intervals, and shrinkage."""

import calendar
from dataclasses import replace
from datetime import date, timedelta

import numpy as np

from analysis import stats
from analysis.indexes import MEASURES, IndexTable, Query

PRESETS = ("month", "quarter", "year")
# The days a period may start and end, the same on the pages, in the API and the export command:
# no answer is older than 2000 (survey/response_rows.py), and a later year than 2100 is a typo.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
COMPARISONS = ("previous", "year")


def preset_period(preset: str, anchor: date) -> tuple[date, date]:
    """Return the month, quarter or year that contains anchor, as (first, last) days."""
    if preset == "month":
        first = anchor.replace(day=1)
    elif preset == "quarter":
        first = date(anchor.year, 3 * ((anchor.month - 1) // 3) + 1, 1)
    elif preset == "year":
        first = date(anchor.year, 1, 1)
    else:
        raise ValueError(f"preset must be one of {PRESETS}")
    months = {"month": 1, "quarter": 3, "year": 12}[preset]
    last_month = first.month + months - 1
    year, month = first.year + (last_month - 1) // 12, (last_month - 1) % 12 + 1
    return first, date(year, month, calendar.monthrange(year, month)[1])


def earlier_query(query: Query, mode: str) -> Query:
    """Return the period just before the query's, or the same period a year ago.

    The period before whole calendar months is as many months; any other, as many days.
    """
    if mode == "previous":
        last = query.first - timedelta(days=1)
        months = _whole_months(query.first, query.last)
        if months:  # the month, quarter or year before: Feb 1-29 before March, not Jan 30-Feb 29
            month = query.first.year * 12 + query.first.month - 1 - months
            return replace(query, first=date(month // 12, month % 12 + 1, 1), last=last)
        return replace(query, first=last - (query.last - query.first), last=last)
    if mode == "year":
        last = _year_before(query.last)
        if _whole_months(query.first, query.last):  # February 2025 against all of February 2024
            last = last.replace(day=calendar.monthrange(last.year, last.month)[1])
        return replace(query, first=_year_before(query.first), last=last)
    raise ValueError(f"comparison must be one of {COMPARISONS}")


def _whole_months(first: date, last: date) -> int:
    """Return how many calendar months first..last spans exactly, or 0."""
    if first.day != 1 or last.day != calendar.monthrange(last.year, last.month)[1]:
        return 0
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _year_before(d: date) -> date:
    day = min(d.day, calendar.monthrange(d.year - 1, d.month)[1])
    return d.replace(year=d.year - 1, day=day)


def change(current: IndexTable, earlier: IndexTable) -> stats.Difference:
    """Return current minus earlier for every unit and measure; NaN where either is hidden."""
    return stats.difference(
        earlier.estimate, _comparison_variance(earlier), current.estimate,
        _comparison_variance(current), shown=current.shown() & earlier.shown(),
    )  # fmt: skip


def sibling_ranks(table: IndexTable, measure: str = "overall", seed: int = 0, parents=None):
    """Rank each unit among its siblings with simultaneous rank intervals.

    Return (rank, lower, upper, group_size) arrays over units; 0 where a unit is not ranked
    (hidden figure, closed before the period, or fewer than two siblings with figures). With
    parents (positions), only their children are ranked; each group's ranks are the same
    either way.
    """
    m = MEASURES.index(measure)
    tree = table.tree
    size = len(tree)
    rank, lower, upper, count = (np.zeros(size, np.int64) for _ in range(4))
    # A figure of exactly 0 or 1 is ranked too, with the variance its interval implies.
    variance = _comparison_variance(table)[:, m]
    ok = table.shown()[:, m] & (variance >= 0) & tree.in_view(table.query)
    for parent in np.unique(tree.parent if parents is None else parents):
        members = np.flatnonzero((tree.parent == parent) & ok)
        if len(members) < 2:
            continue
        theta, var = table.estimate[members, m], variance[members]
        low, high = stats.rank_intervals(theta, var, seed=seed)
        rank[members] = stats.point_ranks(theta)
        lower[members], upper[members], count[members] = low, high, len(members)
    return rank, lower, upper, count


def _comparison_variance(table: IndexTable) -> np.ndarray:
    return stats.comparison_variance(table.variance, table.ci_low, table.ci_high)


def shrunk_estimates(table: IndexTable, measure: str = "overall") -> tuple[np.ndarray, np.ndarray]:
    """Return empirical-Bayes estimates among siblings (beside the raw ones, never instead), and
    where a unit's siblings differed no more than chance, so that each got the pooled value."""
    m = MEASURES.index(measure)
    tree = table.tree
    result = np.full(len(tree), np.nan)
    pooled = np.zeros(len(tree), bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(
            np.isfinite(table.n_eff[:, m]),
            table.n_eff[:, m],
            table.estimate[:, m] * (1 - table.estimate[:, m]) / table.variance[:, m],
        )
    # At 0 or 1 (everyone satisfied, or no-one) p(1-p)/V is 0/0: the respondents are the sample.
    n_eff = np.where(np.isfinite(n_eff) & (n_eff > 0), n_eff, table.n[:, m])
    for parent in np.unique(tree.parent):
        members = np.flatnonzero(
            (tree.parent == parent) & np.isfinite(table.estimate[:, m]) & np.isfinite(n_eff)
        )
        if len(members) < 3:
            continue
        n = n_eff[members]
        shrinkage = stats.beta_binomial_eb(table.estimate[members, m] * n, n)
        result[members], pooled[members] = shrinkage.posterior, shrinkage.pooled
    return result, pooled
