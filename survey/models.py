"""Questionnaire versions, survey points and responses."""

import enum
import json
import secrets
from datetime import date, datetime
from functools import cached_property

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.folding import fold
from core.models import Unit, User, utcnow
from survey.tokens import new_token

# The SIPAS criteria the product records. Each has its own column on Response so that analysis
# works on counts per column, never on a row per answer.
CRITERIA = (
    "A1", "A2", "A3", "A4",
    "B1", "B2", "B3", "B4",
    "C1", "C2", "C3", "C4", "C5",
    "D1", "D2", "D3",
    "E1", "E2", "E3",
)  # fmt: skip
ELEMENTS = ("A", "B", "C", "D", "E")
NO_OPINION = 0  # stored for "không có ý kiến"; blank is NULL; 1-5 are the scale


class Channel(enum.StrEnum):
    STATIC = "static"
    PRESENCE = "presence"
    RECEIPT = "receipt"
    PAPER = "paper"


class Questionnaire(db.Model):
    """One immutable version of the questionnaire, as loaded from its data file."""

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    checksum: Mapped[str] = mapped_column(String(64))
    definition: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @cached_property
    def data(self) -> dict:
        return json.loads(self.definition)

    def criteria(self) -> list[dict]:
        return [c for element in self.data["elements"] for c in element["criteria"]]


class SurveyPoint(db.Model):
    """A counter with its own QR code; the token in its URL cannot be guessed (survey.tokens)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    label: Mapped[str] = mapped_column(String(120))
    token: Mapped[str] = mapped_column(String(40), unique=True, default=new_token)
    # Signs the counter display's changing codes (presence channel).
    secret: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(32))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]

    unit: Mapped[Unit] = relationship()

    def in_use_on(self, day: date) -> bool:
        """Say whether citizens can answer at the point on the day (Vietnam calendar): it is not
        retired and its unit still exists. Each units import retires the points of the units
        closed by then; until it runs, the closing day alone puts them out of use."""
        return self.active and self.unit.is_open_on(day)

    def closed_with_unit(self, day: date) -> bool:
        """Say whether the point is out of use on the day only because its unit has closed."""
        return self.active and not self.unit.is_open_on(day)


class PointAction(enum.StrEnum):
    """What was done to a survey point, as its history records it."""

    ADDED = "added"
    RENAMED = "renamed"
    RETIRED = "retired"


class PointEvent(db.Model):
    """One line of a survey point's history: who added, renamed or retired it, and when."""

    __tablename__ = "point_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("survey_point.id"), index=True)
    # None: the command line.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(20))
    # The label it was added with, or the old and new label: "Quầy 1 → Quầy một cửa 1".
    detail: Mapped[str | None] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    point: Mapped[SurveyPoint] = relationship()
    actor: Mapped[User | None] = relationship()


UNFOLDED = "comment IS NOT NULL AND comment <> '' AND comment_folded IS NULL"


def folded_comment(comment: str | None) -> str | None:
    """The comment as the comments page searches it: folded (core.folding), None for none."""
    return fold(comment) if comment else None


def _folded_comment_default(context) -> str | None:
    return folded_comment(context.get_current_parameters().get("comment"))


class Response(db.Model):
    """One citizen's answers. Append-only: never edited by the app (any other change is counted
    by the triggers of migration 0008, for analysis/blocks.py)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    point_id: Mapped[int | None] = mapped_column(ForeignKey("survey_point.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(12))
    # The form's one-time key: a resent or double-clicked form records one response.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # One column per criterion: NULL blank, 0 no opinion, 1-5 the scale.
    a1: Mapped[int | None] = mapped_column(SmallInteger)
    a2: Mapped[int | None] = mapped_column(SmallInteger)
    a3: Mapped[int | None] = mapped_column(SmallInteger)
    a4: Mapped[int | None] = mapped_column(SmallInteger)
    b1: Mapped[int | None] = mapped_column(SmallInteger)
    b2: Mapped[int | None] = mapped_column(SmallInteger)
    b3: Mapped[int | None] = mapped_column(SmallInteger)
    b4: Mapped[int | None] = mapped_column(SmallInteger)
    c1: Mapped[int | None] = mapped_column(SmallInteger)
    c2: Mapped[int | None] = mapped_column(SmallInteger)
    c3: Mapped[int | None] = mapped_column(SmallInteger)
    c4: Mapped[int | None] = mapped_column(SmallInteger)
    c5: Mapped[int | None] = mapped_column(SmallInteger)
    d1: Mapped[int | None] = mapped_column(SmallInteger)
    d2: Mapped[int | None] = mapped_column(SmallInteger)
    d3: Mapped[int | None] = mapped_column(SmallInteger)
    e1: Mapped[int | None] = mapped_column(SmallInteger)
    e2: Mapped[int | None] = mapped_column(SmallInteger)
    e3: Mapped[int | None] = mapped_column(SmallInteger)
    hk: Mapped[bool]
    procedure: Mapped[str | None] = mapped_column(String(120))
    comment: Mapped[str | None] = mapped_column(Text)
    # The comment folded as the comments page's search compares it (migration 0029), so that a
    # search reads a column instead of folding every comment. Filled from the comment by any
    # insert through SQLAlchemy that does not give it; survey/response_insert.py's raw INSERT
    # gives it.
    comment_folded: Mapped[str | None] = mapped_column(Text, default=_folded_comment_default)
    # Why a response needs a look: FLAGS joined by ",", set when it is recorded.
    flags: Mapped[str] = mapped_column(String(80), default="", server_default="")
    # A keyed hash of the phone's random cookie, never of anything that names a person.
    device_hash: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_response_unit_time", "unit_id", "submitted_at"),
        Index("ix_response_point_time", "point_id", "submitted_at"),
        # A point's counts by channel, flagged and excluded from the index alone, not the rows.
        Index("ix_response_point_channel_flags", "point_id", "channel", "flags", "id"),
        # A phone's recent answers, read on every answer: not all of its unit's day.
        Index("ix_response_device_time", "device_hash", "submitted_at"),
        # The comments page (survey/comments.py): only the responses with a comment, newest first.
        Index(
            "ix_response_comment_time",
            "submitted_at",
            "id",
            sqlite_where=text("comment IS NOT NULL AND comment <> ''"),
            postgresql_where=text("comment IS NOT NULL AND comment <> ''"),
        ),
        # The comments stored without their folded text (by a server of the release before
        # 0029, during a rolling upgrade): none, or a few, so the search sees at once whether
        # it must fold some in its query (survey/comments.py).
        Index(
            "ix_response_comment_unfolded",
            "id",
            sqlite_where=text(UNFOLDED),
            postgresql_where=text(UNFOLDED),
        ),
    )


class Flag(enum.StrEnum):
    REPEAT_DEVICE = "repeat_device"  # the same phone answered at this unit recently
    BURST = "burst"  # far more answers at the point than usual
    SAME_PATTERN = "same_pattern"  # identical answers to the responses just before


class ReceiptCode(db.Model):
    """A one-time code printed on a dossier's receipt: one answer per transaction."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    procedure: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id"))
    # Who issued it: an account (the back office) or a partner system's key (the API); neither
    # for the command line. The codes of one issue share its batch and created_at; codes
    # issued before this was recorded (migration 0025) have no batch.
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    issued_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    batch: Mapped[str | None] = mapped_column(String(32))

    unit: Mapped[Unit] = relationship()

    # The back office lists the latest issues: newest first, by time.
    __table_args__ = (Index("ix_receipt_code_created_at", "created_at"),)


class Exclusion(db.Model):
    """Staff leaving a response out of the figures, with who and why; undoable, never deleted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    excluded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    excluded_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    undone_at: Mapped[datetime | None]


class ImportedFile(db.Model):
    """A file `responses import` loaded, known by its digest: the same file again is refused
    unless asked for (it would count every response twice)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    responses: Mapped[int]
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None: the command line, or imported before who imported was recorded.
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The importer's unit on the day: the managers of that unit and of the units above see the
    # file, whichever unit its importer moves to later. None: no unit (the command line, an
    # administrator without one).
    importer_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))

    imported_by: Mapped[User | None] = relationship()
