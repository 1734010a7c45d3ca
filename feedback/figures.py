"""PAKN figures per unit and period, for the analysis module: plain dicts keyed by unit id.

Every function takes unit ids and, where it applies, the period's first and last day (local
dates, both included); each unit id asked for is in the answer, with zeros if it had no case.
Units are counted as they are, not rolled up the tree: the caller sums subtrees.

- received: cases that came in at the unit (where they were received, even if transferred).
- handling_satisfaction, median_days_to_answer: cases the unit is responsible for now (after
  any transfer), within its competence (classified as "competent" or "difficulty"; not accepted
  and forwarded cases are left out).
- handled_on_time: the same cases, and every case still open at the unit whatever its
  classification so far (not yet classified, or outside and not yet forwarded): overdue is
  overdue, so a unit cannot keep a late case out of the ratio by leaving it unclassified.
- open_and_overdue: every open case the unit is responsible for now; the due date of a case
  classified outside the unit's competence is its forwarding deadline.
- procedure_satisfaction: the dossiers (receipt codes) issued at the unit, whatever PAKN
  became of them or where those went.
"""

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
from sqlalchemy import and_, case, exists, func, or_, select

from core.extensions import db
from core.models import local_day_start
from feedback.models import Case, Topic
from feedback.workflow import OPEN_STATES, Outcome
from survey.integrity import excluded_ids_clause
from survey.models import CRITERIA, ReceiptCode, Response

COMPETENCE = [str(Outcome.COMPETENT), str(Outcome.DIFFICULTY)]
OPEN = [str(s) for s in OPEN_STATES]
UNCLASSIFIED = "unclassified"

# Decision 766's satisfaction with procedures: a dossier counts against its unit when its survey
# response was "rated không hài lòng" or a PAKN about its reception, handling or lateness names
# it (docs/methods.md, "PAKN ratios").
#
# Rated "không hài lòng": at least half of the criteria the response answered 1-5 were answered
# 1 (rất không hài lòng) or 2 (không hài lòng). 3 (bình thường) is not dissatisfaction; one
# criterion at 2 among many satisfied ones is a remark, not a dossier rated dissatisfied; a tie
# counts against the unit. A response with no answer 1-5 rated nothing.
DISSATISFIED_SHARE = 0.5
DISSATISFIED_ANSWERS = (1, 2)
# Topics about the dossier's reception (staff attitude), handling (documents or fees beyond the
# rules) or lateness (delay). Not a procedure's regulation itself, the premises, or "other".
PROCEDURE_TOPICS = (Topic.ATTITUDE, Topic.DOCUMENTS_FEES, Topic.DELAY)


def rated_dissatisfied(answers: Sequence[int | None]) -> bool:
    """Say whether a response's answers (None blank, 0 no opinion, 1-5) rate it dissatisfied."""
    answered = [a for a in answers if a is not None and 1 <= a <= 5]
    low = [a for a in answered if a in DISSATISFIED_ANSWERS]
    return bool(answered) and len(low) >= DISSATISFIED_SHARE * len(answered)


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
    None when n is 0. Cases within the unit's competence count, and so does every open case
    whatever its classification so far: one past its due date is late.
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
            or_(Case.outcome.in_(COMPETENCE), Case.state.in_(OPEN)),
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


def _response_dissatisfied():
    """SQL condition on Response: rated_dissatisfied over its criterion columns."""
    columns = [getattr(Response, c.lower()) for c in CRITERIA]
    answered = sum(case((c.between(1, 5), 1), else_=0) for c in columns)
    low = sum(case((c.in_(DISSATISFIED_ANSWERS), 1), else_=0) for c in columns)
    return and_(answered > 0, low >= answered * DISSATISFIED_SHARE)


def procedure_satisfaction(
    unit_ids: Sequence[int], first_day: date, last_day: date
) -> dict[int, dict]:
    """Decision 766's "satisfaction with procedures", for the dossiers issued in the period.

    A dossier is a receipt code, counted at the unit that issued it on the local day it was
    issued. {unit: {n, dissatisfied, rated_dissatisfied, with_pakn, ratio}}: n dossiers;
    rated_dissatisfied those whose survey response (not excluded) is rated dissatisfied;
    with_pakn those named by a PAKN of a PROCEDURE_TOPICS topic, whenever it was sent and
    whatever became of it; dissatisfied those with either, once; ratio = (n - dissatisfied) / n,
    or None when n is 0.
    """
    start = local_day_start(first_day)
    end = local_day_start(last_day + timedelta(days=1))
    rated = (
        select(Response.id)
        .where(Response.id == ReceiptCode.response_id, excluded_ids_clause())
        .where(_response_dissatisfied())
    )
    pakn = select(Case.id).where(
        Case.receipt_id == ReceiptCode.id, Case.topic.in_([str(t) for t in PROCEDURE_TOPICS])
    )
    rated, pakn = exists(rated), exists(pakn)
    rows = db.session.execute(
        select(
            ReceiptCode.unit_id,
            func.count(),
            func.count().filter(rated | pakn),
            func.count().filter(rated),
            func.count().filter(pakn),
        )
        .where(
            ReceiptCode.unit_id.in_(list(unit_ids)),
            ReceiptCode.created_at >= start,
            ReceiptCode.created_at < end,
        )
        .group_by(ReceiptCode.unit_id)
    )
    empty = {"n": 0, "dissatisfied": 0, "rated_dissatisfied": 0, "with_pakn": 0, "ratio": None}
    result = {u: dict(empty) for u in unit_ids}
    for unit_id, n, dissatisfied, by_rating, by_pakn in rows:
        result[unit_id] = {
            "n": n,
            "dissatisfied": dissatisfied,
            "rated_dissatisfied": by_rating,
            "with_pakn": by_pakn,
            "ratio": (n - dissatisfied) / n if n else None,
        }
    return result
