"""Working days: weekends, Vietnam's public holidays and the government's declared days.

Pure functions: callers pass the calendar and the day explicitly, so tests need no clock.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

WEEKEND = (5, 6)  # Saturday, Sunday


@lru_cache(maxsize=64)
def package_days(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """Return (holidays, make-up working Saturdays) the `holidays` package knows for a year."""
    import holidays  # here: 50 ms to import, and only PAKN deadlines need it

    table = holidays.country_holidays("VN", years=year)
    workdays = frozenset(d for d in table.weekend_workdays if d.year == year)
    return frozenset(table), workdays


@dataclass(frozen=True)
class Calendar:
    """Days off and make-up working days on top of weekends; declared days win over the package."""

    days_off: frozenset[date]
    workdays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() not in WEEKEND and day not in self.days_off


def build_calendar(years: Iterable[int], declared: Iterable[tuple[date, bool]] = ()) -> Calendar:
    """Combine the package's days for these years with declared (day, working) pairs."""
    days_off: set[date] = set()
    workdays: set[date] = set()
    for year in years:
        off, work = package_days(year)
        days_off |= off
        workdays |= work
    for day, working in declared:
        (workdays if working else days_off).add(day)
        (days_off if working else workdays).discard(day)
    return Calendar(frozenset(days_off), frozenset(workdays))


def working_days_after(start: date, n: int, calendar: Calendar) -> date:
    """Return the n-th working day after start (start itself never counts)."""
    if n < 0:
        raise ValueError("n must be zero or more")
    day = start
    while n:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            n -= 1
    return day


def working_days_between(start: date, end: date, calendar: Calendar) -> int:
    """Count the working days after start up to and including end (negative if end is earlier)."""
    if end < start:
        return -working_days_between(end, start, calendar)
    return sum(
        calendar.is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1)
    )


def years_around(day: date) -> range:
    """The years a deadline counted from this day can reach."""
    return range(day.year - 1, day.year + 2)
