"""An analyst's filters, from a query string or the command line, checked into a Request."""

import re
from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import select

from analysis.compare import (
    COMPARISONS,
    FIRST_DAY,
    LAST_DAY,
    PRESETS,
    earlier_query,
    preset_period,
)
from analysis.frame import CHANNELS
from analysis.indexes import MEASURES, WEIGHTINGS, Query
from analysis.pakn import PAKN_MEASURES
from analysis.tables import Request, UnknownUnit
from core.extensions import db
from core.models import Unit, local_today
from core.unit_rows import CODE
from survey.models import Questionnaire

# Every filter the API and the export accept; docs/openapi.json documents exactly these.
PARAMETERS = (
    "from", "to", "preset", "anchor", "level", "unit", "channel",
    "questionnaire", "weighting", "compare", "ranks", "shrink", "measure", "today_units",
)  # fmt: skip
# The API's own, beside those: how its answer is laid out (analysis/views_api.py).
API_PARAMETERS = (*PARAMETERS, "layout")
LAYOUTS = ("rows", "columns")
REPEATABLE = ("channel", "questionnaire", "measure")
MAX_LENGTH = 100
MAX_VALUES = 50
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TRUE, FALSE = ("", "1", "true", "yes"), ("0", "false", "no")


class BadParameters(ValueError):
    """Filters refused, each with a message naming the parameter."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{name}: {message}" for name, message in problems))


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


class _Checker:
    def __init__(self, values: Mapping[str, Sequence[str]]):
        self.values, self.problems = values, []

    def fail(self, name: str, message: str) -> None:
        self.problems.append((name, message))

    def many(self, name: str) -> list[str]:
        return [v.strip() for v in self.values.get(name, ())]

    def one(self, name: str) -> str | None:
        given = self.many(name)
        if len(given) > 1:
            self.fail(name, "give it once")
        return given[0] if given else None

    def choice(self, name: str, choices: Sequence[str]) -> str | None:
        value = self.one(name)
        if value is not None and value not in choices:
            self.fail(name, f"{_shown(value)} is not one of {', '.join(choices)}")
            return None
        return value

    def day(self, name: str) -> date | None:
        value = self.one(name)
        if value is None:
            return None
        try:
            day = date.fromisoformat(value) if ISO_DATE.match(value) else None
        except ValueError:
            day = None
        if day is None:
            self.fail(name, f"{_shown(value)} is not a date (YYYY-MM-DD)")
        elif not FIRST_DAY <= day <= LAST_DAY:
            self.fail(name, f"{_shown(value)} is not a date between {FIRST_DAY} and {LAST_DAY}")
            day = None
        return day

    def flag(self, name: str) -> bool:
        value = self.one(name)
        if value is None or value.lower() in FALSE:
            return False
        if value.lower() not in TRUE:
            self.fail(name, f"{_shown(value)} is not true or false")
        return True


def _today() -> date:
    return local_today()


def _period(check: _Checker) -> tuple[date, date] | None:
    first, last = check.day("from"), check.day("to")
    preset, anchor = check.choice("preset", PRESETS), check.day("anchor")
    if check.many("preset"):
        if check.many("from") or check.many("to"):
            check.fail("preset", "give either from and to, or preset (with anchor)")
        elif preset:
            return preset_period(preset, anchor or _today())
        return None
    if check.many("anchor"):
        check.fail("anchor", "goes with preset")
    for name in ("from", "to"):
        if not check.many(name):
            check.fail(name, "is required (or give preset)")
    if first and last and first > last:
        check.fail("to", f"{last} is before from ({first})")
        return None
    return (first, last) if first and last else None


def _questionnaire_ids(check: _Checker) -> tuple[int, ...]:
    versions = dict(db.session.execute(select(Questionnaire.version, Questionnaire.id)).all())
    ids = []
    for value in check.many("questionnaire"):
        if not value.isascii() or not value.isdigit() or int(value) not in versions:
            known = ", ".join(map(str, sorted(versions))) or "none loaded"
            check.fail("questionnaire", f"no version {_shown(value)} (versions: {known})")
        else:
            ids.append(versions[int(value)])
    return tuple(sorted(set(ids)))


def _shape(check: _Checker, known: Sequence[str]) -> None:
    for name, given in check.values.items():
        if name not in known:
            check.fail(name, f"unknown parameter; parameters are {', '.join(known)}")
        elif len(given) > MAX_VALUES or (len(given) > 1 and name not in REPEATABLE):
            check.fail(name, "given too many times")
        elif any(len(v) > MAX_LENGTH for v in given):
            check.fail(name, f"longer than {MAX_LENGTH} characters")


def _filters(check: _Checker, known: Sequence[str]) -> Request | None:
    """Check the filters into a Request, or None when the parameters' shape is already wrong;
    every problem found goes to check."""
    _shape(check, known)
    if check.problems:
        return None
    period = _period(check)
    channels = check.many("channel")
    for channel in channels:
        if channel not in CHANNELS:
            check.fail("channel", f"{_shown(channel)} is not one of {', '.join(CHANNELS)}")
    measures = check.many("measure")
    for measure in measures:
        if measure not in MEASURES + PAKN_MEASURES:
            known = ", ".join(MEASURES + PAKN_MEASURES)
            check.fail("measure", f"{_shown(measure)} is not one of {known}")
    level, unit = check.one("level"), check.one("unit")
    if level is not None:
        levels = sorted(set(db.session.scalars(select(Unit.level))))
        if level not in levels:
            check.fail("level", f"no unit has level {_shown(level)} (levels: {', '.join(levels)})")
    if unit is not None and not CODE.match(unit):
        check.fail("unit", f"{_shown(unit)} is not a unit code")
        unit = None
    query = Query(
        *(period or (FIRST_DAY, FIRST_DAY)),
        channels=tuple(c for c in CHANNELS if c in channels),
        questionnaire_ids=_questionnaire_ids(check),
        weighting=check.choice("weighting", WEIGHTINGS) or "respondents",
        today_units=check.flag("today_units"),
    )
    compare = check.choice("compare", COMPARISONS)
    if compare and period:
        try:
            earlier_query(query, compare)
        except (OverflowError, ValueError):
            check.fail("compare", "the earlier period falls outside the calendar")
    return Request(
        query, level=level, unit_code=unit, compare=compare,
        measures=tuple(m for m in MEASURES + PAKN_MEASURES if m in measures) or MEASURES,
        ranks=check.flag("ranks"), shrink=check.flag("shrink"),
    )  # fmt: skip


def _checked(check: _Checker, request: Request | None) -> Request:
    if check.problems:
        raise BadParameters(check.problems)
    code = request.unit_code
    if code is not None and db.session.scalar(select(Unit.id).where(Unit.code == code)) is None:
        raise UnknownUnit(code)
    return request


def parse_request(values: Mapping[str, Sequence[str]]) -> Request:
    """Return the Request these filters ask for; raise BadParameters or UnknownUnit."""
    check = _Checker(values)
    return _checked(check, _filters(check, PARAMETERS))


def parse_api_request(values: Mapping[str, Sequence[str]]) -> tuple[Request, str]:
    """Return the Request and the answer's layout, rows (the default) or columns; raise
    BadParameters with every problem of both at once, or UnknownUnit."""
    check = _Checker(values)
    request = _filters(check, API_PARAMETERS)
    layout = check.choice("layout", LAYOUTS) if request else None
    return _checked(check, request), layout or "rows"


def earlier_period(request: Request) -> tuple[date, date] | None:
    """Return the period the request compares with, if any."""
    if not request.compare:
        return None
    earlier = earlier_query(request.query, request.compare)
    return earlier.first, earlier.last
