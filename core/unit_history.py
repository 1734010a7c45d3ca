"""Who changed the unit tree: a line per unit an import (or the demo) added or changed, written
as the import applies the file, and read by `units history`."""

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.models import Unit, UnitAction, UnitEvent, User, utcnow

# The lines `units history` prints without a unit's code, unless told otherwise.
LATEST = 50
# What a line records of a unit: its values, in this order, under these names.
FIELDS = ("name", "level", "parent", "population", "closed_on", "merged_into")
# Where a detail's parts meet: "; " before a field's name.
_PARTS = re.compile(r"; (?=(?:name|level|parent|population|closed_on|merged_into): )")


def values_by_code(units: Iterable[Unit]) -> dict[str, tuple]:
    """Each unit's recorded values by its code: name, level, its parent's code, population,
    the day it closed, the code of the unit it merged into. The units given must include every
    parent and successor (all the units, as an import reads them)."""
    units = list(units)
    codes = {u.id: u.code for u in units}
    return {
        u.code: (
            u.name, u.level, codes.get(u.parent_id), u.population, u.closed_on,
            codes.get(u.merged_into_id),
        )
        for u in units
    }  # fmt: skip


def _shown(value) -> str:
    return "-" if value is None else str(value)


def _detail(before: tuple | None, after: tuple) -> str:
    """All the values of a unit added (an open one's closing day and successor, none, left
    out); the old and new value of each one changed."""
    if before is None:
        values = zip(FIELDS, after, strict=True)
        optional = ("closed_on", "merged_into")
        return "; ".join(f"{f}: {_shown(v)}" for f, v in values if f not in optional or v)
    return "; ".join(
        f"{f}: {_shown(old)} → {_shown(new)}"
        for f, old, new in zip(FIELDS, before, after, strict=True)
        if old != new
    )


def record_changes(
    before: dict[str, tuple],
    units: dict[str, Unit],
    codes: Iterable[str],
    *,
    source: str,
    sha256: str | None,
    actor: User | None,
) -> int:
    """Record a line for each unit of codes that was added (not in before) or whose values
    differ from before; a unit the file left as it was gets none. Every line of the call has
    the same time, source and digest: they are one import. Return how many were recorded."""
    after = values_by_code(units.values())
    at = utcnow()
    recorded = 0
    for code in codes:
        old, new = before.get(code), after[code]
        if old == new:
            continue
        action = UnitAction.ADDED if old is None else UnitAction.CHANGED
        db.session.add(
            UnitEvent(
                unit_id=units[code].id,
                actor_id=actor.id if actor else None,
                action=str(action),
                detail=_detail(old, new),
                source=source[:255],
                source_sha256=sha256,
                at=at,
            )
        )
        recorded += 1
    return recorded


def unit_history(unit: Unit, limit: int | None = None) -> list[UnitEvent]:
    """The unit's history, newest first, with who ran each import."""
    return _events(select(UnitEvent).where(UnitEvent.unit_id == unit.id), limit)


def latest_unit_changes(limit: int = LATEST, within: Unit | None = None) -> list[UnitEvent]:
    """The latest lines of every unit's history (or of a unit and the units under it), newest
    first."""
    query = select(UnitEvent)
    if within is not None:
        query = query.join(Unit, Unit.id == UnitEvent.unit_id).where(
            Unit.path.startswith(within.path)
        )
    return _events(query, limit)


def detail_parts(detail: str) -> list[tuple[str, str]]:
    """A line's detail as (field, what it says of it), for a page to name each field in its
    reader's language; a part that names no field is kept whole under an empty field."""
    parts: list[tuple[str, str]] = []
    for part in _PARTS.split(detail):
        field, colon, text = part.partition(": ")
        if colon and field in FIELDS:
            parts.append((field, text))
        elif parts:  # a "; " within a value: it belongs to the field before
            parts[-1] = (parts[-1][0], f"{parts[-1][1]}; {part}")
        else:
            parts.append(("", part))
    return parts


def _events(query, limit: int | None) -> list[UnitEvent]:
    query = (
        query.order_by(UnitEvent.at.desc(), UnitEvent.id.desc())
        .options(selectinload(UnitEvent.actor), selectinload(UnitEvent.unit))
        .limit(limit)
    )
    return list(db.session.scalars(query))
