"""Who changed the survey points, who imported files of responses and who issued receipt
codes, as staff and the command line read it; the lines themselves are written where the
changes are made."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import selectinload

from core.apikeys import ApiKey
from core.extensions import db
from core.lazytext import lazy_gettext as _l
from core.models import Role, Unit, User
from survey.models import ImportedFile, PointAction, PointEvent, ReceiptCode, SurveyPoint

# The lines of a point's history its page shows, the imports the import page lists and the
# issues of receipt codes the receipts page lists.
HISTORY_SIZE = 50
RECENT_IMPORTS = 20
RECENT_ISSUES = 20

ACTION_LABELS = {
    PointAction.ADDED: _l("Survey point added"),
    PointAction.RENAMED: _l("Survey point renamed"),
    PointAction.RETIRED: _l("Survey point retired"),
}


def point_history(point: SurveyPoint, limit: int | None = HISTORY_SIZE) -> list[PointEvent]:
    """The point's history, newest first, with who acted."""
    query = (
        select(PointEvent)
        .where(PointEvent.point_id == point.id)
        .order_by(PointEvent.at.desc(), PointEvent.id.desc())
        .options(selectinload(PointEvent.actor))
        .limit(limit)
    )
    return list(db.session.scalars(query))


def recent_imports(viewer: User, limit: int = RECENT_IMPORTS) -> list[ImportedFile]:
    """The latest files imported that the viewer may see, newest first: every one for an
    administrator; for a manager, their own and those imported by an account of their unit or
    the units under it, as it was on the day (a file imported from the command line only to
    administrators)."""
    query = (
        select(ImportedFile)
        .order_by(ImportedFile.imported_at.desc(), ImportedFile.id.desc())
        .options(selectinload(ImportedFile.imported_by))
        .limit(limit)
    )
    if viewer.role is not Role.ADMIN:
        query = query.where(_imported_within(viewer))
    return list(db.session.scalars(query))


def _imported_within(viewer: User):
    """The files the viewer imported, or an account did while it belonged to one of the
    viewer's units: an account moved to another unit leaves its past imports to the managers
    of the unit they were imported for, and takes none along."""
    own = ImportedFile.imported_by_id == viewer.id
    if viewer.role is not Role.MANAGER or viewer.unit is None:
        return own
    units = select(Unit.id).where(Unit.path.startswith(viewer.unit.path))
    return or_(own, ImportedFile.importer_unit_id.in_(units))


@dataclass(frozen=True)
class ReceiptIssue:
    """One issue of receipt codes: when, by whom (an account, a key, or None for the command
    line), for which unit and procedure, how many codes and how many of them were answered."""

    at: datetime
    issuer: User | ApiKey | None
    unit: Unit
    procedure: str | None
    codes: int
    used: int


def recent_receipt_issues(viewer: User, limit: int = RECENT_ISSUES) -> list[ReceiptIssue]:
    """The latest issues of receipt codes for the units the viewer may issue codes for, newest
    first; codes issued before issues were recorded (migration 0025) are in none."""
    scope = _issued_within(viewer)
    if scope is False:
        return []
    # The latest batches first, by the index on the time every code of a batch shares; then
    # only their codes are counted, not every code ever issued.
    latest = (
        select(ReceiptCode.created_at, ReceiptCode.batch)
        .where(ReceiptCode.batch.is_not(None), scope)
        .distinct()
        .order_by(ReceiptCode.created_at.desc(), ReceiptCode.batch.desc())
        .limit(limit)
    )
    batches = db.session.execute(latest).all()
    if not batches:
        return []
    rows = db.session.execute(
        select(
            ReceiptCode.batch,
            ReceiptCode.unit_id,
            ReceiptCode.procedure,
            ReceiptCode.issued_by_id,
            ReceiptCode.issued_by_key_id,
            func.count(),
            func.count(ReceiptCode.used_at),
        )
        .where(
            ReceiptCode.created_at.in_({at for at, _batch in batches}),
            ReceiptCode.batch.in_([batch for _at, batch in batches]),
        )
        .group_by(
            ReceiptCode.batch,
            ReceiptCode.unit_id,
            ReceiptCode.procedure,
            ReceiptCode.issued_by_id,
            ReceiptCode.issued_by_key_id,
        )
    ).all()
    by_batch = {row[0]: row[1:] for row in rows}
    units = _by_id(Unit, {row[1] for row in rows})
    accounts = _by_id(User, {row[3] for row in rows} - {None})
    keys = _by_id(ApiKey, {row[4] for row in rows} - {None})
    issues = []
    for at, batch in batches:
        unit_id, procedure, account_id, key_id, codes, used = by_batch[batch]
        issuer = accounts.get(account_id) or keys.get(key_id)
        issues.append(ReceiptIssue(at, issuer, units[unit_id], procedure, codes, used))
    return issues


def _by_id(model, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def _issued_within(viewer: User):
    """The codes of the units the receipts page offers the viewer: every unit to an
    administrator, a manager's unit and the units under it, a handler's own unit."""
    if viewer.role is Role.ADMIN:
        return true()
    if viewer.unit is None or viewer.role not in (Role.MANAGER, Role.HANDLER):
        return False
    if viewer.role is Role.HANDLER:
        return ReceiptCode.unit_id == viewer.unit_id
    subtree = select(Unit.id).where(Unit.path.startswith(viewer.unit.path))
    return ReceiptCode.unit_id.in_(subtree)
