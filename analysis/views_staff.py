"""Analyst pages in the back office: index table, forest plot, trend, ranking and downloads."""

import unicodedata
from dataclasses import dataclass, fields, replace

import numpy as np
from babel.dates import format_skeleton
from flask import Blueprint, Response, abort, render_template, request
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from analysis import charts, export
from analysis.forms import Filters, month_spans, parse_filters, shorten
from analysis.frame import LOCAL_OFFSET, ResponseFrame, cached_frame, day_number
from analysis.indexes import MEASURES
from analysis.tables import Request, build_rows
from core.extensions import db
from core.models import Role, Unit, utcnow
from survey.models import ELEMENTS
from survey.services import current_questionnaire

bp = Blueprint("analysis_staff", __name__, url_prefix="/staff/analysis")
ANALYSIS_ROLES = (Role.ADMIN, Role.MANAGER, Role.ANALYST)
TABLE_MEASURES = ("overall", *(f"element:{e}" for e in ELEMENTS), "household_register_asked")
SORT_KEYS = ("unit", "level", *TABLE_MEASURES)
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
MAX_MONTHS = 60
CHANNEL_NAMES = {
    "static": _l("Poster QR code"),
    "presence": _l("Code on the counter screen"),
    "receipt": _l("Code on the receipt"),
    "paper": _l("Paper form"),
}
FLAG_NAMES = {"few_answers": _l("few answers"), "imprecise": _l("imprecise")}


@bp.before_request
@login_required
def require_analysis_role():
    """Every page here needs a signed-in analyst, manager or admin."""
    if current_user.role not in ANALYSIS_ROLES:
        abort(403)


def scope_root() -> Unit | None:
    """Return the unit a manager is limited to; None where the account sees every unit."""
    if current_user.role is not Role.MANAGER:
        return None
    if current_user.unit is None:
        abort(403)
    return current_user.unit


def visible_units() -> list[Unit]:
    query = select(Unit).order_by(Unit.path)
    if (root := scope_root()) is not None:
        query = query.where(Unit.path.startswith(root.path))
    return list(db.session.scalars(query))


@dataclass
class Chosen:
    filters: Filters
    unit: Unit | None
    errors: list[str]
    levels: list[str]


def read_filters(code: str | None = None, need_unit: bool = False) -> Chosen:
    """Read the filters and the unit (refused outside the account's scope), noting mistakes."""
    levels = sorted(set(db.session.scalars(select(Unit.level).distinct())))
    today = (utcnow() + LOCAL_OFFSET).date()
    filters, errors = parse_filters(request.args, levels, today)
    code = filters.unit if code is None else code
    root, unit = scope_root(), None
    if code:
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            errors.append(_("There is no unit with the code “%(value)s”.", value=shorten(code)))
        elif root is not None and not unit.path.startswith(root.path):
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
        channel_names=CHANNEL_NAMES,
        channels_text=", ".join(str(CHANNEL_NAMES[c]) for c in chosen.filters.channels),
        measure_names=measure_names(),
        period=period_text(chosen.filters),
        confidence=format_percent(0.95),
        **context,
    ), (400 if chosen.errors else 200)


def pct(value: float) -> str:
    return format_percent(value, "#,##0.00%")


def axis_pct(value: float) -> str:
    return format_percent(value, "#,##0%")


def day(value) -> str:
    return format_skeleton("yMd", value, locale=get_locale())


def period_text(filters: Filters) -> str:
    return f"{day(filters.first)} – {day(filters.last)}"


def measure_names() -> dict[str, str]:
    """Return the name of every measure, elements and criteria as the questionnaire words them."""
    questionnaire = current_questionnaire()
    elements = questionnaire.data["elements"] if questionnaire else []
    lang = str(get_locale())
    words = {e["code"]: e["title"] for e in elements}
    words |= {c["code"]: c["text"] for e in elements for c in e["criteria"]}
    names = {"overall": _("Overall index")}
    for measure in MEASURES[1:-1]:
        code = measure.partition(":")[2]
        text = words.get(code, {})
        names[measure] = f"{code}. {text.get(lang) or text.get('vi', '')}".rstrip(". ")
    names["household_register_asked"] = _("Asked for the paper household register")
    return names


def figure(row: dict) -> dict:
    """Return a row's figure as shown: value, interval, n, flag and change, all formatted."""
    shown = row["estimate"] is not None and row["ci_low"] is not None
    fig = {
        "estimate": row["estimate"] if shown else None,
        "value": pct(row["estimate"]) if shown else "—",
        "interval": f"{pct(row['ci_low'])}–{pct(row['ci_high'])}" if shown else "",
        "n": format_decimal(row["n"]),
        "flag": str(FLAG_NAMES.get(row["flag"], "")),
        "hollow": row["flag"] in FLAG_NAMES,
        "change": change_text(row) if "change" in row else "",
    }
    fig["text"] = (
        f"{fig['value']} ({fig['interval']}), n = {fig['n']}" if shown else f"— (n = {fig['n']})"
    ) + (f", {fig['flag']}" if fig["flag"] else "")
    return fig


def change_text(row: dict) -> str:
    if row["change"] is None:
        return _("no earlier figure to compare")
    points = format_decimal(row["change"] * 100, "+#,##0.00;-#,##0.00")
    if not row["significant"]:
        verdict = _("no significant change")
    elif row["change"] > 0:
        verdict = _("significant rise")
    else:
        verdict = _("significant fall")
    return _("%(points)s percentage points, %(verdict)s", points=points, verdict=verdict)


def unit_table(rows: list[dict]) -> list[dict]:
    """Gather the tidy rows into one entry per unit with a figure per measure."""
    units: dict[str, dict] = {}
    for row in rows:
        entry = units.setdefault(
            row["unit_code"],
            {
                "code": row["unit_code"],
                "name": row["unit_name"],
                "level": row["level"],
                "figures": {},
            },
        )
        entry["figures"][row["measure"]] = figure(row)
    return list(units.values())


def collation_key(text: str) -> tuple[str, str]:
    """Order Vietnamese names by their letters first, marks second, with đ after d."""
    spelled = unicodedata.normalize("NFD", text.casefold()).replace("đ", "d~")
    return "".join(c for c in spelled if not unicodedata.combining(c)), spelled


def sort_units(units: list[dict], key: str, descending: bool) -> list[dict]:
    """Sort by name, level or a figure; units without that figure always come last."""
    if key == "unit":
        return sorted(units, key=lambda u: collation_key(u["name"]), reverse=descending)
    if key == "level":
        return sorted(
            units,
            key=lambda u: (collation_key(u["level"]), collation_key(u["name"])),
            reverse=descending,
        )
    known = [u for u in units if u["figures"][key]["estimate"] is not None]
    unknown = [u for u in units if u["figures"][key]["estimate"] is None]
    return sorted(known, key=lambda u: u["figures"][key]["estimate"], reverse=descending) + unknown


def table_request(chosen: Chosen, measures=TABLE_MEASURES) -> Request:
    f = chosen.filters
    return Request(
        f.query(),
        level=f.level or None,
        unit_code=chosen.unit.code if chosen.unit else None,
        measures=measures,
        compare=f.compare or None,
    )


@bp.get("/")
def index():
    chosen = read_filters()
    if chosen.errors:
        return show("analysis/index.html", chosen, table=None)
    _columns, rows = build_rows(table_request(chosen))
    sort = request.args.get("sort", "")
    descending = request.args.get("dir") != "asc"
    table = unit_table(rows)
    if sort in SORT_KEYS:
        table = sort_units(table, sort, descending)
    parents = set(db.session.scalars(select(Unit.parent_id).distinct()))
    depth = {u.code: (u.path.count("/") - 2, u.id in parents) for u in visible_units()}
    return show(
        "analysis/index.html",
        chosen,
        table=table,
        sort=sort,
        descending=descending,
        measures=TABLE_MEASURES,
        tree=depth,
    )


@bp.get("/export.<fmt>")
def download(fmt: str):
    if fmt not in export.FORMATS:
        abort(404)
    chosen = read_filters()
    if chosen.errors:
        return show("analysis/index.html", chosen, table=None)
    request_ = replace(table_request(chosen), measures=MEASURES)
    columns, rows = build_rows(request_)
    data = export.render(fmt, export.meta(request_), columns, rows)
    f = chosen.filters
    code = chosen.unit.code if chosen.unit else "all"
    scope = "".join(c for c in code if c.isascii() and c.isalnum()) or "unit"
    name = f"hailong-indexes-{scope}-{f.first.isoformat()}-{f.last.isoformat()}.{fmt}"
    return Response(
        data,
        mimetype=MIMETYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
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


def forest_chart(chosen: Chosen) -> tuple[str, dict, list[tuple[dict, dict]]]:
    measure = chosen.filters.measure
    parent, kids = children_rows(chosen, measures=(measure,))
    kids.sort(key=lambda r: (r["estimate"] is None, -(r["estimate"] or 0), r["unit_name"]))
    shown = [(r, figure(r)) for r in kids]
    reference = figure(parent)
    name, unit = measure_names()[measure], chosen.unit.name
    labels = charts.Labels(
        title=_("%(measure)s of the units under %(unit)s", measure=name, unit=unit),
        desc=_(
            "Each unit is a dot on a line showing its %(confidence)s confidence interval; "
            "the dashed line is %(unit)s (%(value)s). Period %(period)s.",
            confidence=axis_pct(0.95),
            unit=unit,
            value=reference["value"],
            period=period_text(chosen.filters),
        ),
        axis=_("%(measure)s, percent", measure=name),
        legend=(
            _("● estimate, with its %(confidence)s confidence interval", confidence=axis_pct(0.95)),
            _("○ few answers or imprecise"),
            _("┆ dashed line: %(unit)s, %(value)s", unit=unit, value=reference["value"]),
            _("— fewer than 10 answers: not shown"),
            _("Period %(period)s", period=period_text(chosen.filters)),
        ),
    )
    marks = [
        charts.Mark(
            r["unit_name"], fig["estimate"], r["ci_low"], r["ci_high"], fig["text"], fig["hollow"]
        )
        for r, fig in shown
    ]
    return charts.forest_plot(marks, labels, reference["estimate"], axis_pct), reference, shown


def inline(svg: str) -> Markup:
    """Mark a chart safe for a page: the chart functions escape every string they draw."""
    return Markup(svg)  # noqa: S704


def svg_response(svg: str, name: str) -> Response:
    return Response(
        svg,
        mimetype="image/svg+xml",
        headers={"Content-Disposition": f'inline; filename="{name}.svg"'},
    )


@bp.get("/forest")
def forest():
    chosen = read_filters(need_unit=True)
    if chosen.errors or chosen.unit is None:
        return show("analysis/forest.html", chosen, svg=None)
    svg, reference, shown = forest_chart(chosen)
    return show("analysis/forest.html", chosen, svg=inline(svg), reference=reference, rows=shown)


@bp.get("/forest.svg")
def forest_svg():
    chosen = read_filters(need_unit=True)
    if chosen.errors or chosen.unit is None:
        abort(400)
    return svg_response(forest_chart(chosen)[0], f"forest-{chosen.unit.code}")


def narrowed(frame: ResponseFrame, chosen: Chosen) -> ResponseFrame:
    """Keep only the responses of the period and of the unit's subtree."""
    f = chosen.filters
    keep = (frame.day >= day_number(f.first)) & (frame.day <= day_number(f.last))
    keep &= np.isin(frame.unit_id, chosen.unit.subtree_ids())
    return ResponseFrame(**{c.name: getattr(frame, c.name)[keep] for c in fields(frame)})


def trend_chart(chosen: Chosen) -> tuple[str, list[tuple[str, dict]]]:
    unit, base = chosen.unit, chosen.filters.query()
    frame = narrowed(cached_frame(), chosen)
    months = []
    for first, last in month_spans(chosen.filters.first, chosen.filters.last):
        request_ = Request(
            replace(base, first=first, last=last), unit_code=unit.code, measures=("overall",)
        )
        _columns, rows = build_rows(request_, frame)
        row = next(r for r in rows if r["unit_code"] == unit.code)
        months.append((format_skeleton("yM", first, locale=get_locale()), figure(row), row))
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
        ),
    )
    marks = [
        charts.Mark(
            label, fig["estimate"], row["ci_low"], row["ci_high"], f"n = {fig['n']}", fig["hollow"]
        )
        for label, fig, row in months
    ]
    return charts.trend_chart(marks, labels, axis_pct), [(label, fig) for label, fig, _r in months]


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


@bp.get("/units/<code>/trend.svg")
def trend_svg(code: str):
    chosen = read_trend_filters(code)
    if chosen.errors:
        abort(400)
    return svg_response(trend_chart(chosen)[0], f"trend-{chosen.unit.code}")


def rank_sentence(rank: int, count: int, low: int, high: int) -> str:
    """Say a unit's rank and how sure it is, in plain words."""
    first = _(
        "Ranked %(rank)d of %(count)d; confidence interval of the rank: %(low)d–%(high)d.",
        rank=rank,
        count=count,
        low=low,
        high=high,
    )
    if low == high:
        second = _("The data are clear enough to fix this rank.")
    else:
        second = _(
            "The rank is uncertain: the true rank may be anywhere from %(low)d to %(high)d.",
            low=low,
            high=high,
        )
    return f"{first} {second}"


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
            f"{r['figure']['value']} · {r['rank']}/{count} [{r['rank_low']}–{r['rank_high']}]",
        )
        for r in ranked
    ]
    return charts.rank_chart(marks, count, labels), ranked, unranked


@bp.get("/ranking")
def ranking():
    chosen = read_filters(need_unit=True)
    if chosen.errors or chosen.unit is None:
        return show("analysis/ranking.html", chosen, svg=None)
    svg, ranked, unranked = ranking_chart(chosen)
    return show("analysis/ranking.html", chosen, svg=inline(svg), ranked=ranked, unranked=unranked)
