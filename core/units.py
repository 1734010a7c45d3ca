"""The unit tree: import from CSV (each change recorded), keep the materialised paths right."""

import hashlib
import re
from datetime import date, timedelta

from sqlalchemy import select

from core.csvfile import FileProblems, read_rows
from core.extensions import db
from core.forms import NameFault, name_fault
from core.models import Unit, User, local_today
from core.unit_history import record_changes, values_by_code

COLUMNS = ["code", "name", "level", "parent_code"]
CODE = re.compile(r"^[A-Za-z0-9._-]{1,20}$")
NAME_MAX = Unit.__table__.c.name.type.length
LEVEL_MAX = Unit.__table__.c.level.type.length
INVISIBLE = "must not hold line breaks, tabs or invisible characters (such as a direction override)"
MAX_POPULATION = 100_000_000  # ten times the largest province; the column is a 32-bit integer
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# A merger is resolved months ahead, not years: a later day is a typing slip (2205 for 2025).
CLOSING_AHEAD = timedelta(days=366)


def parse_units(raw: bytes) -> dict[str, dict]:
    """Check a units CSV; return its rows by code, or raise FileProblems for the whole file."""
    header, rows = read_rows(raw, COLUMNS, ["population", "closed_on"])
    problems: list[tuple[int, str]] = []
    units: dict[str, dict] = {}
    for line, row in rows:
        if not isinstance(row, dict):  # the row's problem
            problems.append((line, row))
            continue
        code = row["code"].strip()
        name = row["name"].strip()
        level = row["level"].strip()
        if not CODE.match(code):
            problems.append((line, f"code {code!r} must be 1-20 letters, digits, '.', '_' or '-'"))
            continue
        if code in units:
            problems.append((line, f"code {code} already appears on line {units[code]['line']}"))
            continue
        for column, value, longest in (("name", name, NAME_MAX), ("level", level, LEVEL_MAX)):
            # The rule of a counter's label: a direction override in a unit's name would turn
            # it around on every page, poster and chart.
            fault = name_fault(value, longest)
            if fault is NameFault.CHARACTERS:
                problems.append((line, f"{column} {INVISIBLE}"))
            elif fault is not None:
                problems.append((line, f"{column} is required ({longest} characters at most)"))
        population = (row.get("population") or "").strip().replace(" ", "")
        if population and not (population.isascii() and population.isdigit()):
            problems.append((line, f"population {population!r} is not a whole number"))
            population = ""
        elif len(population.lstrip("0")) > 9 or int(population or 0) > MAX_POPULATION:
            # The length first: int() refuses strings of more than 4,300 digits.
            problems.append((line, f"population must be at most {MAX_POPULATION:,}"))
            population = ""
        units[code] = {
            "line": line,
            "name": name,
            "level": level,
            "parent_code": row["parent_code"].strip() or None,
            "population": int(population) if population else None,
        }
        if "closed_on" in header:  # without the column, a unit keeps its closing day
            closed_on, problem = _closing_day(row.get("closed_on") or "")
            if problem:
                problems.append((line, problem))
            units[code]["closed_on"] = closed_on
    if not units and not problems:
        problems.append((0, "the file has no units"))
    existing = dict(db.session.execute(select(Unit.code, Unit.parent_id)).all())
    closed_on = dict(db.session.execute(select(Unit.code, Unit.closed_on)).all())
    codes_by_id = dict(db.session.execute(select(Unit.id, Unit.code)).all())
    parents = {code: codes_by_id.get(pid) for code, pid in existing.items()}
    for code, unit in units.items():
        parent = unit["parent_code"]
        if parent == code:
            problems.append((unit["line"], f"unit {code} cannot be its own parent"))
        elif parent and parent not in units and parent not in existing:
            problems.append((unit["line"], f"unknown parent_code {parent}"))
        parents[code] = parent
        closed_on[code] = unit.get("closed_on", closed_on.get(code))
    problems += _cycles(units, parents)
    problems += _open_under_closed(units, parents, closed_on)
    if problems:
        raise FileProblems(problems)
    return units


def _closing_day(text: str) -> tuple[date | None, str | None]:
    """Return the closing day of a closed_on cell (None: open), or the cell's problem."""
    text = text.strip()
    if not text:
        return None, None
    try:
        day = date.fromisoformat(text) if DAY.match(text) else None
    except ValueError:
        day = None
    if day is None:
        return None, f"closed_on {text[:20]!r} is not a day written YYYY-MM-DD"
    if day > local_today() + CLOSING_AHEAD:
        return None, f"closed_on {text} is more than a year from today"
    return day, None


def _open_under_closed(
    units: dict[str, dict], parents: dict[str, str | None], closed_on: dict[str, date | None]
) -> list[tuple[int, str]]:
    """A unit that would outlive its parent, once the file is applied: on the line of the unit
    if the file has it, else on the parent's line, naming the units under it still open."""
    problems, outliving = [], {}
    for code, parent in parents.items():
        ends, parent_ends = closed_on.get(code), closed_on.get(parent)
        if parent is None or parent_ends is None or (ends is not None and ends <= parent_ends):
            continue
        if code in units:
            problems.append(
                (units[code]["line"], f"unit {code} would be open after its parent {parent} "
                 f"closes on {parent_ends}")
            )  # fmt: skip
        elif parent in units:
            outliving.setdefault(parent, []).append(code)
    for parent, codes in outliving.items():
        named = ", ".join(sorted(codes)[:5]) + (", …" if len(codes) > 5 else "")
        problems.append(
            (units[parent]["line"], f"unit {parent} cannot close on {closed_on[parent]} while "
             f"{len(codes)} unit(s) under it stay open: {named}")
        )  # fmt: skip
    return problems


def _cycles(units: dict[str, dict], parents: dict[str, str | None]) -> list[tuple[int, str]]:
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
                    problems.append(
                        (units[member]["line"], f"unit {member} is in a cycle: {' → '.join(loop)}")
                    )
    return problems


def import_units(raw: bytes, file_name: str, *, actor: User | None) -> tuple[int, int, int]:
    """Create or update the units of a CSV file, recording each unit it adds or changes with
    the file's name and digest and who imported it (None: the command line); return how many
    units of the file were created, changed and left as they were."""
    rows = parse_units(raw)
    by_code = {u.code: u for u in db.session.scalars(select(Unit))}
    before = values_by_code(by_code.values())
    created = 0
    for code, row in rows.items():
        unit = by_code.get(code)
        if unit is None:
            unit = Unit(code=code, path="/")
            db.session.add(unit)
            by_code[code] = unit
            created += 1
        unit.name, unit.level = row["name"], row["level"]
        if row["population"] is not None:
            unit.population = row["population"]
        if "closed_on" in row:  # an empty cell reopens a closed unit, as its history says
            unit.closed_on = row["closed_on"]
    db.session.flush()
    for code, row in rows.items():
        parent = by_code.get(row["parent_code"]) if row["parent_code"] else None
        by_code[code].parent_id = parent.id if parent else None
    db.session.flush()
    rebuild_paths()
    sha256 = hashlib.sha256(raw).hexdigest()
    recorded = record_changes(before, by_code, rows, source=file_name, sha256=sha256, actor=actor)
    # core calls the survey as it loads the demo: a unit that no longer exists has no counters.
    from survey.services import retire_points_of_closed_units

    retire_points_of_closed_units()
    return created, recorded - created, len(rows) - recorded


def rebuild_paths() -> None:
    """Recompute every unit's materialised path from the parent links."""
    units = {u.id: u for u in db.session.scalars(select(Unit))}
    paths: dict[int, str] = {}

    def path_of(unit: Unit) -> str:
        if unit.id not in paths:
            prefix = path_of(units[unit.parent_id]) if unit.parent_id else "/"
            paths[unit.id] = f"{prefix}{unit.id}/"
        return paths[unit.id]

    for unit in units.values():
        unit.path = path_of(unit)


def unit_by_code(code: str) -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.code == code))
