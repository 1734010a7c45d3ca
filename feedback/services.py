"""Operations on cases: receive, move through the workflow, rate. They record who acted.

Services change objects and leave the commit to the caller.
"""

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select, update

from core.apikeys import ApiKey
from core.extensions import db
from core.lazytext import lazy_gettext as _l
from core.models import Unit, User, local_day_start, utcnow
from feedback import codes, outbox
from feedback.images import Photo, PhotoError, reencode
from feedback.models import (
    Case,
    CaseEvent,
    CasePerson,
    CasePhoto,
    Channel,
    Kind,
    MailEvent,
    Topic,
)
from feedback.moves import MOVES, can_handle
from feedback.settings import setting
from feedback.workdays import answer_due, local_today, to_local_date
from feedback.workflow import Action, IllegalMove, State, check_move
from survey.integrity import receipt_by_code
from survey.models import ReceiptCode

log = logging.getLogger(__name__)


class Conflict(Exception):
    """Someone else changed the case since the page was shown."""


def case_by_code(code: str | None) -> Case | None:
    code = codes.normalise(code)
    if code is None:
        return None
    return db.session.scalar(select(Case).where(Case.code == code))


def case_by_key(key: str) -> Case | None:
    return db.session.scalar(select(Case).where(Case.submission_key == key))


class ReceiptRefused(Exception):
    """A PAKN names a receipt code that no dossier has (receipt None), or one of another unit."""

    def __init__(self, receipt: ReceiptCode | None):
        super().__init__(receipt.code if receipt else None)
        self.receipt = receipt


def receipt_for_case(unit: Unit, text: str) -> ReceiptCode:
    """Return the receipt a PAKN for the unit names: issued at the unit or a unit under it.

    The code is read as /r reads it. A used or expired code is accepted: a PAKN about a dossier
    often follows its survey, or comes after the survey's time is up.
    """
    receipt = receipt_by_code(text)
    if receipt is None:
        raise ReceiptRefused(None)
    if not receipt.unit.is_within(unit):
        raise ReceiptRefused(receipt)
    return receipt


def _unused_code() -> str:
    while True:
        code = codes.new_code()
        if db.session.scalar(select(Case.id).where(Case.code == code)) is None:
            return code


def _record(case, action, actor=None, label=None, before=None, note=None, detail=None, now=None):
    db.session.add(
        CaseEvent(
            case=case,
            at=now or utcnow(),
            actor=actor,
            actor_label=label,
            action=str(action),
            from_state=before,
            to_state=case.state,
            note=note or None,
            detail=detail,
        )
    )


def create_case(
    unit: Unit,
    *,
    kind: Kind,
    topic: Topic,
    content: str,
    channel: Channel,
    person: dict | None = None,
    photos: list[Photo] = (),
    point_id: int | None = None,
    response_id: int | None = None,
    receipt: ReceiptCode | None = None,
    api_key: ApiKey | None = None,
    submission_key: str | None = None,
    actor: User | None = None,
    actor_label: str | None = None,
    received_at: datetime | None = None,
    received_on=None,
    locale: str | None = None,
) -> Case:
    """Receive a case for a unit; its deadline counts from the day it was received.

    locale is the language of the citizen's page, for their e-mails; the default language for
    cases entered by staff or handed over by other systems.
    """
    received_at = received_at or utcnow()
    if received_on is not None and received_on != to_local_date(received_at):
        # Entered later from paper: it was received that day, at an unknown hour.
        received_at = local_day_start(received_on)
    received_on = received_on or to_local_date(received_at)
    case = Case(
        code=_unused_code(),
        kind=str(Kind(kind)),
        topic=str(Topic(topic)),
        channel=str(Channel(channel)),
        content=content.strip(),
        state=str(State.RECEIVED),
        received_unit_id=unit.id,
        unit_id=unit.id,
        point_id=point_id,
        response_id=response_id,
        receipt_id=receipt.id if receipt else None,
        api_key_id=api_key.id if api_key else None,
        submission_key=submission_key,
        received_at=received_at,
        received_on=received_on,
        counted_from=received_on,
        due_on=answer_due(str(topic), received_on),
        locale=_language(locale),
        updated_at=utcnow(),
    )
    person = {k: (v or "").strip() or None for k, v in (person or {}).items()}
    if any(person.get(k) for k in ("name", "phone", "email", "address")):
        case.person = CasePerson(
            name=person.get("name"),
            phone=person.get("phone"),
            email=person.get("email"),
            address=person.get("address"),
            consent_at=utcnow(),
        )
    for position, photo in enumerate(photos, start=1):
        case.photos.append(
            CasePhoto(
                position=position,
                width=photo.width,
                height=photo.height,
                data=photo.data,
                pending=photo.pending,
            )
        )
    db.session.add(case)
    label = actor_label or (None if actor else "citizen")
    _record(case, Action.RECEIVE, actor, label, now=received_at, detail=f"channel={case.channel}")
    outbox.queue(case, MailEvent.RECEIVED)
    return case


def _language(locale: str | None) -> str:
    languages = current_app.config["LANGUAGES"]
    return locale if locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def pending_photos(case_ids: list[int] | None = None) -> list[int]:
    """Return the ids of the photos still as citizens sent them (of these cases, or all)."""
    query = select(CasePhoto.id).where(CasePhoto.pending).order_by(CasePhoto.id)
    if case_ids is not None:
        query = query.where(CasePhoto.case_id.in_(case_ids))
    return list(db.session.scalars(query))


def finish_photo(photo_id: int) -> bool:
    """Re-encode a pending photo; return whether this call changed it (False: done already).

    Citizens' photos are only inspected in their request (nothing slow, image work included, runs
    inside a citizen's request). The
    photo is replaced by its re-encoded JPEG before staff see it, or removed, with a line in the
    case's history, when it cannot be decoded after all. Each change is conditional on the
    photo still being pending, so two staff opening a case at once do it once. The caller
    commits, best after each photo: on SQLite the write lock is held from the change on.
    """
    still_pending = (CasePhoto.id == photo_id) & CasePhoto.pending
    row = db.session.execute(
        select(CasePhoto.case_id, CasePhoto.position, CasePhoto.data).where(still_pending)
    ).first()
    if row is None:
        return False
    try:
        photo = reencode(
            row.data,
            max_bytes=setting("FEEDBACK_PHOTO_MAX_BYTES"),
            max_pixels=setting("FEEDBACK_PHOTO_MAX_PIXELS"),
            max_side=setting("FEEDBACK_PHOTO_MAX_SIDE"),
            stored_bytes=setting("FEEDBACK_PHOTO_STORED_BYTES"),
        )
    except Exception as e:  # PhotoError, or Pillow failing on a malformed file some other way
        if not isinstance(e, PhotoError):
            log.warning("photo %s could not be decoded: %r", photo_id, e)
        if not db.session.execute(delete(CasePhoto).where(still_pending)).rowcount:
            return False
        case = db.session.get(Case, row.case_id)
        _record(case, Action.COMMENT, label="system", before=case.state,
                detail=f"photo_removed={row.position} (unreadable)")  # fmt: skip
        return True
    values = {"data": photo.data, "width": photo.width, "height": photo.height}
    changed = update(CasePhoto).where(still_pending).values(pending=False, **values)
    return bool(db.session.execute(changed).rowcount)


def apply_action(
    case: Case,
    action: Action,
    actor: User,
    version: int,
    note: str = "",
    *,
    outcome: str | None = None,
    unit: Unit | None = None,
    handler: User | None = None,
    agency: str = "",
    answer: str = "",
    summary: str = "",
    published_answer: str = "",
    now: datetime | None = None,
) -> Case:
    """Make one move on the case for a staff member, or raise IllegalMove or Conflict."""
    if version != case.version:
        raise Conflict()
    if not can_handle(actor, case):
        raise IllegalMove(_l("This case is not in your units."))
    action = Action(action)
    note = (note or "").strip()
    before = case.state
    target = check_move(State(case.state), case.outcome, action, actor.role, note)
    now = now or utcnow()
    today = local_today(now)
    detail = MOVES[action](
        case, actor, note=note, outcome=outcome, unit=unit, handler=handler,
        agency=(agency or "").strip(), answer=(answer or "").strip(),
        summary=(summary or "").strip(), published_answer=(published_answer or "").strip(),
        now=now, today=today,
    )  # fmt: skip
    if action is Action.ANSWER and note:
        # The answer's line keeps the answer, which a later answer replaces on the case: a
        # note written with it gets a line of its own, before it.
        _record(case, Action.COMMENT, actor, None, before, note, None, now)
        note = ""
    case.state = str(target)
    case.updated_at = now
    if target in (State.REJECTED, State.FORWARDED, State.ANSWERED) and before != target:
        case.finished_at = now
    event_note = case.answer if action is Action.ANSWER else None
    _record(case, action, actor, None, before, note or event_note, detail, now)
    if target in TOLD and before != target:
        outbox.queue(case, TOLD[target], now)
    return case


# The moves the citizen is told of by e-mail: those that end the unit's handling, as the
# tracking page shows them. A transfer to another unit, a reopening or publishing are not:
# the case goes on, or nothing new for the citizen appears there.
TOLD = {
    State.ANSWERED: MailEvent.ANSWERED,
    State.REJECTED: MailEvent.REJECTED,
    State.FORWARDED: MailEvent.FORWARDED,
}


def rate(case: Case, satisfied: bool, now: datetime | None = None) -> None:
    """Record the citizen's satisfaction with the handling, once per answer."""
    if case.rated_at is not None:
        raise IllegalMove(_l("This case has already been rated. Thank you."))
    check_move(State(case.state), case.outcome, Action.RATE, None)
    now = now or utcnow()
    case.satisfied, case.rated_at = satisfied, now
    case.ever_dissatisfied = case.ever_dissatisfied or not satisfied
    _record(case, Action.RATE, None, "citizen", case.state, None, f"satisfied={satisfied}", now)
