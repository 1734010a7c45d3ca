"""PAKN figures per unit and period, for the analysis module: plain dicts keyed by unit id.

Every function takes unit ids and, where it applies, the period's first and last day (local
dates, both included); each unit id asked for is in the answer, with zeros if it had no case.
Units are counted as they are, not rolled up the tree: the caller sums subtrees.

- received: cases that came in at the unit (where they were received, even if transferred).
- handled_on_time, handling_satisfaction, median_days_to_answer: cases the unit is responsible
  for now (after any transfer), within its competence (classified as "competent" or
  "difficulty"; not accepted and forwarded cases are left out).
- open_and_overdue: every open case the unit is responsible for now; the due date of a case
  classified outside the unit's competence is its forwarding deadline.
"""

from collections.abc import Sequence
from datetime import date

import numpy as np
from sqlalchemy import func, or_, select

from core.extensions import db
from feedback.models import Case
from feedback.workflow import OPEN_STATES, Outcome

COMPETENCE = [str(Outcome.COMPETENT), str(Outcome.DIFFICULTY)]
OPEN = [str(s) for s in OPEN_STATES]
UNCLASSIFIED = "unclassified"


def received(unit_ids: Sequence[int], first_day: date, last_day: date) -> dict[int, dict]:
    """Cases received in the period: {unit: {total, by_channel, by_topic, by_outcome}}.

    by_outcome counts "not_accepted", "difficulty", "competent", "outside" and "unclassified".
    """
    result = {u: {"total": 0, "by_channel": {}, "by_topic": {}, "by_outcome": {}} for u in unit_ids}
    period = (
        Case.received_unit_id.in_(list(unit_ids)),
        Case.received_on >= first_day,
        Case.received_on <= last_day,
    )
    for column, name in ((Case.channel, "by_channel"), (Case.topic, "by_topic"),
                         (Case.outcome, "by_outcome")):  # fmt: skip
        rows = db.session.execute(
            select(Case.received_unit_id, column, func.count())
            .where(*period)
            .group_by(Case.received_unit_id, column)
        )
        for unit_id, value, count in rows:
            result[unit_id][name][value or UNCLASSIFIED] = count
            if name == "by_channel":
                result[unit_id]["total"] += count
    return result


def handled_on_time(
    unit_ids: Sequence[int], first_day: date, last_day: date, today: date
) -> dict[int, dict]:
    """Decision 766's "PAKN handled on time", for cases received in the period.

    {unit: {n, on_time, pending, ratio}}: n counts the cases whose result is known today
    (answered, or past their due date unanswered); on_time those answered on or before the due
    date; pending those still open and not yet due (left out of n). ratio = on_time / n, or
    None when n is 0.
    """
    answered = Case.answered_on.is_not(None)
    rows = db.session.execute(
        select(
            Case.unit_id,
            func.count().filter(answered | (Case.due_on < today)),
            func.count().filter(answered & (Case.answered_on <= Case.due_on)),
            func.count().filter(~answered & (Case.due_on >= today)),
        )
        .where(
            Case.unit_id.in_(list(unit_ids)),
            Case.outcome.in_(COMPETENCE),
            Case.received_on >= first_day,
            Case.received_on <= last_day,
        )
        .group_by(Case.unit_id)
    )
    result = {u: {"n": 0, "on_time": 0, "pending": 0, "ratio": None} for u in unit_ids}
    for unit_id, n, on_time, pending in rows:
        ratio = on_time / n if n else None
        result[unit_id] = {"n": n, "on_time": on_time, "pending": pending, "ratio": ratio}
    return result


def handling_satisfaction(
    unit_ids: Sequence[int], first_day: date, last_day: date
) -> dict[int, dict]:
    """Decision 766's "satisfaction with PAKN handling", for cases answered in the period.

    {unit: {n, dissatisfied, rated, ratio}}: n answered cases; dissatisfied those the citizen
    ever rated "not satisfied" (a reopening and a better rating of the next answer do not take
    that back); rated those with a rating now or such a rating before; ratio = (n -
    dissatisfied) / n, or None when n is 0.
    """
    rows = db.session.execute(
        select(
            Case.unit_id,
            func.count(),
            func.count().filter(Case.ever_dissatisfied.is_(True)),
            func.count().filter(or_(Case.satisfied.is_not(None), Case.ever_dissatisfied.is_(True))),
        )
        .where(
            Case.unit_id.in_(list(unit_ids)),
            Case.outcome.in_(COMPETENCE),
            Case.answered_on >= first_day,
            Case.answered_on <= last_day,
        )
        .group_by(Case.unit_id)
    )
    result = {u: {"n": 0, "dissatisfied": 0, "rated": 0, "ratio": None} for u in unit_ids}
    for unit_id, n, dissatisfied, rated in rows:
        result[unit_id] = {
            "n": n,
            "dissatisfied": dissatisfied,
            "rated": rated,
            "ratio": (n - dissatisfied) / n if n else None,
        }
    return result


def median_days_to_answer(
    unit_ids: Sequence[int], first_day: date, last_day: date
) -> dict[int, float | None]:
    """Median calendar days from receipt to answer, for cases answered in the period."""
    rows = db.session.execute(
        select(Case.unit_id, Case.received_on, Case.answered_on).where(
            Case.unit_id.in_(list(unit_ids)),
            Case.outcome.in_(COMPETENCE),
            Case.answered_on >= first_day,
            Case.answered_on <= last_day,
        )
    ).all()
    result: dict[int, float | None] = dict.fromkeys(unit_ids)
    if not rows:
        return result
    units = np.array([r[0] for r in rows])
    days = (
        np.array([r[2] for r in rows], dtype="datetime64[D]")
        - np.array([r[1] for r in rows], dtype="datetime64[D]")
    ).astype(float)
    order = np.argsort(units, kind="stable")
    units, days = units[order], days[order]
    keys, starts = np.unique(units, return_index=True)
    for key, group in zip(keys, np.split(days, starts[1:]), strict=True):
        result[int(key)] = float(np.median(group))
    return result


def open_and_overdue(unit_ids: Sequence[int], today: date) -> dict[int, dict]:
    """Cases open now and, of those, past their due date: {unit: {open, overdue}}."""
    rows = db.session.execute(
        select(Case.unit_id, func.count(), func.count().filter(Case.due_on < today))
        .where(Case.unit_id.in_(list(unit_ids)), Case.state.in_(OPEN))
        .group_by(Case.unit_id)
    )
    result = {u: {"open": 0, "overdue": 0} for u in unit_ids}
    for unit_id, n_open, overdue in rows:
        result[unit_id] = {"open": n_open, "overdue": overdue}
    return result
