"""Cases, their history, the citizen's personal data and photos, e-mails, declared days,
staff digests."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.lazytext import lazy_gettext as _l
from core.models import Unit, User, utcnow
from survey.models import ReceiptCode


class Kind(enum.StrEnum):
    REPORT = "report"  # phản ánh
    RECOMMENDATION = "recommendation"  # kiến nghị


class Topic(enum.StrEnum):
    ATTITUDE = "attitude"
    DELAY = "delay"
    DOCUMENTS_FEES = "documents_fees"
    PROCEDURE = "procedure"
    FACILITIES = "facilities"
    OTHER = "other"


class Channel(enum.StrEnum):
    COUNTER = "counter"  # the QR code of a survey point
    WEB = "web"
    PHONE = "phone"
    PAPER = "paper"
    EMAIL = "email"
    HOTLINE = "hotline"  # the province's 1022 hotline
    API = "api"  # another system, through Open311
    SURVEY = "survey"  # opened by a household-register "yes" in a survey response


STAFF_CHANNELS = (Channel.PHONE, Channel.PAPER, Channel.EMAIL, Channel.HOTLINE)

KIND_LABELS = {
    Kind.REPORT: _l("Report (phản ánh)"),
    Kind.RECOMMENDATION: _l("Recommendation (kiến nghị)"),
}
TOPIC_LABELS = {
    Topic.ATTITUDE: _l("Attitude of staff"),
    Topic.DELAY: _l("Delay"),
    Topic.DOCUMENTS_FEES: _l("Documents or fees beyond the rules"),
    Topic.PROCEDURE: _l("Regulation of a procedure"),
    Topic.FACILITIES: _l("Facilities"),
    Topic.OTHER: _l("Other"),
}
CHANNEL_LABELS = {
    Channel.COUNTER: _l("QR code at the counter"),
    Channel.WEB: _l("Web"),
    Channel.PHONE: _l("Phone"),
    Channel.PAPER: _l("Paper letter"),
    Channel.EMAIL: _l("E-mail"),
    Channel.HOTLINE: _l("1022 hotline"),
    Channel.API: _l("Partner system"),
    Channel.SURVEY: _l("Survey (household register)"),
}


class Case(db.Model):
    """One PAKN, from receipt to its answer. Personal data lives in CasePerson."""

    __tablename__ = "pakn_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)  # the citizen's tracking code
    kind: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(12))
    content: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12))
    outcome: Mapped[str | None] = mapped_column(String(16))
    # Where it came in (never changes) and who must handle it now.
    received_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    point_id: Mapped[int | None] = mapped_column(ForeignKey("survey_point.id"))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id"), unique=True)
    # A counter's day's case for the household-register "yes" answers that do not each open
    # one (feedback/household.py): how many it counts, its first (response_id) included.
    # None for every other case.
    survey_answers: Mapped[int | None] = mapped_column(Integer)
    # The dossier the PAKN is about, by the receipt code printed on it (Decision 766's ratio of
    # satisfaction with procedures counts the dossiers with such a PAKN). Staff see it; the
    # public pages never show it.
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("receipt_code.id"), index=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"), index=True)
    # The form's one-time key: a resent form records one case.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_on: Mapped[date] = mapped_column(Date)  # local date
    # The day the current unit's deadline counts from: receipt, or the transfer to it.
    counted_from: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    answered_at: Mapped[datetime | None]
    answered_on: Mapped[date | None] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(Text)
    # Set by the answer, cleared by a reopening; only an answered case can be late to publish.
    publish_due_on: Mapped[date | None] = mapped_column(Date)
    # The language of the citizen's page when they sent it: their e-mails are written in it.
    locale: Mapped[str] = mapped_column(String(5), default="vi", server_default="vi")
    # What the citizen reads when the case is not accepted or forwarded.
    citizen_note: Mapped[str | None] = mapped_column(Text)
    forwarded_to: Mapped[str | None] = mapped_column(String(200))
    # What /pakn/published and partners read: written for the public when publishing, apart
    # from the answer addressed to the citizen. Kept, hidden, when a published case is reopened.
    public_summary: Mapped[str | None] = mapped_column(Text)
    published_answer: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]  # when it stopped being open; retention counts from it
    # The citizen's rating of the current answer: a reopening clears it, for the next answer.
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    rated_at: Mapped[datetime | None]
    # Set by a "not satisfied" rating and never cleared: Decision 766's ratio counts the case
    # as rated "không hài lòng" even if it is reopened, answered again and rated well.
    ever_dissatisfied: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    personal_data_purged_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    received_unit: Mapped[Unit] = relationship(foreign_keys=[received_unit_id])
    handler: Mapped[User | None] = relationship()
    receipt: Mapped["ReceiptCode | None"] = relationship()
    person: Mapped["CasePerson | None"] = relationship(
        back_populates="case", cascade="all, delete-orphan", uselist=False
    )
    photos: Mapped[list["CasePhoto"]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CasePhoto.position"
    )
    events: Mapped[list["CaseEvent"]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # The staff queue: scope by unit, then state, ordered by due date or receipt.
        Index("ix_pakn_case_unit_state_due", "unit_id", "state", "due_on"),
        Index("ix_pakn_case_unit_received", "unit_id", "received_at"),
        Index("ix_pakn_case_state_due", "state", "due_on"),
        Index("ix_pakn_case_state_received", "state", "received_at"),
        Index("ix_pakn_case_received_at", "received_at"),
        Index("ix_pakn_case_published", "unit_id", "published_at"),
        # /pakn/published and its deep pages: the published, newest first, without a sort.
        Index("ix_pakn_case_state_published", "state", "published_at", "id"),
        Index("ix_pakn_case_state_publish_due", "state", "publish_due_on"),
        Index("ix_pakn_case_point_received_on", "point_id", "received_on"),
    )

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.code} {self.state}>"


class CasePerson(db.Model):
    """The sender's name and contact, shown only to staff who may handle the case; purged later."""

    __tablename__ = "pakn_case_person"

    case_id: Mapped[int] = mapped_column(ForeignKey("pakn_case.id"), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    consent_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="person")


class CasePhoto(db.Model):
    """A photo sent with the case: re-encoded without metadata, or still as sent while pending.

    A citizen's photo is only checked in their request (feedback/images.py: inspect) and stored
    pending; services.finish_photo re-encodes it before staff see it, or from cron.
    """

    __tablename__ = "pakn_case_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("pakn_case.id"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    pending: Mapped[bool] = mapped_column(default=False, server_default=false())

    case: Mapped[Case] = relationship(back_populates="photos")


class CaseEvent(db.Model):
    """One line of a case's history: who did what, when, with which note."""

    __tablename__ = "pakn_case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("pakn_case.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Who acted when no staff account did: "citizen", "system", or "api:<key name>".
    actor_label: Mapped[str | None] = mapped_column(String(140))
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    # What changed, as short key=value text: outcome, unit, handler, agency, due date.
    detail: Mapped[str | None] = mapped_column(String(400))

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class MailEvent(enum.StrEnum):
    """What a citizen is told by e-mail: each is also on the tracking page."""

    RECEIVED = "received"
    ANSWERED = "answered"
    REJECTED = "rejected"
    FORWARDED = "forwarded"


class CaseMail(db.Model):
    """One e-mail to send to the case's sender (the outbox); feedback/mailer.py sends it.

    No address or name here: they are read from CasePerson when it is sent, so that purging
    the personal data leaves nothing behind.
    """

    __tablename__ = "pakn_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("pakn_case.id"), index=True)
    event: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Due from then; a sender claims the row by moving it on, so that no other sends it too.
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    gave_up_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))

    case: Mapped[Case] = relationship()

    __table_args__ = (Index("ix_pakn_mail_due", "sent_at", "gave_up_at", "next_attempt_at"),)


class DeclaredDay(db.Model):
    """A day the government declared off (bridge day) or working (make-up day)."""

    __tablename__ = "pakn_declared_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffDigest(db.Model):
    """A staff member's morning e-mail of the cases that need them: one a day at most.

    A run claims the row before it sends and deletes it if the e-mail did not leave, so that
    the next run tries again; sent_at is set once the server has accepted it.
    """

    __tablename__ = "staff_digest"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    day: Mapped[date] = mapped_column(Date)  # local date
    claimed_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    cases: Mapped[int] = mapped_column(Integer)  # how many the e-mail listed

    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_staff_digest_user_id_day"),)
