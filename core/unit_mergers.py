"""Units merged into others: the checks a units file's merged_into column must pass."""

from datetime import date

from core.csvfile import Problem
from core.lazytext import lazy_gettext as _l


def merger_problems(
    units: dict[str, dict],
    known: set[str],
    closed_on: dict[str, date | None],
    merged_into: dict[str, str | None],
) -> list[tuple[int, Problem]]:
    """Each merger that would be wrong once the file is applied: a unit that merged but is not
    closed, into an unknown unit, into itself, or into a unit closed on or before its own
    closing day (so that a chain goes forward in time and cannot loop). On the unit's line if
    the file has it, else on its successor's (a successor the file closes too early)."""
    problems = []
    for code, into in merged_into.items():
        if into is None:
            continue
        ends, into_ends = closed_on.get(code), closed_on.get(into)
        if into == code:
            problem = _l("unit %(code)s cannot merge into itself", code=code)
        elif into not in known:
            problem = _l("unknown merged_into %(code)s", code=into)
        elif ends is None:
            problem = _l(
                "unit %(code)s has merged_into %(into)s but no closed_on", code=code, into=into
            )
        elif into_ends is not None and into_ends <= ends:
            problem = _l(
                "unit %(code)s closes on %(day)s, so it cannot merge into %(into)s, which closes "
                "on %(into_day)s",
                code=code, day=ends.isoformat(), into=into, into_day=into_ends.isoformat(),
            )  # fmt: skip
        else:
            continue
        at = units.get(code) or units.get(into)
        if at is not None:  # else neither is in the file: a database edited by hand
            problems.append((at["line"], problem))
    return problems
