"""Tidy index rows (one per unit and measure): what exports, the API and the pages show."""

from dataclasses import dataclass
from itertools import repeat

import numpy as np

from analysis.compare import change, earlier_query, shrunk_estimates, sibling_ranks
from analysis.frame import ResponseFrame, day_number, stored_frame
from analysis.indexes import MEASURES, IndexTable, Query, UnitTree, compute, load_tree
from analysis.pakn import PAKN_MEASURES, has_pakn_data, pakn_changes, pakn_figures
from analysis.warm import cached_frame

ALL_MEASURES = (*MEASURES, *PAKN_MEASURES)
COLUMNS = [
    "unit_code", "unit_name", "level", "period_start", "period_end",
    "measure", "n", "estimate", "ci_low", "ci_high", "flag",
]  # fmt: skip
CHANGE_COLUMNS = ["previous_estimate", "change", "change_ci_low", "change_ci_high", "significant"]
RANK_COLUMNS = ["rank", "rank_low", "rank_high", "rank_among"]
SHRINK_COLUMNS = ["shrunk_estimate", "shrunk_pooled"]
# Last, the weighting each row's figure was combined with (IndexTable.weighted_by): the one asked
# for, except a population-weighted parent that fell back to respondents; PAKN ratios are always
# summed counts, so "respondents".
WEIGHTING_COLUMNS = ["weighting"]


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
    """Return positions of the units asked for: one unit and its subtree, or one level; of
    those, only the units that existed during some part of the period, and the one asked for."""
    tree = table.tree
    chosen = tree.in_view(request.query)
    if request.unit_code:
        root = _position(tree, request.unit_code)
        chosen[root] = True
        chosen &= tree.below(root)
    if request.level:
        chosen &= np.array([level == request.level for level in tree.levels])
    return np.flatnonzero(chosen)


def _position(tree, code: str) -> int:
    if code not in tree.codes:
        raise UnknownUnit(code)
    return tree.codes.index(code)


def columns(request: Request) -> list[str]:
    extra = []
    if request.compare:
        extra += CHANGE_COLUMNS
    if request.ranks:
        extra += RANK_COLUMNS
    if request.shrink:
        extra += SHRINK_COLUMNS
    return COLUMNS + extra + WEIGHTING_COLUMNS


def _number(value) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def _numbers(values: np.ndarray, shown: np.ndarray | None = None) -> list[float | None]:
    """Return the values as Python's round(v, 6) would; None where not shown or not finite."""
    values = np.asarray(values, float)
    if shown is not None:
        values = np.where(shown, values, np.nan)
    scaled = values * 1e6
    result = (np.rint(scaled) / 1e6).tolist()
    # That is round(v, 6) except beside a tie, where v * 1e6 may have rounded across the half:
    # there Python's round, which works on v's exact decimal value (401/640 differs, say).
    with np.errstate(invalid="ignore"):
        near_tie = np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5) < 1e-6
    for i in np.flatnonzero(near_tie).tolist():
        result[i] = round(float(values[i]), 6)
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        result[i] = None
    return result


def _integers(values: np.ndarray, shown: np.ndarray) -> list[int | None]:
    return [int(v) if s else None for v, s in zip(values.tolist(), shown.tolist(), strict=True)]


def _take(items, positions: np.ndarray) -> list:
    return np.asarray(items, dtype=object)[positions].tolist()


def build_rows(
    request: Request, frame: ResponseFrame | None = None, tree: UnitTree | None = None
) -> tuple[list, list[dict]]:
    """Return (column names, rows) for the request; suppressed figures have no estimate."""
    names, values = build_columns(request, frame, tree)
    return names, rows_of(names, values)


def rows_of(names: list[str], values: dict[str, list]) -> list[dict]:
    """Return the rows held column by column in values as one dict per row."""
    rows = zip(*map(values.get, names), strict=True)
    return list(map(dict, map(zip, repeat(names), rows)))  # a quarter faster than a loop


def build_columns(
    request: Request, frame: ResponseFrame | None = None, tree: UnitTree | None = None
) -> tuple[list[str], dict[str, list]]:
    """Return (column names, {name: the column's cells}): the rows of build_rows, by column.

    Files are written column by column (export.to_csv), so they skip making a dict per row.
    The frame and the unit tree are read unless given (a page of many tables reads them once).
    """
    query = request.query
    if frame is None:
        frame = cached_frame()
    if tree is None:
        tree = load_tree()
    if request.unit_code and not (request.ranks or request.shrink or query.today_units):
        # A unit's figures and those under it come from its subtree alone: compute only that.
        # Ranks and shrinkage compare the unit with its siblings, outside it; today's units
        # take the answers of units merged into them from wherever those were.
        tree = tree.subtree(_position(tree, request.unit_code))
    table = compute(frame, query, tree)
    units = selected_units(table, request)
    measures = np.array([MEASURES.index(m) for m in request.measures if m in MEASURES], np.intp)
    # One row per unit and measure, unit after unit: built column by column.
    u, m = np.repeat(units, len(measures)), np.tile(measures, len(units))
    shown = table.shown()[u, m]
    values = {
        "unit_code": _take(tree.codes, u),
        "unit_name": _take(tree.names, u),
        "level": _take(tree.levels, u),
        "period_start": [query.first.isoformat()] * len(u),
        "period_end": [query.last.isoformat()] * len(u),
        "measure": _take(MEASURES, m),
        "n": np.nan_to_num(table.n[u, m]).astype(np.int64).tolist(),
        "estimate": _numbers(table.estimate[u, m], shown),
        "ci_low": _numbers(table.ci_low[u, m], shown),
        "ci_high": _numbers(table.ci_high[u, m], shown),
        "flag": table.flag[u, m].astype(str).tolist(),
        "weighting": table.weighted_by[u, m].tolist(),
    }
    if request.compare:
        earlier = compute(frame, earlier_query(query, request.compare), tree)
        diff = change(table, earlier)
        values["previous_estimate"] = _numbers(earlier.estimate[u, m], earlier.shown()[u, m])
        values["change"] = _numbers(diff.difference[u, m])
        values["change_ci_low"] = _numbers(diff.ci_low[u, m])
        values["change_ci_high"] = _numbers(diff.ci_high[u, m])
        values["significant"] = [
            None if c is None else bool(s)
            for c, s in zip(values["change"], diff.significant[u, m].tolist(), strict=True)
        ]
    if request.ranks:
        # Only the sibling groups of the rows asked for: a max-t stepdown per group costs.
        rank, low, high, among = sibling_ranks(table, parents=tree.parent[units])
        ranked = (m == MEASURES.index("overall")) & (rank[u] > 0)
        for name, figure in zip(RANK_COLUMNS, (rank, low, high, among), strict=True):
            values[name] = _integers(figure[u], ranked)
    if request.shrink:
        overall = (m == MEASURES.index("overall")) & shown
        shrunk, pooled = shrunk_estimates(table)
        values["shrunk_estimate"] = _numbers(shrunk[u], overall)
        values["shrunk_pooled"] = [
            bool(p) if s is not None else None
            for p, s in zip(pooled[u].tolist(), values["shrunk_estimate"], strict=True)
        ]
    names = columns(request)
    values = {name: values[name] for name in names}
    pakn = _pakn_rows_wanted(request)
    if pakn:
        # Each unit's PAKN rows follow its survey rows.
        pakn_values = pakn_figures(tree, query)
        if request.compare:
            earlier = pakn_figures(tree, earlier_query(query, request.compare))
            changes = pakn_changes(pakn_values, earlier)
            for measure, diff in changes.items():
                pakn_values[measure] |= {"earlier": earlier[measure], "change": diff}
        extra = [
            _pakn_row(request, tree, unit, measure, pakn_values[measure])
            for unit in units.tolist()
            for measure in pakn
        ]
        ours = np.arange(len(u)).reshape(len(units), len(measures))
        theirs = len(u) + np.arange(len(extra)).reshape(len(units), len(pakn))
        order = np.concatenate([ours, theirs], axis=1).ravel()
        values = {
            name: _take(column + [row[name] for row in extra], order)
            for name, column in values.items()
        }
    return names, values


def _pakn_rows_wanted(request: Request) -> list[str]:
    """PAKN measures asked for by name, or all of them by default where cases or receipts exist."""
    named = [m for m in request.measures if m in PAKN_MEASURES]
    if named:
        return named
    return list(PAKN_MEASURES) if request.measures == MEASURES and has_pakn_data() else []


def _pakn_row(request: Request, tree, u: int, measure: str, values: dict) -> dict:
    visible = values["flag"][u] != "suppressed"
    row = dict.fromkeys(columns(request))
    row.update(
        unit_code=tree.codes[u], unit_name=tree.names[u], level=tree.levels[u],
        period_start=request.query.first.isoformat(), period_end=request.query.last.isoformat(),
        measure=measure, n=int(values["n"][u]), flag=str(values["flag"][u]),
        weighting="respondents",
    )  # fmt: skip
    for key in ("estimate", "ci_low", "ci_high"):
        row[key] = _number(values[key][u]) if visible else None
    if "change" in values:
        earlier, diff = values["earlier"], values["change"]
        shown_before = earlier["flag"][u] != "suppressed"
        row["previous_estimate"] = _number(earlier["estimate"][u]) if shown_before else None
        row["change"] = _number(diff.difference[u])
        row["change_ci_low"] = _number(diff.ci_low[u])
        row["change_ci_high"] = _number(diff.ci_high[u])
        row["significant"] = None if row["change"] is None else bool(diff.significant[u])
    return row


def fresh_columns(request: Request) -> tuple[list[str], dict[str, list]]:
    """Build columns reading only the responses the request needs (for one-off exports)."""
    query = request.query
    first = query.first
    if request.compare:
        first = min(first, earlier_query(query, request.compare).first)
    return build_columns(request, stored_frame(day_number(first), day_number(query.last)))
