"""Who changed the survey points and who imported files of responses, as staff and the
command line read it; the lines themselves are written where the changes are made."""

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.lazytext import lazy_gettext as _l
from core.models import Role, Unit, User
from survey.models import ImportedFile, PointAction, PointEvent, SurveyPoint

# The lines of a point's history its page shows, and the imports the import page lists.
HISTORY_SIZE = 50
RECENT_IMPORTS = 20

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
