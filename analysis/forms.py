"""The analysts' filters, read from a query string, with a clear message for each mistake."""

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from analysis.compare import COMPARISONS, FIRST_DAY, LAST_DAY, PRESETS, preset_period
from analysis.frame import CHANNELS
from analysis.indexes import MEASURES, WEIGHTINGS, Query
from core import i18n
from core.lazytext import lazy_gettext as _l

SHOWN_VALUE = 40  # characters of a bad value repeated back in a message
FIELD_NAMES = {
    "from": _l("From"),
    "to": _l("To"),
    "preset": _l("Period"),
    "anchor": _l("Containing the day"),
    "level": _l("Level"),
    "channel": _l("Channels"),
    "weighting": _l("Weighting"),
    "compare": _l("Compare with"),
    "measure": _l("Index"),
    "today_units": _l("Units"),
}


@dataclass(frozen=True)
class Filters:
    """A period and the responses to count, as an analyst chose them."""

    first: date
    last: date
    preset: str = ""
    anchor: date | None = None
    level: str = ""
    unit: str = ""
    channels: tuple[str, ...] = ()
    weighting: str = "respondents"
    compare: str = ""
    measure: str = "overall"
    today_units: bool = False

    def query(self) -> Query:
        return Query(
            self.first, self.last, channels=self.channels, weighting=self.weighting,
            today_units=self.today_units,
        )  # fmt: skip

    def args(self, **changes) -> dict:
        """Return the query-string arguments that give these filters back (defaults left out)."""
        f = replace(self, **changes)
        if f.preset:
            args = {"preset": f.preset, "anchor": (f.anchor or f.first).isoformat()}
        else:
            args = {"from": f.first.isoformat(), "to": f.last.isoformat()}
        optional = {
            "level": f.level,
            "unit": f.unit,
            "channel": list(f.channels),
            "weighting": f.weighting if f.weighting != "respondents" else "",
            "compare": f.compare,
            "measure": f.measure if f.measure != "overall" else "",
            "today_units": "1" if f.today_units else "",
        }
        return args | {k: v for k, v in optional.items() if v}


def default_period(today: date) -> tuple[date, date]:
    """Return the twelve months up to today: from the first day of the month 11 months back."""
    month = today.year * 12 + today.month - 1 - 11
    return date(month // 12, month % 12 + 1, 1), today


def shorten(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= SHOWN_VALUE else value[: SHOWN_VALUE - 1] + "…"


def parse_date(raw: str) -> date:
    """Read 2024-12-31 (what a date field sends) or 31/12/2024, from FIRST_DAY to LAST_DAY;
    raise ValueError otherwise."""
    raw = raw.strip()
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw):
        year, month, day = map(int, match.groups())
    elif match := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw):
        day, month, year = map(int, match.groups())
    else:
        raise ValueError(raw)
    chosen = date(year, month, day)
    if not FIRST_DAY <= chosen <= LAST_DAY:
        raise ValueError(raw)
    return chosen


class _Reader:
    def __init__(self, args: MultiDict):
        self.args = args
        self.errors: list[str] = []

    def text(self, name: str) -> str:
        return (self.args.get(name) or "").strip()

    def date(self, name: str) -> date | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            return parse_date(raw)
        except ValueError:
            self.errors.append(
                _(
                    "%(field)s: “%(value)s” is not a date between %(first)s and %(last)s. "
                    "Write it as 31/12/2024.",
                    field=FIELD_NAMES[name],
                    value=shorten(raw),
                    first=i18n.day(FIRST_DAY),
                    last=i18n.day(LAST_DAY),
                )
            )
            return None

    def choice(self, name: str, allowed, default: str = "") -> str:
        raw = self.text(name)
        if raw and raw not in allowed:
            self.bad_choice(name, raw)
            return default
        return raw or default

    def bad_choice(self, name: str, raw: str) -> None:
        self.errors.append(
            _(
                "%(field)s: “%(value)s” is not one of the choices offered.",
                field=FIELD_NAMES[name],
                value=shorten(raw),
            )
        )


def parse_filters(args: MultiDict, levels, today: date) -> tuple[Filters, list[str]]:
    """Return the filters in args (defaults where a value is missing or wrong) and the mistakes."""
    read = _Reader(args)
    preset = read.choice("preset", PRESETS)
    anchor = read.date("anchor")
    first, last = read.date("from"), read.date("to")
    if preset and first and last and _dates_edited(args, first, last):
        # The form sends the period and the dates together: the dates changed since the page
        # showed them, so they are the analyst's latest choice, not the preset left selected.
        preset = ""
    if preset:
        first, last = preset_period(preset, anchor or today)
    elif first is None and last is None:
        first, last = default_period(today)
    elif first is None:
        first = default_period(last)[0]
    elif last is None:
        last = max(today, first)
    if last < first:
        read.errors.append(_("The end date is before the start date."))
        first, last = default_period(today)
    channels = []
    for raw in args.getlist("channel"):
        if raw.strip() in CHANNELS:
            channels.append(raw.strip())
        elif raw.strip():
            read.bad_choice("channel", raw)
    filters = Filters(
        first=first,
        last=last,
        preset=preset,
        anchor=anchor,
        level=read.choice("level", levels),
        unit=read.text("unit"),
        channels=tuple(c for c in CHANNELS if c in channels),
        weighting=read.choice("weighting", WEIGHTINGS, "respondents"),
        compare=read.choice("compare", COMPARISONS),
        measure=read.choice("measure", MEASURES, "overall"),
        today_units=read.choice("today_units", ("", "0", "1", "false", "true", "no", "yes"))
        in ("1", "true", "yes"),
    )
    return filters, read.errors


def _dates_edited(args: MultiDict, first: date, last: date) -> bool:
    """Say whether From and To differ from the period the page's form showed (its shown_from
    and shown_to fields); False where the request did not come from that form."""
    try:
        shown = parse_date(args.get("shown_from", "")), parse_date(args.get("shown_to", ""))
    except ValueError:
        return False
    return shown != (first, last)


def month_spans(first: date, last: date) -> list[tuple[date, date]]:
    """Return each calendar month from first to last, clipped to the period."""
    spans = []
    start = first
    while start <= last:
        month_end = preset_period("month", start)[1]
        spans.append((start, min(month_end, last)))
        start = month_end + timedelta(days=1)
    return spans
