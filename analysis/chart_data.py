"""The numbers behind the analyst pages' charts: rows of a unit's children, months, ranks."""

from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np
from flask_babel import gettext as _
from sqlalchemy import select

from analysis import charts
from analysis.forms import Filters, month_spans
from analysis.frame import ResponseFrame, day_number
from analysis.indexes import UnitTree, load_tree
from analysis.presenting import (
    Figure,
    axis_pct,
    figure,
    measure_names,
    period_text,
    rank_sentence,
)
from analysis.tables import Request, build_rows
from analysis.warm import cached_frame
from core.extensions import db
from core.i18n import day, month
from core.models import Unit
from survey.models import ELEMENTS

TABLE_MEASURES = ("overall", *(f"element:{e}" for e in ELEMENTS), "household_register_asked")
MAX_MONTHS = 60


@dataclass
class Chosen:
    """The filters a page was asked for, its unit, and any mistakes in them."""

    filters: Filters
    unit: Unit | None
    errors: list[str]
    levels: list[str]


def table_request(chosen: Chosen, measures=TABLE_MEASURES) -> Request:
    f = chosen.filters
    return Request(
        f.query(),
        level=f.level or None,
        unit_code=chosen.unit.code if chosen.unit else None,
        measures=measures,
        compare=f.compare or None,
    )


def children_rows(chosen: Chosen, **request_options) -> tuple[dict, list[dict]]:
    """Return the chosen unit's row and those of the units directly under it."""
    unit = chosen.unit
    _columns, rows = build_rows(
        Request(chosen.filters.query(), unit_code=unit.code, **request_options)
    )
    children = set(db.session.scalars(select(Unit.code).where(Unit.parent_id == unit.id)))
    parent = next(r for r in rows if r["unit_code"] == unit.code)
    return parent, [r for r in rows if r["unit_code"] in children]


def forest_chart(chosen: Chosen) -> tuple[str, Figure, list[tuple[dict, Figure]]]:
    measure = chosen.filters.measure
    parent, kids = children_rows(chosen, measures=(measure,))
    kids.sort(key=lambda r: (r["estimate"] is None, -(r["estimate"] or 0), r["unit_name"]))
    shown = [(r, figure(r)) for r in kids]
    reference = figure(parent)
    name, unit = measure_names()[measure], chosen.unit.name
    # A unit whose own figure is withheld has no dashed line: neither the legend nor the
    # description speaks of one.
    if reference.estimate is None:
        desc = _(
            "Each unit is a dot on a line showing its %(confidence)s confidence interval. "
            "Period %(period)s.",
            confidence=axis_pct(0.95),
            period=period_text(chosen.filters),
        )
        dashed = ()
    else:
        desc = _(
            "Each unit is a dot on a line showing its %(confidence)s confidence interval; "
            "the dashed line is %(unit)s (%(value)s). Period %(period)s.",
            confidence=axis_pct(0.95),
            unit=unit,
            value=reference.value,
            period=period_text(chosen.filters),
        )
        dashed = (_("┆ dashed line: %(unit)s, %(value)s", unit=unit, value=reference.value),)
    labels = charts.Labels(
        title=_("%(measure)s of the units under %(unit)s", measure=name, unit=unit),
        desc=desc,
        axis=_("%(measure)s, percent", measure=name),
        legend=(
            _("● estimate, with its %(confidence)s confidence interval", confidence=axis_pct(0.95)),
            _("○ few answers or imprecise"),
            *dashed,
            _("— fewer than 10 answers: not shown"),
            _("Period %(period)s", period=period_text(chosen.filters)),
        ),
    )
    marks = [
        charts.Mark(r["unit_name"], fig.estimate, r["ci_low"], r["ci_high"], fig.text, fig.hollow)
        for r, fig in shown
    ]
    return charts.forest_plot(marks, labels, reference.estimate, axis_pct), reference, shown


def narrowed(frame: ResponseFrame, chosen: Chosen, tree: UnitTree) -> ResponseFrame:
    """Keep only the responses of the period and of the unit's subtree (with today's units,
    and of the units merged into it or the units under it, wherever those were)."""
    f = chosen.filters
    keep = (frame.day >= day_number(f.first)) & (frame.day <= day_number(f.last))
    ids = chosen.unit.subtree_ids()
    if f.today_units:
        below = tree.below(tree.position[chosen.unit.id])
        merged = tree.successor >= 0
        merged[merged] = below[tree.successor[merged]]
        ids += tree.ids[merged].tolist()
    keep &= np.isin(frame.unit_id, ids)
    return frame.subset(keep)


def trend_chart(chosen: Chosen) -> tuple[str, list[tuple[str, Figure, str | None]]]:
    unit, base = chosen.unit, chosen.filters.query()
    tree = load_tree()
    frame = narrowed(cached_frame(), chosen, tree)
    # A month from the unit's closing day on has no answers because the unit was gone.
    gone = unit.closed_on and _("closed on %(day)s", day=day(unit.closed_on))
    months, table = [], []  # the chart's (label, figure, row); the table's (days, figure, note)
    for first, last in month_spans(chosen.filters.first, chosen.filters.last):
        request_ = Request(
            replace(base, first=first, last=last), unit_code=unit.code, measures=("overall",)
        )
        _columns, rows = build_rows(request_, frame, tree)
        row = next(r for r in rows if r["unit_code"] == unit.code)
        label = shown = month(first)
        if first.day != 1 or (last + timedelta(days=1)).day != 1:
            # A month the period cuts: its figure is for those days only.
            label += "*"
            shown = f"{day(first)}\u2009–\u2009{day(last)}"  # as the period's days are written
        months.append((label, figure(row), row))
        table.append((shown, months[-1][1], gone if gone and first >= unit.closed_on else None))
    cut = any(label.endswith("*") for label, _fig, _row in months)
    part = [_("* only part of the month is in the period")] if cut else []
    labels = charts.Labels(
        title=_("Overall index of %(unit)s by month", unit=unit.name),
        desc=_(
            "The overall index each month with its %(confidence)s confidence interval as a bar "
            "and a band; months with fewer than 10 answers are left as gaps.",
            confidence=axis_pct(0.95),
        ),
        axis=_("Overall index, percent"),
        legend=(
            _("● estimate, with its %(confidence)s confidence interval", confidence=axis_pct(0.95)),
            _("○ few answers or imprecise"),
            _("— fewer than 10 answers: not shown"),
            *part,
            *([_("Today's units: with the answers of the units merged into them")]
              if chosen.filters.today_units else []),
        ),
    )  # fmt: skip
    marks = [
        charts.Mark(label, fig.estimate, row["ci_low"], row["ci_high"], f"n = {fig.n}", fig.hollow)
        for label, fig, row in months
    ]
    return charts.trend_chart(marks, labels, axis_pct), table


def ranking_chart(chosen: Chosen) -> tuple[str, list[dict], list[dict]]:
    _parent, kids = children_rows(chosen, measures=("overall",), ranks=True)
    ranked = sorted((r for r in kids if r["rank"]), key=lambda r: (r["rank"], r["unit_name"]))
    unranked = [r for r in kids if not r["rank"]]
    count = ranked[0]["rank_among"] if ranked else 0
    for r in ranked:
        r["sentence"] = rank_sentence(r["rank"], count, r["rank_low"], r["rank_high"])
        r["figure"] = figure(r)
    for r in unranked:
        r["figure"] = figure(r)
    labels = charts.Labels(
        title=_("Ranking of the units under %(unit)s", unit=chosen.unit.name),
        desc=_(
            "Each unit's rank by the overall index is a dot; the grey bar is its "
            "%(confidence)s rank interval. Rank 1 is the most satisfied.",
            confidence=axis_pct(0.95),
        ),
        axis=_("Rank (1 = most satisfied)"),
        legend=(
            _(
                "● rank; grey bar: the ranks the unit may truly have (%(confidence)s confidence)",
                confidence=axis_pct(0.95),
            ),
            _("Period %(period)s", period=period_text(chosen.filters)),
        ),
    )
    marks = [
        charts.Ranked(
            r["unit_name"],
            r["rank"],
            r["rank_low"],
            r["rank_high"],
            f"{r['figure'].value} · {r['rank']}/{count} [{r['rank_low']}–{r['rank_high']}]",
        )
        for r in ranked
    ]
    return charts.rank_chart(marks, count, labels), ranked, unranked
