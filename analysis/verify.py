"""Every figure again, the slow and obvious way, to check the fast path against.

Plain ORM rows, counts in Python dictionaries, the formulas of docs/methods.md written out one
unit at a time, and a recursion down the unit tree. Only the composite variance comes from
stats.composite_from_rows, the per-respondent oracle that tests check against a bootstrap.
Decision 766's satisfaction with procedures is recounted from the receipt codes, their
responses and the PAKN that name them, one dossier at a time, against analysis/pakn.py's SQL.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

import numpy as np
from sqlalchemy import select

from analysis import indexes, stats
from analysis.frame import day_number, load_frame, stored_frame
from analysis.indexes import MEASURES, Query
from analysis.pakn import pakn_figures
from core.extensions import db
from core.models import LOCAL_OFFSET, Unit, local_today
from feedback.figures import PROCEDURE_TOPICS, rated_dissatisfied
from feedback.models import Case
from survey.models import CRITERIA, ELEMENTS, Exclusion, ReceiptCode, Response

Z = 1.959963984540054  # the 97.5% point of the standard normal
NAN = math.nan


@dataclass
class Figure:
    """One measure of one unit, as the slow path computes it."""

    n: float
    estimate: float = NAN
    variance: float = NAN
    ci_low: float = NAN
    ci_high: float = NAN
    n_eff: float = NAN  # NaN where the figure comes straight from the unit's own answers
    fewest: float = 0.0  # the n of its Wilson interval at 0 or 1: a composite's min_k n_k

    @property
    def has_data(self) -> bool:
        return math.isfinite(self.estimate) and math.isfinite(self.variance) and self.n > 0

    @property
    def flag(self) -> str:
        # A parent of 20 respondents is few_answers whatever its n_eff (docs/methods.md, Flags).
        size = self.n if math.isnan(self.n_eff) else min(self.n, self.n_eff)
        if self.n < 10:
            return "suppressed"
        if size < 30:
            return "few_answers"
        if self.ci_high - self.ci_low >= 0.30 - 1e-9:
            return "imprecise"
        return ""


def wilson(x: float, n: float) -> tuple[float, float]:
    """Return the Wilson score interval, written out as in docs/methods.md."""
    if not n > 0:
        return NAN, NAN
    p, z2 = x / n, Z * Z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    radicand = p * (1 - p) / n + z2 / (4 * n * n)
    half = Z * math.sqrt(radicand) / (1 + z2 / n) if radicand >= 0 else NAN
    low = 0.0 if x <= 0 else min(max(centre - half, 0.0), 1.0)
    high = 1.0 if x >= n else min(max(centre + half, 0.0), 1.0)
    return low, high


def proportion(x: int, n: int) -> Figure:
    if n == 0:
        return Figure(0)
    p = x / n
    return Figure(n, p, p * (1 - p) / n, *wilson(x, n), fewest=n)


def composite(answers: list[list], codes: list[str], weights: dict[str, float]) -> Figure:
    """Return a composite of the unit's answers to codes, with w_k as given."""
    columns = [CRITERIA.index(c) for c in codes]
    n = sum(any(a[k] is not None and 1 <= a[k] <= 5 for k in columns) for a in answers)
    if n == 0 or not weights:
        return Figure(n)
    answered = np.array([[v is not None and 1 <= v <= 5 for v in a] for a in answers])
    satisfied = np.array([[v is not None and v >= 4 for v in a] for a in answers])
    w = np.array([weights.get(c, 0.0) for c in CRITERIA])
    estimate, variance, low, high = (
        float(v) for v in stats.composite_from_rows(answered, satisfied, w)
    )
    fewest = min(int(answered[:, k].sum()) for k in range(len(CRITERIA)) if w[k] > 0)
    return Figure(n, estimate, variance, low, high, fewest=fewest)


def own_figures(rows: list[tuple[list, bool]]) -> dict[str, Figure]:
    """Return every measure of one unit from its own responses."""
    answered, satisfied = defaultdict(int), defaultdict(int)
    for answers, _hk in rows:
        for code, value in zip(CRITERIA, answers, strict=True):
            if value is not None and 1 <= value <= 5:  # 0 is "no opinion", None blank
                answered[code] += 1
                satisfied[code] += value >= 4
    present = {e: [c for c in CRITERIA if c[0] == e and answered[c]] for e in ELEMENTS}
    elements = [e for e in ELEMENTS if present[e]]
    answers = [a for a, _hk in rows]
    figures = {
        "overall": composite(
            answers,
            list(CRITERIA),
            {c: 1 / (len(elements) * len(present[e])) for e in elements for c in present[e]},
        )
    }
    for e in ELEMENTS:
        codes = [c for c in CRITERIA if c[0] == e]
        figures[f"element:{e}"] = composite(
            answers, codes, {c: 1 / len(present[e]) for c in present[e]}
        )
    for code in CRITERIA:
        figures[f"criterion:{code}"] = proportion(satisfied[code], answered[code])
    figures["household_register_asked"] = proportion(sum(hk for _a, hk in rows), len(rows))
    return figures


def combine(own: Figure, children: list[Figure], populations: list, weighting: str) -> Figure:
    """Return a parent's figure: its own answers and each child as independent strata."""
    weights = [child.n for child in children]
    with_data = [(c, pop) for c, pop in zip(children, populations, strict=True) if c.has_data]
    if weighting == "population" and all(pop is not None for _c, pop in with_data):
        mass, total = sum(c.n for c, _ in with_data), sum(pop for _c, pop in with_data)
        weights = [
            (mass * pop / total if total else NAN) if c.has_data else 0.0
            for c, pop in zip(children, populations, strict=True)
        ]
    strata = [(own, own.n), *zip(children, weights, strict=True)]
    ok = [(f, w) for f, w in strata if f.has_data and w > 0]
    n = own.n + sum(c.n for c in children)
    fewest = own.fewest + sum(c.fewest for c in children)
    # Where every stratum is at 0 or 1: their Wilson n summed, not all their respondents.
    pooled = sum(f.fewest for f, _w in ok)
    if not ok:
        return Figure(n, n_eff=pooled, fewest=fewest)
    total = sum(w for _f, w in ok)
    p = sum(w * f.estimate for f, w in ok) / total
    v = sum(w * w * f.variance for f, w in ok) / total**2
    n_eff = p * (1 - p) / v if v > 0 else NAN
    if not (math.isfinite(n_eff) and n_eff > 0):
        n_eff = pooled
    if len(ok) == 1:  # one stratum: its own interval, which Wilson on n_eff may narrow
        return Figure(n, p, v, ok[0][0].ci_low, ok[0][0].ci_high, n_eff=n_eff, fewest=fewest)
    return Figure(n, p, v, *wilson(p * n_eff, n_eff), n_eff=n_eff, fewest=fewest)


def _excluded() -> set[int]:
    return {e.response_id for e in db.session.scalars(select(Exclusion)) if e.undone_at is None}


def counted_as(query: Query):
    """Return the function giving the unit id a unit's answers count for: itself, or with
    today's units the last unit of its chain of mergers closed by today, walked one by one."""
    if not query.today_units:
        return lambda unit_id: unit_id
    today = local_today()
    units = {u.id: u for u in db.session.scalars(select(Unit))}

    def last(unit_id: int) -> int:
        unit = units.get(unit_id)
        while unit is not None and unit.merged_into_id and not unit.is_open_on(today):
            unit = units[unit.merged_into_id]
        return unit.id if unit is not None else unit_id

    return last


def slow_procedure_satisfaction(query: Query) -> dict[str, Figure]:
    """Return {unit code: Figure} of satisfaction with procedures, dossier by dossier."""
    excluded = _excluded()
    topics = {str(t) for t in PROCEDURE_TOPICS}
    named = {c.receipt_id for c in db.session.scalars(select(Case)) if c.topic in topics}
    own = defaultdict(lambda: [0, 0])  # unit id: [dossiers, dissatisfied]
    unit_of = counted_as(query)
    rows = select(ReceiptCode, Response).outerjoin(Response, Response.id == ReceiptCode.response_id)
    for receipt, response in db.session.execute(rows):
        if not query.first <= (receipt.created_at + LOCAL_OFFSET).date() <= query.last:
            continue
        dissatisfied = receipt.id in named
        if response is not None and response.id not in excluded:
            answers = [getattr(response, c.lower()) for c in CRITERIA]
            dissatisfied = dissatisfied or rated_dissatisfied(answers)
        own[unit_of(receipt.unit_id)][0] += 1
        own[unit_of(receipt.unit_id)][1] += dissatisfied
    units = list(db.session.scalars(select(Unit)))
    children = defaultdict(list)
    for unit in units:
        children[unit.parent_id].append(unit)
    result = {}

    def count(unit: Unit) -> tuple[int, int]:
        n, dissatisfied = own[unit.id]
        for child in children[unit.id]:
            child_n, child_dissatisfied = count(child)
            n, dissatisfied = n + child_n, dissatisfied + child_dissatisfied
        result[unit.code] = proportion(n - dissatisfied, n)
        return n, dissatisfied

    for root in children[None]:
        count(root)
    return result


def chosen_responses(query: Query) -> dict[int, list[tuple[list, bool]]]:
    """Return each unit's (answers, hk) for the responses the query counts."""
    excluded = _excluded()
    # A day's margin on each side of the UTC bounds; the exact local day is checked below.
    start = datetime.combine(query.first, time()) - timedelta(days=1)
    end = datetime.combine(query.last, time()) + timedelta(days=2)
    rows = select(Response).where(Response.submitted_at >= start, Response.submitted_at < end)
    by_unit = defaultdict(list)
    unit_of = counted_as(query)
    for r in db.session.scalars(rows.execution_options(yield_per=5000)):
        local_day = (r.submitted_at + LOCAL_OFFSET).date()
        if (
            query.first <= local_day <= query.last
            and (not query.channels or r.channel in query.channels)
            and (not query.questionnaire_ids or r.questionnaire_id in query.questionnaire_ids)
            and r.id not in excluded
        ):
            by_unit[unit_of(r.unit_id)].append(([getattr(r, c.lower()) for c in CRITERIA], r.hk))
    return by_unit


def slow_figures(query: Query) -> tuple[dict[str, dict[str, Figure]], int]:
    """Return {unit code: {measure: Figure}} and the number of responses counted."""
    units = list(db.session.scalars(select(Unit)))
    children = defaultdict(list)
    for unit in units:
        children[unit.parent_id].append(unit)
    rows = chosen_responses(query)
    result = {}

    def figures(unit: Unit) -> dict[str, Figure]:
        own = own_figures(rows.get(unit.id, []))
        below = [figures(child) for child in children[unit.id]]
        if below:
            # 0 is no population: unknown, as in indexes._population_weights.
            populations = [child.population or None for child in children[unit.id]]
            own = {
                m: combine(own[m], [b[m] for b in below], populations, query.weighting)
                for m in MEASURES
            }
        result[unit.code] = own
        return own

    for root in children[None]:
        figures(root)
    return result, sum(len(r) for r in rows.values())


def _same(fast: float, slow: float, tolerance: float) -> bool:
    if math.isnan(fast) or math.isnan(slow):
        return math.isnan(fast) and math.isnan(slow)
    return math.isclose(fast, slow, rel_tol=tolerance, abs_tol=1e-12)


def differences(query: Query, tolerance: float = 1e-9) -> tuple[list[str], int, int]:
    """Compare the fast path with the slow one; return (differences, figures checked, responses).

    Each of the fast path's readings is checked: the period alone, every response, every
    response through the sealed blocks (what exports read), and those as a server holds them,
    whole months summed from each unit's products per month (analysis/periods.py). Then
    pakn:procedure_satisfaction, whose fast path is SQL (analysis/pakn.py).
    """
    slow, responses = slow_figures(query)
    tree = indexes.load_tree()
    frames = {
        "period": load_frame(day_number(query.first), day_number(query.last)),
        "all": load_frame(),
        "blocks": stored_frame(),
        "months": replace(stored_frame(), month_products={}),
    }
    problems = []
    for path, frame in frames.items():
        table = indexes.compute(frame, query, tree)
        for u, code in enumerate(tree.codes):
            for m, measure in enumerate(MEASURES):
                figure = slow[code][measure]
                for name in ("n", "estimate", "ci_low", "ci_high"):
                    fast = float(getattr(table, name)[u, m])
                    if not _same(fast, getattr(figure, name), tolerance):
                        problems.append(
                            f"{code} {measure} {name} ({path}): fast {fast!r}, "
                            f"slow {getattr(figure, name)!r}"
                        )
                if str(table.flag[u, m]) != figure.flag:
                    problems.append(
                        f"{code} {measure} flag ({path}): fast {str(table.flag[u, m])!r}, "
                        f"slow {figure.flag!r}"
                    )
    measure = "pakn:procedure_satisfaction"
    fast = pakn_figures(tree, query)[measure]
    slow_pakn = slow_procedure_satisfaction(query)
    for u, code in enumerate(tree.codes):
        figure = slow_pakn[code]
        for name in ("n", "estimate", "ci_low", "ci_high"):
            value = float(fast[name][u])
            if not _same(value, getattr(figure, name), tolerance):
                problems.append(
                    f"{code} {measure} {name}: fast {value!r}, slow {getattr(figure, name)!r}"
                )
        if str(fast["flag"][u]) != figure.flag:
            problems.append(
                f"{code} {measure} flag: fast {str(fast['flag'][u])!r}, slow {figure.flag!r}"
            )
    return problems, len(tree.codes) * (len(MEASURES) + 1), responses
