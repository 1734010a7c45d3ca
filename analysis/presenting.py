"""How the analyst pages word and format figures: percentages, changes, ranks, sorting."""

import unicodedata
from decimal import Decimal
from typing import NamedTuple

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _

from analysis.forms import Filters
from analysis.indexes import MEASURES
from core.i18n import day
from core.lazytext import lazy_gettext as _l
from survey.questionnaires import current_questionnaire

FLAG_NAMES = {"few_answers": _l("few answers"), "imprecise": _l("imprecise")}


PERCENT = parse_pattern("#,##0.00%")
HUNDREDTHS = Decimal("0.01")


class Signs(NamedTuple):
    """A locale's number signs (signs_of)."""

    locale: Locale
    decimal: str
    percent: str
    group: str
    pattern: NumberPattern  # the locale's pattern for whole numbers


_SIGNS: dict[str, Signs] = {}


def signs_of(locale: Locale) -> Signs:
    """The locale's number signs, read once: each Babel lookup costs microseconds."""
    key = str(locale)
    if key not in _SIGNS:
        symbols = locale.number_symbols["latn"]
        _SIGNS[key] = Signs(locale, symbols["decimal"], symbols["percentSign"], symbols["group"],
                            locale.decimal_formats[None])  # fmt: skip
    return _SIGNS[key]


# A page formats figures by the thousand: Babel's pattern machinery costs 10-15 µs a number.
# Proportions and counts take a direct path giving the same text (tests/analysis/test_pages.py
# checks it against Babel); anything else goes through Babel. Both use the request's locale,
# or the signs a table looked up once for all its numbers (even str(locale) costs 2-5 µs).
def pct(value: float, signs: Signs | None = None) -> str:
    """A proportion as a percentage with two decimals."""
    signs = signs or signs_of(get_locale())
    if not 0 <= value <= 1:
        return PERCENT.apply(value, signs.locale)
    # Babel's rounding: the number's shortest decimal text, half to even.
    whole, _, hundredths = str(Decimal(repr(value)).scaleb(2).quantize(HUNDREDTHS)).partition(".")
    return f"{whole}{signs.decimal}{hundredths}{signs.percent}"


def count(value: int, signs: Signs | None = None) -> str:
    """A whole number with the locale's group separator."""
    signs = signs or signs_of(get_locale())
    if not (isinstance(value, int) and value >= 0 and signs.pattern.grouping == (3, 3)):
        return signs.pattern.apply(value, signs.locale)
    return f"{value:,}".replace(",", signs.group)


def axis_pct(value: float) -> str:
    return format_percent(value, "#,##0%")


def period_text(filters: Filters) -> str:
    """The period, and with today's units, that the figures are of those units."""
    period = f"{day(filters.first)} – {day(filters.last)}"
    if filters.today_units:
        return _("%(period)s, today's units", period=period)
    return period


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


def pakn_names() -> dict[str, str]:
    """Return the name of each of Decision 766's PAKN measures, as the report sheet names them."""
    return {
        "pakn:handled_on_time": _("PAKN handled on time"),
        "pakn:handling_satisfaction": _("Satisfaction with PAKN handling"),
        "pakn:procedure_satisfaction": _("Satisfaction with procedures"),
        "pakn:received": _("PAKN received"),
    }


class Figure(NamedTuple):
    """A figure as the pages show it: the estimate, and its value, interval, n and flag as text."""

    estimate: float | None  # None when it is not shown
    value: str
    interval: str
    n: str
    flag: str
    hollow: bool  # few answers or imprecise: drawn as a hollow mark
    change: str
    change_interval: str  # the change's interval, where there is a change

    @property
    def text(self) -> str:
        """The whole figure in one line, as a chart's label gives it."""
        shown = f"{self.value} ({self.interval}), n = {self.n}" if self.interval else None
        return (shown or f"— (n = {self.n})") + (f", {self.flag}" if self.flag else "")


def figure(row: dict, signs: Signs | None = None) -> Figure:
    """Return a row's figure as shown: value, interval, n, flag and change, all formatted in the
    request's locale (whose signs a table of 7,000 figures looks up once and passes in)."""
    signs = signs or signs_of(get_locale())
    shown = row["estimate"] is not None and row["ci_low"] is not None
    return Figure(
        estimate=row["estimate"] if shown else None,
        value=pct(row["estimate"], signs) if shown else "—",
        interval=f"{pct(row['ci_low'], signs)}–{pct(row['ci_high'], signs)}" if shown else "",
        n=count(row["n"], signs),
        flag=str(FLAG_NAMES.get(row["flag"], "")),
        hollow=row["flag"] in FLAG_NAMES,
        # A hidden figure has no change to tell, whatever the earlier period holds.
        change=change_text(row) if "change" in row and shown else "",
        change_interval=change_interval_text(row) if "change" in row and shown else "",
    )


def change_text(row: dict) -> str:
    if row["change"] is None:
        return _("no earlier figure to compare")
    if not row["significant"]:
        verdict = _("no significant change")
    elif row["change"] > 0:
        verdict = _("significant rise")
    else:
        verdict = _("significant fall")
    return _(
        "%(points)s percentage points, %(verdict)s", points=points(row["change"]), verdict=verdict
    )


def points(change: float) -> str:
    """A change in proportion as signed percentage points with two decimals, in the locale."""
    return format_decimal(change * 100, "+#,##0.00;-#,##0.00")


def change_interval_text(row: dict) -> str:
    """The 95% interval of a row's change in percentage points; empty without a change."""
    if row["change"] is None or row.get("change_ci_low") is None:
        return ""
    return _(
        "%(confidence)s confidence interval of the change: %(low)s to %(high)s percentage points",
        confidence=format_percent(0.95),
        low=points(row["change_ci_low"]),
        high=points(row["change_ci_high"]),
    )


def unit_table(rows: list[dict]) -> list[dict]:
    """Gather the tidy rows into one entry per unit with a figure per measure."""
    units: dict[str, dict] = {}
    signs = signs_of(get_locale())
    for row in rows:
        entry = units.setdefault(
            row["unit_code"],
            {
                "code": row["unit_code"],
                "name": row["unit_name"],
                "level": row["level"],
                "figures": {},
                "weightings": set(),
            },
        )
        entry["figures"][row["measure"]] = figure(row, signs)
        if not row["measure"].startswith("pakn:"):  # PAKN ratios are summed counts
            entry["weightings"].add(row["weighting"])
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
    known = [u for u in units if u["figures"][key].estimate is not None]
    unknown = [u for u in units if u["figures"][key].estimate is None]
    return sorted(known, key=lambda u: u["figures"][key].estimate, reverse=descending) + unknown


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
