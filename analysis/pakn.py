"""Decision 766's PAKN figures per unit, summed over each unit's subtree, as index rows.

The ratios (cases handled on time, satisfaction with their handling, satisfaction with
procedures over the dossiers' receipt codes) come with Wilson intervals and the same flags as the
survey figures; the count of cases received has no estimate (it is not a proportion), only its n.
"""

import numpy as np
from sqlalchemy import select

from analysis import stats
from analysis.indexes import Query, UnitTree
from core.extensions import db
from core.models import local_today
from feedback import figures
from feedback.models import Case
from survey.models import ReceiptCode

PAKN_MEASURES = (
    "pakn:handled_on_time",
    "pakn:handling_satisfaction",
    "pakn:procedure_satisfaction",
    "pakn:received",
)
PAKN_RATIOS = PAKN_MEASURES[:3]  # pakn:received is a count: no estimate, no change


def has_pakn_data() -> bool:
    """Whether any PAKN case or any dossier's receipt code exists: what Decision 766 counts."""
    return any(
        db.session.scalar(select(column).limit(1)) is not None
        for column in (Case.id, ReceiptCode.id)
    )


def _subtree_sums(tree: UnitTree, values: np.ndarray) -> np.ndarray:
    """Add each unit's value into every unit above it (children come after parents)."""
    totals = values.astype(float)
    for i in range(len(tree) - 1, -1, -1):
        if tree.parent[i] >= 0:
            totals[tree.parent[i]] += totals[i]
    return totals


def pakn_figures(tree: UnitTree, query: Query) -> dict[str, dict[str, np.ndarray]]:
    """Return {measure: {n, estimate, ci_low, ci_high, flag}} arrays over the tree's units."""
    ids = [int(i) for i in tree.ids]
    today = local_today()
    on_time = figures.handled_on_time(ids, query.first, query.last, today)
    satisfaction = figures.handling_satisfaction(ids, query.first, query.last)
    received = figures.received(ids, query.first, query.last)
    procedures = figures.procedure_satisfaction(ids, query.first, query.last)

    def arrays(source, key):
        values = np.array([source[i][key] for i in ids], float)
        return tree.fold_mergers(values) if query.today_units else values

    result = {}
    for measure, n, x in (
        ("pakn:handled_on_time", arrays(on_time, "n"), arrays(on_time, "on_time")),
        ("pakn:handling_satisfaction", arrays(satisfaction, "n"),
         arrays(satisfaction, "n") - arrays(satisfaction, "dissatisfied")),
        ("pakn:procedure_satisfaction", arrays(procedures, "n"),
         arrays(procedures, "n") - arrays(procedures, "dissatisfied")),
    ):  # fmt: skip
        n, x = _subtree_sums(tree, n), _subtree_sums(tree, x)
        with np.errstate(divide="ignore", invalid="ignore"):
            estimate = np.where(n > 0, x / n, np.nan)
        low, high = stats.wilson(x, n)
        flag = stats.flag(n, np.full_like(n, np.nan), low, high)
        result[measure] = {"n": n, "estimate": estimate, "ci_low": low, "ci_high": high,
                           "flag": flag}  # fmt: skip
    count = _subtree_sums(tree, arrays(received, "total"))
    empty = np.full_like(count, np.nan)
    result["pakn:received"] = {"n": count, "estimate": empty, "ci_low": empty,
                               "ci_high": empty, "flag": np.full(len(ids), "")}  # fmt: skip
    return result


def pakn_changes(current: dict, earlier: dict) -> dict[str, stats.Difference]:
    """Return, per ratio, current minus earlier (pakn_figures of two periods) with its interval,
    as compare.change does for the survey figures; NaN where either figure is hidden."""
    result = {}
    for measure in PAKN_RATIOS:
        now, before = current[measure], earlier[measure]
        result[measure] = stats.difference(
            before["estimate"], _variance(before), now["estimate"], _variance(now),
            shown=_shown(now) & _shown(before),
        )  # fmt: skip
    return result


def _shown(figure: dict) -> np.ndarray:
    return (figure["flag"] != "suppressed") & np.isfinite(figure["estimate"])


def _variance(figure: dict) -> np.ndarray:
    """p(1 - p)/n, or at 0 and 1 the variance the Wilson interval implies."""
    p, n = figure["estimate"], figure["n"]
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = p * (1 - p) / n
    return stats.comparison_variance(variance, figure["ci_low"], figure["ci_high"])
