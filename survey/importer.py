"""Import a file of responses typed in from paper forms or exported from other systems: whole,
once (a file imported before is refused unless asked again), remembering who imported it, and
opening the household-register cases if asked."""

import hashlib
from dataclasses import dataclass

from blinker import Namespace
from sqlalchemy import Select, func, select

from core.extensions import db
from core.models import User
from feedback.household import open_case_for_household_register
from survey.models import ImportedFile, Response
from survey.response_insert import import_responses

# Sent after the commit of an import (`responses import`, the back office's import page), with
# the app as sender and count=N: analysis seals the new responses then (analysis/cli.py), instead
# of in the first analyst's request.
responses_imported = Namespace().signal("responses-imported")


def digest_of(raw: bytes) -> str:
    """A file's SHA-256, by which an import of the same bytes is known."""
    return hashlib.sha256(raw).hexdigest()


def earlier_import(digest: str) -> ImportedFile | None:
    """Return the last import of the file with this digest, if there was one."""
    return db.session.scalar(
        select(ImportedFile)
        .where(ImportedFile.sha256 == digest)
        .order_by(ImportedFile.id.desc())
        .limit(1)
    )


def record_import(digest: str, name: str, count: int, actor: User | None) -> None:
    """Remember the file imported, who imported it (None: the command line) and their unit
    then, in the import's transaction."""
    db.session.add(
        ImportedFile(
            sha256=digest,
            name=name[-255:],
            responses=count,
            imported_by=actor,
            importer_unit_id=actor.unit_id if actor is not None else None,
        )
    )


def last_response_id() -> int:
    return db.session.scalar(select(func.max(Response.id))) or 0


def household_register_breaches(after_id: int) -> Select:
    """The responses after after_id that say a paper household register was asked for."""
    return select(Response).where(Response.id > after_id, Response.hk.is_(True))


class AlreadyImported(Exception):
    """The same file was imported before: importing it again would count each response twice."""

    def __init__(self, earlier: ImportedFile):
        super().__init__(earlier.name)
        self.earlier = earlier


@dataclass(frozen=True)
class Imported:
    count: int
    asked: int  # of them, the answers that say a paper household register was asked for
    cases_opened: bool


def import_file(
    raw: bytes,
    name: str,
    *,
    actor: User | None,
    again=False,
    open_cases=False,
    scope: set[int] | None = None,
) -> Imported:
    """Import a file of responses whole, remember it and who imported it (actor None: the
    command line), and open the household-register cases if asked; with a scope, only rows of
    those unit ids are accepted.

    Raises AlreadyImported (unless again) or FileProblems, after which the caller rolls back;
    else the caller commits, then sends responses_imported.
    """
    digest = digest_of(raw)
    earlier = None if again else earlier_import(digest)
    if earlier is not None:
        raise AlreadyImported(earlier)
    before = last_response_id()
    count = import_responses(raw, scope)
    breaches = household_register_breaches(before)
    # Counted in SQL; the rows themselves are read only to open their cases.
    asked = db.session.scalar(select(func.count()).select_from(breaches.subquery()))
    if open_cases:
        # Not by default: each "yes" is a breach the unit's staff must act on, but an old
        # file's cases would only fill the queue with cases overdue from the start.
        for response in db.session.scalars(breaches.order_by(Response.id)).all():
            open_case_for_household_register(response)
    record_import(digest, name, count, actor)
    return Imported(count, asked, open_cases and asked > 0)
