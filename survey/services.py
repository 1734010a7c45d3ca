"""Survey points and recording responses (questionnaire versions: survey/questionnaires.py)."""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import Select, bindparam, func, insert, select
from sqlalchemy.orm import joinedload

from core.accounts import in_scope
from core.extensions import db
from core.forms import name_problem
from core.models import Unit, User, local_today, utcnow
from feedback.household import open_case_for_household_register
from survey.integrity import detect_flags, device_history, excluded_ids_clause, read_columns
from survey.models import (
    CRITERIA,
    Channel,
    PointAction,
    PointEvent,
    Questionnaire,
    Response,
    SurveyPoint,
)
from survey.tokens import new_token, token_from_digest, typed_token


def _record(
    point: SurveyPoint, actor: User | None, action: PointAction, detail: str | None = None
) -> None:
    """Add a line to the point's history; actor None is the command line."""
    db.session.add(PointEvent(point=point, actor=actor, action=action, detail=detail))


class PointLabelError(ValueError):
    """A label the back office's forms and `points add` refuse: the message says why, in
    English, as the command line says it."""


def _usable_label(label: str) -> str:
    """Return the label stripped, or raise PointLabelError by the forms' rule (name_fault): a
    counter without a name, or with an invisible one, cannot be told apart on the points page
    or on its poster."""
    if problem := name_problem(label, "the label"):
        raise PointLabelError(problem)
    return label.strip()


def add_point(
    unit: Unit, label: str, *, actor: User | None, token: str | None = None
) -> SurveyPoint:
    """Add a point to the unit; its token is a new random one unless given (add_point_once).

    Raises PointLabelError for a label the forms refuse.
    """
    point = SurveyPoint(unit=unit, label=_usable_label(label), token=token or new_token())
    db.session.add(point)
    _record(point, actor, PointAction.ADDED, point.label)
    db.session.flush()
    return point


def add_point_once(
    unit: Unit, label: str, form_key: str, secret_key: str, *, actor: User | None
) -> SurveyPoint:
    """Add a point from the back office's form, unless this form added it already; return it.

    The token is derived from the form's one-time key, the unit and the label, so the same
    form sent twice (a double click, Back and send again) names the same point and adds it
    once, with one line in its history; the token column's uniqueness holds when both arrive
    at the same instant (the view then rolls back and calls this again). Keyed with the app's
    secret, the token cannot be guessed from the form. Raises PointLabelError for a label the
    forms refuse.
    """
    label = _usable_label(label)
    message = "\x1f".join(("survey-point", form_key, unit.code, label))
    digest = hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).digest()
    token = token_from_digest(digest)
    return point_by_token(token) or add_point(unit, label, actor=actor, token=token)


def rename_point(point: SurveyPoint, label: str, *, actor: User | None) -> None:
    """Give the point a new label; its token, and so its printed QR code, stay the same.

    Raises PointLabelError for a label the forms refuse.
    """
    label = _usable_label(label)
    if label != point.label:
        _record(point, actor, PointAction.RENAMED, f"{point.label} → {label}")
        point.label = label


def retire_point(point: SurveyPoint, *, actor: User | None) -> None:
    """Retire an active point; a retired one keeps the day it was retired."""
    if point.active:
        point.active = False
        point.retired_at = utcnow()
        _record(point, actor, PointAction.RETIRED)


def retire_points_of_closed_units() -> int:
    """Retire the active points of every unit closed by today, by no account, each history line
    with the closing day as the unit's history words it (the CSV column's name); return how
    many. The survey page refuses answers from the closing day on
    already: this puts the points where the points page and `points list` show them."""
    points = db.session.scalars(
        select(SurveyPoint)
        .join(Unit, Unit.id == SurveyPoint.unit_id)
        .where(SurveyPoint.active, Unit.closed_on <= local_today())
        .order_by(SurveyPoint.id)
    ).all()
    for point in points:
        point.active = False
        point.retired_at = utcnow()
        _record(point, None, PointAction.RETIRED, f"closed_on: {point.unit.closed_on:%Y-%m-%d}")
    return len(points)


# Built once: every citizen's request reads its point.
_POINT_BY_TOKEN = (
    select(SurveyPoint)
    .options(joinedload(SurveyPoint.unit))
    .where(SurveyPoint.token == bindparam("token"))
)


def point_by_token(token: str) -> SurveyPoint | None:
    """Return the point of a token as stored, or as a person typed it from a poster."""
    return _by_token(token, lambda t: db.session.scalar(_POINT_BY_TOKEN, {"token": t}))


def _by_token(token: str, find):
    """What find(token) finds for the token as stored, else as a person typed it."""
    if not token or len(token) > 40:
        return None
    found = find(token)
    if found is None and (typed := typed_token(token)) not in (None, token):
        found = find(typed)
    return found


@dataclass(frozen=True, slots=True)
class UnitShown:
    """What the citizen's pages show of a point's unit, and whether it still exists."""

    id: int
    code: str
    name: str
    closed_on: date | None

    is_open_on = Unit.is_open_on


@dataclass(frozen=True, slots=True)
class PointShown:
    """A survey point as the citizen's pages use it, read as one row: the ORM's objects cost
    more than the rest of an answer's reading (bench/survey_load.py)."""

    id: int
    token: str
    secret: str
    active: bool
    unit: UnitShown

    in_use_on = SurveyPoint.in_use_on

    @property
    def unit_id(self) -> int:
        return self.unit.id


# Built once: every citizen's request reads its point.
_POINT_SHOWN = (
    select(
        SurveyPoint.id,
        SurveyPoint.token,
        SurveyPoint.secret,
        SurveyPoint.active,
        Unit.id,
        Unit.code,
        Unit.name,
        Unit.closed_on,
    )
    .join(Unit, Unit.id == SurveyPoint.unit_id)
    .where(SurveyPoint.token == bindparam("token"))
)


def point_shown(token: str) -> PointShown | None:
    """Return the point of a token, as point_by_token finds it, for the citizen's pages."""
    row = _by_token(token, lambda t: read_columns(_POINT_SHOWN, {"token": t}).first())
    if row is None:
        return None
    point_id, token, secret, active, *unit = row
    return PointShown(point_id, token, secret, active, UnitShown(*unit))


def point_url(point: SurveyPoint, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/s/{point.token}"


_RESPONSE_BY_KEY = select(Response).where(Response.submission_key == bindparam("key"))
# Built once: runs on every citizen's answer.
_INSERT_RESPONSE = insert(Response.__table__)


def response_by_key(key: str) -> Response | None:
    return db.session.scalar(_RESPONSE_BY_KEY, {"key": key})


class ReceiptAlreadyUsed(Exception):
    """The receipt's one answer was given already."""


def record_response(
    *,
    unit_id: int,
    point_id: int | None,
    questionnaire: Questionnaire,
    answers: dict,
    submission_key: str,
    channel: Channel,
    device: str | None = None,
    config=None,
    submitted_at: datetime | None = None,
    claim=None,
) -> tuple[int, bool]:
    """Add a response; return its id and whether it is new (not: the same answers from the same
    phone moments ago, sent again after Back, whose id this returns).

    A key recorded before (the same form sent twice, or both copies at one instant) raises
    IntegrityError, the key being unique: the caller rolls back. claim, if given, is called
    before a new response is added and must return True (a receipt that is still unanswered);
    otherwise ReceiptAlreadyUsed is raised.
    """
    now = submitted_at or utcnow()
    history = []
    if device is not None and config is not None:
        since = now - timedelta(hours=config["REPEAT_DEVICE_HOURS"])
        history = device_history(device, unit_id, since)
        # A receipt is one transaction, answered once (claim): the same answers from the same
        # phone to another receipt are another transaction's, not this one sent again.
        resent = None if claim is not None else _resent(
            history, point_id, answers, now - timedelta(minutes=config["RESEND_MINUTES"])
        )  # fmt: skip
        if resent is not None:
            return resent, False
    if claim is not None and not claim():
        raise ReceiptAlreadyUsed
    row = {
        "questionnaire_id": questionnaire.id,
        "unit_id": unit_id,
        "point_id": point_id,
        "channel": str(channel),
        "submission_key": submission_key,
        "submitted_at": now,
        "device_hash": device,
        "flags": "",
        # A criterion the questionnaire version does not ask stays blank.
        **dict.fromkeys(c.lower() for c in CRITERIA),
        **answers,
    }
    # The answer as it is stored, for the checks: a Response object costs more than the rest
    # of an answer's checks, and so would the ORM's unit of work for its INSERT
    # (bench/survey_load.py); the columns' defaults fill the folded comment.
    response = SimpleNamespace(**row)
    if config is not None:
        response.flags = row["flags"] = ",".join(detect_flags(response, config, history))
    inserted = db.session.connection().execute(_INSERT_RESPONSE, row)
    response.id = inserted.inserted_primary_key[0]
    if response.hk:
        # A paper household register asked for is a breach someone must answer for.
        open_case_for_household_register(response)
    return response.id, True


def _resent(history, point_id, answers: dict, since: datetime) -> int | None:
    """Return the id of the same answers from the same phone moments ago (sent again after Back)."""
    for row in history:
        if (
            row.point_id == point_id
            and row.submitted_at >= since
            and all(getattr(row, name) == value for name, value in answers.items())
        ):
            return row.id
    return None


def points_in_scope(user) -> Select:
    """The survey points of the units in the account's scope, in tree order."""
    return (
        select(SurveyPoint)
        .join(Unit, Unit.id == SurveyPoint.unit_id)
        .where(in_scope(user))
        .order_by(Unit.path, SurveyPoint.id)
    )


def point_counts(point_ids: list[int]) -> dict[int, dict[str, int]]:
    """Count these points' responses by channel, and how many are flagged or excluded."""
    return _counts(Response.point_id.in_(point_ids))


def counts_of_point(point_id: int) -> dict[str, int]:
    """Count one point's responses by channel, and how many are flagged or excluded."""
    return _counts(Response.point_id == point_id).get(point_id, {})


def counts_query(which):
    """The counts of the points which selects, from the index on point, channel and flags."""
    return (
        select(
            Response.point_id,
            Response.channel,
            func.count(),
            func.count().filter(Response.flags != ""),
            func.count().filter(~excluded_ids_clause()),
        )
        .where(which)
        .group_by(Response.point_id, Response.channel)
    )


def _counts(which) -> dict[int, dict[str, int]]:
    rows = db.session.execute(counts_query(which))
    counts: dict[int, dict[str, int]] = {}
    for point_id, channel, total, n_flagged, n_excluded in rows:
        c = counts.setdefault(point_id, {"total": 0, "flagged": 0, "excluded": 0})
        c[channel] = total
        c["total"] += total
        c["flagged"] += n_flagged
        c["excluded"] += n_excluded
    return counts


def active_points_by_unit(within: Unit | None) -> dict[int, int]:
    """How many survey points in use each unit has (of within and the units under it)."""
    query = (
        select(SurveyPoint.unit_id, func.count())
        .join(Unit, Unit.id == SurveyPoint.unit_id)
        .where(SurveyPoint.active, Unit.open_on(local_today()))
    )
    if within is not None:
        query = query.where(Unit.path.startswith(within.path))
    return dict(db.session.execute(query.group_by(SurveyPoint.unit_id)).all())
