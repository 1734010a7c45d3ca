"""The unit tree to and from a units file: import one (each unit it adds or changes recorded)
and export the tree as one."""

import csv
import hashlib
import io
from typing import NamedTuple

from sqlalchemy import select

from core.csvfile import defused
from core.extensions import db
from core.models import Unit, User
from core.unit_history import record_changes, values_by_code
from core.unit_rows import COLUMNS, parse_units
from core.unit_tree import rebuild_paths, units_in_tree_order


class Imported(NamedTuple):
    """How many units of an imported file were added, changed and left as they were."""

    added: int
    changed: int
    unchanged: int


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
        if "merged_into" in row:  # an empty cell says it merged into none
            into = by_code.get(row["merged_into"]) if row["merged_into"] else None
            by_code[code].merged_into_id = into.id if into else None
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
    writer.writerow([*COLUMNS, "population", "closed_on", "merged_into"])
    for u in units:
        cells = (u.code, u.name, u.level, codes.get(u.parent_id, ""))
        numbers = ("" if u.population is None else u.population, u.closed_on or "")
        writer.writerow([*map(defused, cells), *numbers, defused(u.merged_into_code or "")])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
