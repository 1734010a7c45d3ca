"""Tidy index rows (one per unit and measure): what exports, the API and the pages show."""

from dataclasses import dataclass

import numpy as np

from analysis.compare import change, earlier_query, shrunk_estimates, sibling_ranks
from analysis.frame import ResponseFrame, cached_frame, day_number, stored_frame
from analysis.indexes import MEASURES, IndexTable, Query, compute, load_tree
from analysis.pakn import PAKN_MEASURES, has_cases, pakn_figures

ALL_MEASURES = (*MEASURES, *PAKN_MEASURES)
COLUMNS = [
    "unit_code", "unit_name", "level", "period_start", "period_end",
    "measure", "n", "estimate", "ci_low", "ci_high", "flag",
]  # fmt: skip
CHANGE_COLUMNS = ["previous_estimate", "change", "change_ci_low", "change_ci_high", "significant"]
RANK_COLUMNS = ["rank", "rank_low", "rank_high", "rank_among"]
SHRINK_COLUMNS = ["shrunk_estimate"]


@dataclass(frozen=True)
class Request:
    """A query plus what to show of it."""

    query: Query
    level: str | None = None
    unit_code: str | None = None
    measures: tuple[str, ...] = MEASURES
    compare: str | None = None  # "previous" or "year"
    ranks: bool = False
    shrink: bool = False


class UnknownUnit(LookupError):
    pass


def selected_units(table: IndexTable, request: Request) -> np.ndarray:
    """Return positions of the units asked for: one unit and its subtree, or one level."""
    tree = table.tree
    chosen = np.ones(len(tree), bool)
    if request.unit_code:
        if request.unit_code not in tree.codes:
            raise UnknownUnit(request.unit_code)
        root = tree.codes.index(request.unit_code)
        chosen = _subtree(tree.parent, root)
    if request.level:
        chosen &= np.array([level == request.level for level in tree.levels])
    return np.flatnonzero(chosen)


def _subtree(parent: np.ndarray, root: int) -> np.ndarray:
    inside = np.zeros(len(parent), bool)
    inside[root] = True
    for i in range(root + 1, len(parent)):  # parents come before children
        if parent[i] >= 0 and inside[parent[i]]:
            inside[i] = True
    return inside


def columns(request: Request) -> list[str]:
    extra = []
    if request.compare:
        extra += CHANGE_COLUMNS
    if request.ranks:
        extra += RANK_COLUMNS
    if request.shrink:
        extra += SHRINK_COLUMNS
    return COLUMNS + extra


def _number(value) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def build_rows(request: Request, frame: ResponseFrame | None = None) -> tuple[list, list[dict]]:
    """Return (column names, rows) for the request; suppressed figures have no estimate."""
    query = request.query
    if frame is None:
        frame = cached_frame()
    tree = load_tree()
    table = compute(frame, query, tree)
    units = selected_units(table, request)
    measures = [MEASURES.index(m) for m in request.measures if m in MEASURES]
    pakn = _pakn_rows_wanted(request)
    pakn_values = pakn_figures(tree, query) if pakn else {}
    shown = table.shown()
    counts = np.nan_to_num(table.n).astype(np.int64)  # once, not np.nan_to_num per row
    diff = earlier = earlier_shown = None
    if request.compare:
        earlier = compute(frame, earlier_query(query, request.compare), tree)
        earlier_shown = earlier.shown()  # once: per row it made the loop quadratic
        diff = change(table, earlier)
    ranks = sibling_ranks(table) if request.ranks else None
    shrunk = shrunk_estimates(table) if request.shrink else None
    rows = []
    for u in units:
        for m in measures:
            visible = bool(shown[u, m])
            row = {
                "unit_code": tree.codes[u],
                "unit_name": tree.names[u],
                "level": tree.levels[u],
                "period_start": query.first.isoformat(),
                "period_end": query.last.isoformat(),
                "measure": MEASURES[m],
                "n": int(counts[u, m]),
                "estimate": _number(table.estimate[u, m]) if visible else None,
                "ci_low": _number(table.ci_low[u, m]) if visible else None,
                "ci_high": _number(table.ci_high[u, m]) if visible else None,
                "flag": str(table.flag[u, m]),
            }
            if diff is not None:
                row["previous_estimate"] = (
                    _number(earlier.estimate[u, m]) if earlier_shown[u, m] else None
                )
                row["change"] = _number(diff.difference[u, m])
                row["change_ci_low"] = _number(diff.ci_low[u, m])
                row["change_ci_high"] = _number(diff.ci_high[u, m])
                row["significant"] = (
                    bool(diff.significant[u, m]) if row["change"] is not None else None
                )
            if ranks is not None:
                overall = MEASURES[m] == "overall" and ranks[0][u] > 0
                row["rank"] = int(ranks[0][u]) if overall else None
                row["rank_low"] = int(ranks[1][u]) if overall else None
                row["rank_high"] = int(ranks[2][u]) if overall else None
                row["rank_among"] = int(ranks[3][u]) if overall else None
            if shrunk is not None:
                is_overall = MEASURES[m] == "overall"
                row["shrunk_estimate"] = _number(shrunk[u]) if is_overall and visible else None
            rows.append(row)
        for measure in pakn:
            rows.append(_pakn_row(request, tree, u, measure, pakn_values[measure]))
    return columns(request), rows


def _pakn_rows_wanted(request: Request) -> list[str]:
    """PAKN measures asked for by name, or all of them by default where PAKN data exists."""
    named = [m for m in request.measures if m in PAKN_MEASURES]
    if named:
        return named
    return list(PAKN_MEASURES) if request.measures == MEASURES and has_cases() else []


def _pakn_row(request: Request, tree, u: int, measure: str, values: dict) -> dict:
    visible = values["flag"][u] != "suppressed"
    row = dict.fromkeys(columns(request))
    row.update(
        unit_code=tree.codes[u], unit_name=tree.names[u], level=tree.levels[u],
        period_start=request.query.first.isoformat(), period_end=request.query.last.isoformat(),
        measure=measure, n=int(values["n"][u]), flag=str(values["flag"][u]),
    )  # fmt: skip
    for key in ("estimate", "ci_low", "ci_high"):
        row[key] = _number(values[key][u]) if visible else None
    return row


def fresh_rows(request: Request) -> tuple[list, list[dict]]:
    """Build rows reading only the responses the request needs (for one-off exports)."""
    query = request.query
    first = query.first
    if request.compare:
        first = min(first, earlier_query(query, request.compare).first)
    return build_rows(request, stored_frame(day_number(first), day_number(query.last)))
