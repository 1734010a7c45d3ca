"""Analyst pages in the back office: index table, forest plot, trend, ranking and downloads."""

from dataclasses import replace

from flask import Blueprint, Response, abort, g, render_template, request
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from analysis import export
from analysis.chart_data import (
    MAX_MONTHS,
    TABLE_MEASURES,
    Chosen,
    forest_chart,
    ranking_chart,
    table_request,
    trend_chart,
)
from analysis.chart_png import render_png
from analysis.compare import FIRST_DAY, LAST_DAY, earlier_query
from analysis.forms import month_spans, parse_filters, shorten
from analysis.indexes import MEASURES
from analysis.pakn import PAKN_MEASURES, has_pakn_data
from analysis.presenting import (
    measure_names,
    pakn_names,
    period_text,
    sort_units,
    unit_table,
)
from analysis.tables import build_columns, build_rows
from core.extensions import db
from core.models import Role, Unit, local_today
from survey.wording import CHANNEL_LABELS

bp = Blueprint("analysis_staff", __name__, url_prefix="/staff/analysis")
ANALYSIS_ROLES = (Role.ADMIN, Role.MANAGER, Role.ANALYST)
SORT_KEYS = ("unit", "level", *TABLE_MEASURES)
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
CHART_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


@bp.before_request
@login_required
def require_analysis_role():
    """Every page here needs a signed-in analyst, manager or admin."""
    if current_user.role not in ANALYSIS_ROLES:
        abort(403)


def scope_root() -> Unit | None:
    """Return the unit a manager, or an analyst of a unit, is limited to; None where the
    account sees every unit."""
    if current_user.role is Role.MANAGER and current_user.unit is None:
        abort(403)
    return current_user.figures_unit


def visible_units() -> list[Unit]:
    """The units the account may see, in tree order; read once per request (a page asks twice:
    for its figures and for the unit chooser)."""
    if "visible_units" not in g:
        query = select(Unit).order_by(Unit.path)
        if (root := scope_root()) is not None:
            query = query.where(Unit.path.startswith(root.path))
        g.visible_units = list(db.session.scalars(query))
    return g.visible_units


def read_filters(code: str | None = None, need_unit: bool = False) -> Chosen:
    """Read the filters and the unit (refused outside the account's scope), noting mistakes."""
    root, unit = scope_root(), None
    # The levels of the units in the account's scope: a manager of a district is not offered
    # the province's level, which would give an empty table. One query, not the scope's units:
    # the downloads read no unit chooser.
    in_scope = select(Unit.level).distinct()
    if root is not None:
        in_scope = in_scope.where(Unit.path.startswith(root.path))
    levels = sorted(db.session.scalars(in_scope))
    today = local_today()
    filters, errors = parse_filters(request.args, levels, today)
    code = filters.unit if code is None else code
    if code:
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            errors.append(_("There is no unit with the code “%(value)s”.", value=shorten(code)))
        elif root is not None and not unit.is_within(root):
            abort(403)
    if unit is None and (root is not None or need_unit):
        first = select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.path).limit(1)
        unit = root or db.session.scalar(first)
    if unit is not None:
        filters = replace(filters, unit=unit.code)
    return Chosen(filters, unit, errors, levels)


def show(template: str, chosen: Chosen, **context):
    return render_template(
        template,
        f=chosen.filters,
        unit=chosen.unit,
        errors=chosen.errors,
        levels=chosen.levels,
        units=visible_units(),
        units_by_id={u.id: u for u in visible_units()},  # a closed unit's successor, by its id
        channel_names=CHANNEL_LABELS,
        channels_text=", ".join(str(CHANNEL_LABELS[c]) for c in chosen.filters.channels),
        measure_names=measure_names(),
        period=period_text(chosen.filters),
        confidence=format_percent(0.95),
        days={"min": FIRST_DAY.isoformat(), "max": LAST_DAY.isoformat()},  # the date fields' range
        **context,
    ), (400 if chosen.errors else 200)


@bp.get("/")
def index():
    chosen = read_filters()
    if chosen.errors:
        return show("analysis/index.html", chosen, table=None)
    # Decision 766's PAKN ratios, where there are cases or receipts, in a second table.
    pakn = PAKN_MEASURES if has_pakn_data() else ()
    _columns, rows = build_rows(table_request(chosen, measures=(*TABLE_MEASURES, *pakn)))
    sort = request.args.get("sort", "")
    descending = request.args.get("dir") != "asc"
    table = unit_table(rows)
    if sort in SORT_KEYS:
        table = sort_units(table, sort, descending)
    parents = set(db.session.scalars(select(Unit.parent_id).distinct()))
    depth = {u.code: (u.path.count("/") - 2, u.id in parents) for u in visible_units()}
    compared = None
    if chosen.filters.compare:
        earlier = earlier_query(chosen.filters.query(), chosen.filters.compare)
        compared = period_text(replace(chosen.filters, first=earlier.first, last=earlier.last))
    return show(
        "analysis/index.html",
        chosen,
        table=table,
        compared=compared,
        sort=sort,
        descending=descending,
        measures=TABLE_MEASURES,
        pakn_names=pakn_names() if pakn else {},
        tree=depth,
        # Population weighting asked for, and some parent fell back to respondents.
        fell_back=chosen.filters.weighting == "population"
        and any("respondents" in u["weightings"] for u in table),
    )


@bp.get("/export.<fmt>")
def download(fmt: str):
    if fmt not in export.FORMATS:
        abort(404)
    chosen = read_filters()
    if chosen.errors:
        return show("analysis/index.html", chosen, table=None)
    request_ = replace(table_request(chosen), measures=MEASURES)
    names, values = build_columns(request_)
    data = export.render(fmt, export.meta(request_, values), names, values)
    f = chosen.filters
    code = chosen.unit.code if chosen.unit else "all"
    scope = "".join(c for c in code if c.isascii() and c.isalnum()) or "unit"
    name = f"hailong-indexes-{scope}-{f.first.isoformat()}-{f.last.isoformat()}.{fmt}"
    return Response(
        data,
        mimetype=MIMETYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def inline(svg: str) -> Markup:
    """Mark a chart safe for a page: the chart functions escape every string they draw."""
    return Markup(svg)  # noqa: S704


def chart_file(svg: str, name: str, fmt: str) -> Response:
    """Send a chart as the SVG it was drawn as, or painted as a PNG for word processors."""
    body = render_png(svg) if fmt == "png" else svg
    return Response(
        body,
        mimetype=CHART_TYPES[fmt],
        headers={"Content-Disposition": f'inline; filename="{name}.{fmt}"'},
    )


@bp.get("/forest")
def forest():
    chosen = read_filters(need_unit=True)
    if chosen.errors or chosen.unit is None:
        return show("analysis/forest.html", chosen, svg=None)
    svg, reference, shown = forest_chart(chosen)
    return show("analysis/forest.html", chosen, svg=inline(svg), reference=reference, rows=shown)


@bp.get("/forest.<any(svg, png):fmt>")
def forest_file(fmt: str):
    chosen = read_filters(need_unit=True)
    if chosen.errors or chosen.unit is None:
        abort(400)
    return chart_file(forest_chart(chosen)[0], f"forest-{chosen.unit.code}", fmt)


def read_trend_filters(code: str) -> Chosen:
    if db.session.scalar(select(Unit.id).where(Unit.code == code)) is None:
        abort(404)
    chosen = read_filters(code)
    if len(month_spans(chosen.filters.first, chosen.filters.last)) > MAX_MONTHS:
        chosen.errors.append(
            _(
                "The trend shows at most %(months)d months; choose a shorter period.",
                months=MAX_MONTHS,
            )
        )
    return chosen


@bp.get("/units/<code>/trend")
def trend(code: str):
    chosen = read_trend_filters(code)
    if chosen.errors:
        return show("analysis/trend.html", chosen, svg=None)
    svg, months = trend_chart(chosen)
    return show("analysis/trend.html", chosen, svg=inline(svg), months=months)


@bp.get("/units/<code>/trend.<any(svg, png):fmt>")
def trend_file(code: str, fmt: str):
    chosen = read_trend_filters(code)
    if chosen.errors:
        abort(400)
    return chart_file(trend_chart(chosen)[0], f"trend-{chosen.unit.code}", fmt)


@bp.get("/ranking")
def ranking():
    chosen = read_filters(need_unit=True)
    if chosen.errors or chosen.unit is None:
        return show("analysis/ranking.html", chosen, svg=None)
    svg, ranked, unranked = ranking_chart(chosen)
    return show("analysis/ranking.html", chosen, svg=inline(svg), ranked=ranked, unranked=unranked)


@bp.get("/ranking.<any(svg, png):fmt>")
def ranking_file(fmt: str):
    chosen = read_filters(need_unit=True)
    if chosen.errors or chosen.unit is None:
        abort(400)
    return chart_file(ranking_chart(chosen)[0], f"ranking-{chosen.unit.code}", fmt)
