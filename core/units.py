"""The unit tree: import from CSV (each change recorded) and export to it, keep the
materialised paths right."""

import csv
import hashlib
import io
import re
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import Row, func, select

from core.csvfile import FileProblems, Problem, defused, grouped, read_rows, undefused
from core.extensions import db
from core.forms import NameFault, name_fault
from core.lazytext import lazy_gettext as _l
from core.models import Unit, User, local_today
from core.unit_codes import DamagedCodes, damaged_code_problem
from core.unit_history import record_changes, values_by_code

COLUMNS = ["code", "name", "level", "parent_code"]
CODE = re.compile(r"^[A-Za-z0-9._-]{1,20}$")
NAME_MAX = Unit.__table__.c.name.type.length
LEVEL_MAX = Unit.__table__.c.level.type.length
# The columns of a unit that the tree's page and download read.
LISTED = (
    Unit.id, Unit.code, Unit.name, Unit.level, Unit.parent_id, Unit.population, Unit.closed_on
)  # fmt: skip
MAX_POPULATION = 100_000_000  # ten times the largest province; the column is a 32-bit integer
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# A merger is resolved months ahead, not years: a later day is a typing slip (2205 for 2025).
CLOSING_AHEAD = timedelta(days=366)


class Imported(NamedTuple):
    """How many units of an imported file were added, changed and left as they were."""

    added: int
    changed: int
    unchanged: int


def parse_units(raw: bytes) -> dict[str, dict]:
    """Check a units CSV; return its rows by code, or raise FileProblems for the whole file."""
    header, rows = read_rows(raw, COLUMNS, ["population", "closed_on"])
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
        population = (row.get("population") or "").strip().replace(" ", "")
        if population and not (population.isascii() and population.isdigit()):
            problems.append(
                (line, _l("population %(value)s is not a whole number", value=repr(population)))
            )
            population = ""
        elif len(population.lstrip("0")) > 9 or int(population or 0) > MAX_POPULATION:
            # The length first: int() refuses strings of more than 4,300 digits.
            problems.append(
                (line, _l("population must be at most %(most)s", most=grouped(MAX_POPULATION)))
            )
            population = ""
        units[code] = {
            "line": line,
            "name": name,
            "level": level,
            "parent_code": parent_code or None,
            "population": int(population) if population else None,
        }
        if "closed_on" in header:  # without the column, a unit keeps its closing day
            closed_on, problem = _closing_day(row.get("closed_on") or "")
            if problem is not None:
                problems.append((line, problem))
            units[code]["closed_on"] = closed_on
    if not units and not problems:
        problems.append((0, _l("the file has no units")))
    existing = dict(db.session.execute(select(Unit.code, Unit.parent_id)).all())
    closed_on = dict(db.session.execute(select(Unit.code, Unit.closed_on)).all())
    codes_by_id = dict(db.session.execute(select(Unit.id, Unit.code)).all())
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
    problems += _cycles(units, parents)
    problems += _open_under_closed(units, parents, closed_on)
    if problems:
        raise FileProblems(problems)
    return units


def _damaged_codes(units: dict[str, dict], damaged: DamagedCodes) -> list[tuple[int, Problem]]:
    """The codes and parent codes of the file that are not in the database but are probably one
    that is, its leading zeros lost to a spreadsheet: imported, they would add a second tree."""
    problems = []
    for code, unit in units.items():
        for column, value in (("code", code), ("parent_code", unit["parent_code"])):
            if value and (probable := damaged.probable(value)):
                problems.append((unit["line"], damaged_code_problem(column, value, probable)))
    return problems


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


def import_units(raw: bytes, file_name: str, *, actor: User | None) -> Imported:
    """Create or update the units of a CSV file, recording each unit it adds or changes with
    the file's name and digest and who imported it (None: the command line); return how many
    units of the file were created, changed and left as they were. The caller commits, or
    rolls back on FileProblems."""
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
    source = printable(file_name)
    recorded = record_changes(before, by_code, rows, source=source, sha256=sha256, actor=actor)
    # core calls the survey as it loads the demo: a unit that no longer exists has no counters.
    from survey.services import retire_points_of_closed_units

    retire_points_of_closed_units()
    return Imported(created, recorded - created, len(rows) - recorded)


def printable(name: str) -> str:
    """A file's name as a history line may print it: no tab, line break or other control."""
    return "".join(ch if ch.isprintable() else "?" for ch in name)


def export_units(within: Unit | None = None) -> bytes:
    """The units (of within and those under it, or every unit) in tree order, as a file
    import_units reads back unchanged: UTF-8 with a BOM (for Excel), CRLF lines, a value a
    spreadsheet would take for a formula behind an apostrophe."""
    units = [unit for unit, _depth in units_in_tree_order(within)]
    codes = {u.id: u.code for u in units}
    if within is not None and within.parent is not None:  # above the file's top, kept
        codes[within.parent_id] = within.parent.code
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*COLUMNS, "population", "closed_on"])
    for u in units:
        cells = (u.code, u.name, u.level, codes.get(u.parent_id, ""))
        numbers = ("" if u.population is None else u.population, u.closed_on or "")
        writer.writerow([*map(defused, cells), *numbers])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


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


def units_in_tree_order(within: Unit | None = None) -> list[tuple[Row, int]]:
    """The units (of within and those under it, or every unit), each after its parent and
    before its parent's next child, siblings by code; each with its depth below the top.
    Each unit is a row of its columns, not a Unit: 11,000 of them load in a fifth of the
    time."""
    query = select(*LISTED)
    if within is not None:
        query = query.where(Unit.path.startswith(within.path))
    # Sorted by code first, so that each unit's children are listed in that order below.
    units = sorted(db.session.execute(query).all(), key=_code)
    ids = {u.id for u in units}
    tops: list[Row] = []
    children: dict[int, list[Row]] = {}
    for unit in units:
        if unit.parent_id in ids:
            children.setdefault(unit.parent_id, []).append(unit)
        else:
            tops.append(unit)
    ordered: list[tuple[Row, int]] = []
    waiting = [(u, 0) for u in reversed(tops)]
    while waiting:  # depth first, without recursion: a tree may be deep
        unit, depth = waiting.pop()
        ordered.append((unit, depth))
        if below := children.get(unit.id):
            waiting += [(c, depth + 1) for c in reversed(below)]
    return ordered


def units_under(unit: Unit) -> int:
    """How many units are under the unit, at any depth."""
    query = select(func.count()).where(Unit.path.startswith(unit.path), Unit.id != unit.id)
    return db.session.scalar(query)


def _code(unit: Row) -> str:
    return unit.code


def unit_by_code(code: str) -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.code == code))


def register_unit_count(app, label, count) -> None:
    """Add a column to the unit tree's page: count(within) gives {unit id: n} for the units
    under within (every unit for None), in one query. A module's count, so that core does not
    read the module's tables itself."""
    app.extensions.setdefault("unit_counts", []).append((label, count))
