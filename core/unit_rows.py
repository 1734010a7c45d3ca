"""Check a units file: its rows by code, or every problem of the file (bad or repeated codes,
unknown parents, cycles, codes a spreadsheet damaged, units open under a closed one, mergers
that do not go forward in time)."""

import re
from datetime import date, timedelta

from sqlalchemy import select

from core.csvfile import FileProblems, Problem, grouped, read_rows, undefused
from core.extensions import db
from core.forms import NameFault, name_fault
from core.lazytext import lazy_gettext as _l
from core.models import Unit, local_today
from core.unit_codes import DamagedCodes, damaged_code_problem
from core.unit_mergers import merger_problems

COLUMNS = ["code", "name", "level", "parent_code"]
CODE = re.compile(r"^[A-Za-z0-9._-]{1,20}$")
NAME_MAX = Unit.__table__.c.name.type.length
LEVEL_MAX = Unit.__table__.c.level.type.length
MAX_POPULATION = 100_000_000  # ten times the largest province; the column is a 32-bit integer
# A whole number, its digits alone or in groups of three set apart by the same mark throughout:
# 9000000, 9.000.000 (as Vietnamese write it), 9,000,000 or 9 000 000. Anything else (9,5;
# 9.000,5; 90.00) could be a decimal or a slip, and is refused rather than guessed.
WHOLE_NUMBER = re.compile(r"[0-9]+|[0-9]{1,3}(?P<mark>[., ])[0-9]{3}(?:(?P=mark)[0-9]{3})*")
# The spaces a spreadsheet or a word processor groups digits with.
SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# A merger is resolved months ahead, not years: a later day is a typing slip (2205 for 2025).
CLOSING_AHEAD = timedelta(days=366)


def parse_units(raw: bytes) -> dict[str, dict]:
    """Check a units CSV; return its rows by code, or raise FileProblems for the whole file."""
    header, rows = read_rows(raw, COLUMNS, ["population", "closed_on", "merged_into"])
    problems: list[tuple[int, Problem]] = []
    units: dict[str, dict] = {}
    for line, row in rows:
        if not isinstance(row, dict):  # the row's problem
            problems.append((line, row))
            continue
        # The apostrophe export_units puts before a value a spreadsheet would take for a
        # formula is taken away, so that a downloaded file imports as it was.
        code, name, level, parent_code = (
            undefused(row[c].strip()) for c in ("code", "name", "level", "parent_code")
        )
        if not CODE.match(code):
            problems.append(
                (
                    line,
                    _l(
                        "code %(code)s must be 1-20 letters, digits, '.', '_' or '-'",
                        code=repr(code),
                    ),
                )
            )
            continue
        if code in units:
            problems.append(
                (
                    line,
                    _l(
                        "code %(code)s already appears on line %(line)s",
                        code=code,
                        line=units[code]["line"],
                    ),
                )
            )
            continue
        for column, value, longest in (("name", name, NAME_MAX), ("level", level, LEVEL_MAX)):
            # The rule of a counter's label: a direction override in a unit's name would turn
            # it around on every page, poster and chart.
            fault = name_fault(value, longest)
            if fault is NameFault.CHARACTERS:
                problems.append((line, _l(
                    "%(column)s must not hold line breaks, tabs or invisible characters (such "
                    "as a direction override)", column=column,
                )))  # fmt: skip
            elif fault is not None:
                problems.append((line, _l(
                    "%(column)s is required (%(most)s characters at most)", column=column,
                    most=longest,
                )))  # fmt: skip
        population, problem = _population(row.get("population") or "")
        if problem is not None:
            problems.append((line, problem))
        units[code] = {
            "line": line,
            "name": name,
            "level": level,
            "parent_code": parent_code or None,
            "population": population,
        }
        if "closed_on" in header:  # without the column, a unit keeps its closing day
            closed_on, problem = _closing_day(row.get("closed_on") or "")
            if problem is not None:
                problems.append((line, problem))
            units[code]["closed_on"] = closed_on
        if "merged_into" in header:  # without the column, a unit keeps its successor
            units[code]["merged_into"] = undefused((row.get("merged_into") or "").strip()) or None
    if not units and not problems:
        problems.append((0, _l("the file has no units")))
    existing = dict(db.session.execute(select(Unit.code, Unit.parent_id)).all())
    closed_on = dict(db.session.execute(select(Unit.code, Unit.closed_on)).all())
    codes_by_id = dict(db.session.execute(select(Unit.id, Unit.code)).all())
    successor_ids = db.session.execute(select(Unit.code, Unit.merged_into_id)).all()
    merged_into = {code: codes_by_id.get(into) for code, into in successor_ids}
    parents = {code: codes_by_id.get(pid) for code, pid in existing.items()}
    damaged = DamagedCodes(existing)
    problems += _damaged_codes(units, damaged)
    for code, unit in units.items():
        parent = unit["parent_code"]
        known = not parent or parent in units or parent in existing
        if parent == code:
            problems.append((unit["line"], _l("unit %(code)s cannot be its own parent", code=code)))
        elif not known and not damaged.probable(parent):  # a damaged code is said above
            problems.append((unit["line"], _l("unknown parent_code %(code)s", code=parent)))
        parents[code] = parent
        closed_on[code] = unit.get("closed_on", closed_on.get(code))
        merged_into[code] = unit.get("merged_into", merged_into.get(code))
    problems += _cycles(units, parents)
    problems += _open_under_closed(units, parents, closed_on)
    # A successor's code a spreadsheet damaged is said above, not as unknown.
    successors = {u.get("merged_into") for u in units.values()} - {None}
    said = {into for into in successors if damaged.probable(into)}
    known = set(existing) | set(units) | said
    problems += merger_problems(units, known, closed_on, merged_into)
    if problems:
        raise FileProblems(problems)
    return units


def _damaged_codes(units: dict[str, dict], damaged: DamagedCodes) -> list[tuple[int, Problem]]:
    """The codes and parent codes of the file that are not in the database but are probably one
    that is, its leading zeros lost to a spreadsheet: imported, they would add a second tree."""
    problems = []
    for code, unit in units.items():
        columns = ("code", code), ("parent_code", unit["parent_code"])
        for column, value in (*columns, ("merged_into", unit.get("merged_into"))):
            if value and (probable := damaged.probable(value)):
                problems.append((unit["line"], damaged_code_problem(column, value, probable)))
    return problems


def _population(text: str) -> tuple[int | None, Problem | None]:
    """Return the population of a cell (None: empty), or the cell's problem."""
    text = text.translate(SPACES).strip()
    if not text:
        return None, None
    if not (text.isascii() and WHOLE_NUMBER.fullmatch(text)):
        return None, _l(
            "population %(value)s is not a whole number written with digits alone (9000000) or "
            "in groups of three (9.000.000, 9,000,000 or 9 000 000)", value=repr(text[:20]),
        )  # fmt: skip
    digits = re.sub("[^0-9]", "", text)
    # The length first: int() refuses strings of more than 4,300 digits.
    if len(digits.lstrip("0")) > 9 or int(digits) > MAX_POPULATION:
        return None, _l("population must be at most %(most)s", most=grouped(MAX_POPULATION))
    return int(digits), None


def _closing_day(text: str) -> tuple[date | None, Problem | None]:
    """Return the closing day of a closed_on cell (None: open), or the cell's problem."""
    text = text.strip()
    if not text:
        return None, None
    try:
        day = date.fromisoformat(text) if DAY.match(text) else None
    except ValueError:
        day = None
    if day is None:
        return None, _l("closed_on %(value)s is not a day written YYYY-MM-DD", value=text[:20])
    if day > local_today() + CLOSING_AHEAD:
        return None, _l("closed_on %(day)s is more than a year from today", day=text)
    return day, None


def _open_under_closed(
    units: dict[str, dict], parents: dict[str, str | None], closed_on: dict[str, date | None]
) -> list[tuple[int, Problem]]:
    """A unit that would outlive its parent, once the file is applied: on the line of the unit
    if the file has it, else on the parent's line, naming the units under it still open."""
    problems, outliving = [], {}
    for code, parent in parents.items():
        ends, parent_ends = closed_on.get(code), closed_on.get(parent)
        if parent is None or parent_ends is None or (ends is not None and ends <= parent_ends):
            continue
        if code in units:
            problem = _l(
                "unit %(code)s would be open after its parent %(parent)s closes on %(day)s",
                code=code, parent=parent, day=parent_ends.isoformat(),
            )  # fmt: skip
            problems.append((units[code]["line"], problem))
        elif parent in units:
            outliving.setdefault(parent, []).append(code)
    for parent, codes in outliving.items():
        named = ", ".join(sorted(codes)[:5]) + (", …" if len(codes) > 5 else "")
        problem = _l(
            "unit %(code)s cannot close on %(day)s while units under it stay open "
            "(%(count)s): %(codes)s",
            code=parent, day=closed_on[parent].isoformat(), count=len(codes), codes=named,
        )  # fmt: skip
        problems.append((units[parent]["line"], problem))
    return problems


def _cycles(units: dict[str, dict], parents: dict[str, str | None]) -> list[tuple[int, Problem]]:
    problems, reported = [], set()
    for start in units:
        seen, code = [], start
        while code is not None and code not in seen:
            seen.append(code)
            code = parents.get(code)
        if code is not None and code not in reported:
            loop = seen[seen.index(code) :]
            reported.update(loop)
            for member in loop:
                if member in units:
                    problems.append((units[member]["line"], _l(
                        "unit %(code)s is in a cycle: %(cycle)s", code=member,
                        cycle=" → ".join(loop),
                    )))  # fmt: skip
    return problems
