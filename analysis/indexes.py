"""Index tables: every measure of every unit for a period, rolled up the unit tree.

A unit's own responses give its figures directly (Wilson for proportions, linearised logit
intervals for composites). A unit with children combines, as independent strata, its own
responses and each child's figure (docs/methods.md, "Roll-up"): weights by respondents by
default; by population on request, where the children share their respondents' weight in
proportion to population.
"""

from dataclasses import dataclass, field
from datetime import date

import numpy as np
from sqlalchemy import select

from analysis import mergers, periods, stats
from analysis.frame import CHANNELS, ResponseFrame, day_number
from analysis.indicators import ANY, HK, ONE, SATISFIED
from core.extensions import db
from core.models import Unit, local_today
from survey.models import CRITERIA, ELEMENTS

MEASURES = (
    "overall",
    *(f"element:{e}" for e in ELEMENTS),
    *(f"criterion:{c}" for c in CRITERIA),
    "household_register_asked",
)
WEIGHTINGS = ("respondents", "population")
OPEN = np.iinfo(np.int64).max  # the closing day of a unit that has not closed


@dataclass(frozen=True)
class Query:
    """What an analyst asks for: a period and the responses to count."""

    first: date
    last: date
    channels: tuple[str, ...] = ()
    questionnaire_ids: tuple[int, ...] = ()
    weighting: str = "respondents"
    # Today's units: each answer of a unit merged into another (closed by today) counts as
    # the last successor's of its chain of mergers, and only the units that exist today show.
    today_units: bool = False


@dataclass
class UnitTree:
    """Units in an order where every child comes after its parent."""

    ids: np.ndarray
    codes: list[str]
    names: list[str]
    levels: list[str]
    parent: np.ndarray  # position of the parent, -1 for a root
    depth: np.ndarray
    population: np.ndarray  # NaN where unknown
    # The day number (analysis.frame.day_number) each unit closed; OPEN for a unit not closed.
    closed: np.ndarray
    # The position of the unit each unit's answers go to among today's units: the last of its
    # chain of mergers closed by today; -1 for a unit that did not merge, -2 for one whose
    # successor is outside the tree (a subtree's).
    successor: np.ndarray
    position: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def open_during(self, first: date) -> np.ndarray:
        """Return where the units existed for some part of a period starting on the day: a
        unit closed on the first day or before has no part in it."""
        return self.closed > day_number(first)

    def in_view(self, query: Query) -> np.ndarray:
        """Return where the units are part of the query's table: those that existed during
        some part of its period, or with today's units those that exist today."""
        if query.today_units:
            return self.closed > day_number(local_today())
        return self.open_during(query.first)

    def fold_mergers(self, values: np.ndarray) -> np.ndarray:
        """Return per-unit values with each merged unit's counted as its successor's."""
        return mergers.fold(values, self.successor)

    def below(self, root: int) -> np.ndarray:
        """Return where the units are the one at position root or under it."""
        inside = np.zeros(len(self), bool)
        inside[root] = True
        for i in range(root + 1, len(self)):  # parents come before children
            if self.parent[i] >= 0 and inside[self.parent[i]]:
                inside[i] = True
        return inside

    def subtree(self, root: int) -> "UnitTree":
        """Return the tree of the unit at position root and the units under it, rooted there."""
        keep = np.flatnonzero(self.below(root))
        moved = np.full(len(self), -1, np.int64)
        moved[keep] = np.arange(len(keep))
        parent, successor = self.parent[keep], self.successor[keep]
        return UnitTree(
            ids=self.ids[keep],
            codes=[self.codes[i] for i in keep],
            names=[self.names[i] for i in keep],
            levels=[self.levels[i] for i in keep],
            parent=np.where(parent >= 0, moved[parent], -1),
            depth=self.depth[keep],
            population=self.population[keep],
            closed=self.closed[keep],
            successor=np.where(
                successor >= 0, np.where(moved[successor] >= 0, moved[successor], -2), successor
            ),
            position={int(unit): i for i, unit in enumerate(self.ids[keep])},
        )

    def index_of(self, unit_ids: np.ndarray) -> np.ndarray:
        lookup = np.full(int(self.ids.max(initial=0)) + 1, -1, np.int64)
        lookup[self.ids] = np.arange(len(self.ids))
        inside = unit_ids < len(lookup)
        result = np.full(len(unit_ids), -1, np.int64)
        result[inside] = lookup[unit_ids[inside]]
        return result


def load_tree() -> UnitTree:
    rows = db.session.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.level, Unit.parent_id, Unit.path,
               Unit.population, Unit.closed_on, Unit.merged_into_id).order_by(Unit.path)
    ).all()  # fmt: skip
    position = {row.id: i for i, row in enumerate(rows)}
    closed = np.array(
        [OPEN if r.closed_on is None else day_number(r.closed_on) for r in rows], np.int64
    )
    into = np.array([position.get(r.merged_into_id, -1) for r in rows], np.int64)
    return UnitTree(
        ids=np.array([r.id for r in rows], np.int64),
        codes=[r.code for r in rows],
        names=[r.name for r in rows],
        levels=[r.level for r in rows],
        parent=np.array([position.get(r.parent_id, -1) for r in rows], np.int64),
        depth=np.array([r.path.count("/") - 2 for r in rows], np.int64),
        population=np.array(
            [np.nan if r.population is None else r.population for r in rows], float
        ),
        closed=closed,
        successor=mergers.last_successors(into, closed <= day_number(local_today())),
        position=position,
    )


@dataclass
class IndexTable:
    """Units × MEASURES arrays of figures for one query."""

    query: Query
    tree: UnitTree
    n: np.ndarray  # respondents (answers, for a criterion) under the unit
    estimate: np.ndarray
    variance: np.ndarray
    n_eff: np.ndarray  # NaN where the figure comes straight from the unit's own answers
    ci_low: np.ndarray
    ci_high: np.ndarray
    flag: np.ndarray
    # The weighting each figure was combined with: the query's, except "respondents" where a
    # population-weighted parent had a child with answers but no population.
    weighted_by: np.ndarray

    def shown(self) -> np.ndarray:
        """Return where a figure may be shown (not suppressed for too few answers)."""
        return (self.flag != "suppressed") & np.isfinite(self.estimate)


def select_rows(frame: ResponseFrame, query: Query) -> np.ndarray:
    """Return the mask of responses inside the query's period, channels and versions."""
    mask = (frame.day >= day_number(query.first)) & (frame.day <= day_number(query.last))
    if query.channels:
        codes = [CHANNELS.index(c) for c in query.channels]
        mask &= np.isin(frame.channel, codes)
    if query.questionnaire_ids:
        mask &= np.isin(frame.questionnaire_id, query.questionnaire_ids)
    return mask


def _products(frame: ResponseFrame, query: Query, tree: UnitTree) -> np.ndarray:
    """Return per unit of the tree the products x.T @ x of the query's indicator rows."""
    if query.channels or query.questionnaire_ids:
        return periods.chosen_products(frame, select_rows(frame, query), tree.index_of, len(tree))
    # Rows are in order of unit and day: a period is one slice of each unit's run, and its
    # whole months are kept per frame (analysis/periods.py).
    first, end = day_number(query.first), day_number(query.last) + 1
    return periods.period_products(frame, first, end, tree.index_of, len(tree))


def own_figures(frame: ResponseFrame, query: Query, tree: UnitTree):
    """Return n, estimate, variance, low, high and fewest (units × measures) from each unit's
    own answers; fewest is the n of the Wilson interval at 0 or 1: a composite's min_k n_k."""
    size = len(tree)
    sums = _products(frame, query, tree)
    if query.today_units:
        sums = tree.fold_mergers(sums)
    totals = sums[:, ONE]  # products with the column of ones: each column's sum per unit
    r, y = slice(0, len(CRITERIA)), slice(SATISFIED, SATISFIED + len(CRITERIA))
    rr, yr, yy = sums[:, r, r], sums[:, y, r], sums[:, y, y]
    present = totals[:, r] > 0
    by_element = stats.element_weights(CRITERIA, present)
    composites = [("overall", stats.overall_weights(CRITERIA, present))]
    composites += [(e, by_element[e]) for e in ELEMENTS]

    shape = (size, len(MEASURES))
    n, est, var, low, high, fewest = (np.full(shape, np.nan) for _ in range(6))
    centred = stats.centred_sums(rr, yr, yy)  # shared by the six weightings
    for m, (name, weights) in enumerate(composites):
        respondents = totals[:, ANY[name]]
        c = stats.composite_from_sums(rr, yr, yy, respondents, weights, centred=centred)
        n[:, m], est[:, m], var[:, m], low[:, m], high[:, m] = respondents, *c
        fewest[:, m] = stats.fewest_answers(totals[:, r], weights)
    first = len(composites)
    x = np.concatenate([totals[:, y], totals[:, [HK]]], 1)
    count = np.concatenate([totals[:, r], totals[:, [ONE]]], 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / count
    n[:, first:], est[:, first:] = count, p
    var[:, first:] = p * (1 - p) / count
    low[:, first:], high[:, first:] = stats.wilson(x, count)
    fewest[:, first:] = count
    return n, est, var, low, high, np.where(np.isfinite(fewest), fewest, 0.0)


def compute(frame: ResponseFrame, query: Query, tree: UnitTree | None = None) -> IndexTable:
    """Compute every measure of every unit for the query, rolled up the tree."""
    if query.weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}")
    tree = tree or load_tree()
    n, est, var, low, high, fewest = own_figures(frame, query, tree)
    n_eff = np.full_like(est, np.nan)
    weighted_by = np.full(est.shape, query.weighting, dtype=object)
    for depth in range(int(tree.depth.max(initial=0)), 0, -1):
        children = np.flatnonzero((tree.depth == depth) & (tree.parent >= 0))
        if len(children):
            figures = (n, est, var, low, high, n_eff, fewest)
            _roll_up(tree, children, query.weighting, figures, weighted_by)
    flags = stats.flag(n, n_eff, low, high)
    return IndexTable(query, tree, n, est, var, n_eff, low, high, flags, weighted_by)


def _roll_up(tree, children, weighting, figures, weighted_by) -> None:
    """Replace the figures of these children's parents by the stratified combination, and
    mark in weighted_by the parents that fell back to respondent weights."""
    n, est, var, low, high, n_eff, fewest = figures
    # The sorted distinct parents; np.unique would import numpy.ma on its first call, 10 ms of
    # every fresh export.
    parents = np.flatnonzero(np.bincount(tree.parent[children]))
    # No early return when no child has data: a parent is always the combination of its strata,
    # else its own answers' interval would depend on whether some unrelated unit had answers.
    has_data = np.isfinite(est[children]) & np.isfinite(var[children]) & (n[children] > 0)
    strata = np.concatenate([parents, children])  # each parent's own answers, then children
    group = np.concatenate([parents, tree.parent[children]])
    weight = np.nan_to_num(n[strata])
    if weighting == "population":
        by_population, fell_back = _population_weights(tree, children, n, has_data)
        weight[len(parents) :] = by_population
        weighted_by[fell_back] = "respondents"
    m = len(MEASURES)
    flat_group = (group[:, None] * m + np.arange(m)).ravel()
    r = stats.rollup(
        est[strata].ravel(), var[strata].ravel(), weight.ravel(),
        parent=flat_group, n=fewest[strata].ravel(),
        intervals=(low[strata].ravel(), high[strata].ravel()),
    )  # fmt: skip
    width = tree.parent.size * m
    for target, values in ((est, r.estimate), (var, r.variance), (n_eff, r.n_eff),
                           (low, r.ci_low), (high, r.ci_high)):  # fmt: skip
        padded = np.full(width, np.nan)
        padded[: len(values)] = values
        target[parents] = padded.reshape(-1, m)[parents]
    # A parent's respondents, and its Wilson n at 0 or 1 (each stratum's summed, as n_eff
    # falls back to: all respondents would be narrower than its children's own intervals).
    for count in (n, fewest):
        below = np.zeros_like(count)
        np.add.at(below, tree.parent[children], np.nan_to_num(count[children]))
        count[parents] = np.nan_to_num(count[parents]) + below[parents]


def _population_weights(tree, children, n, has_data) -> tuple[np.ndarray, np.ndarray]:
    """Share each parent's children's respondents among them by population; return those
    weights (children × measures) and where a parent fell back to respondents (units ×
    measures)."""
    # A population of 0 at a unit with answers is no population: unknown, not a weight of 0,
    # which would drop its answers from its parent's figure (or leave the parent none at all).
    population = tree.population[children]
    pop = np.where(population > 0, population, np.nan)[:, None] * has_data
    parent = tree.parent[children]
    size = len(tree)
    weights = np.zeros_like(pop, dtype=float)
    fell_back = np.zeros((size, pop.shape[1]), dtype=bool)
    for m in range(pop.shape[1]):
        mass = np.bincount(parent, np.nan_to_num(n[children, m]) * has_data[:, m], size)
        total_pop = np.bincount(parent, np.nan_to_num(pop[:, m]), size)
        unknown = np.bincount(parent, np.isnan(pop[:, m]) & has_data[:, m], size) > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            by_pop = mass[parent] * np.nan_to_num(pop[:, m]) / total_pop[parent]
        # A parent with a child of unknown population falls back to respondent weights.
        weights[:, m] = np.where(unknown[parent], np.nan_to_num(n[children, m]), by_pop)
        fell_back[:, m] = unknown
    return weights, fell_back
