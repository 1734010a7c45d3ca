"""The unit tree and its history, staff accounts and the rate-limit counters."""

import enum
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ColumnElement, ForeignKey, String, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from core.extensions import db

# The stored "hash" of an account with no password yet (an invitation's, the demo's staff): "!"
# and random letters. No hash werkzeug makes starts with "!" or lacks its "$" separators, so no
# password can match it, and the random part keeps each account's session mark its own.
NO_PASSWORD = "!"  # noqa: S105 (a mark, not a password)

# Asia/Ho_Chi_Minh has no daylight saving: local time is always UTC+7.
LOCAL_OFFSET = timedelta(hours=7)


def utcnow() -> datetime:
    """Return the current time in UTC, without tzinfo, as every timestamp is stored."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_time(at: datetime) -> datetime:
    """Return a stored (UTC) time as the time in Vietnam."""
    return at + LOCAL_OFFSET


def local_today() -> date:
    """Return today's date in Vietnam."""
    return (utcnow() + LOCAL_OFFSET).date()


def local_day_start(day: date) -> datetime:
    """Return the stored (UTC) time at which a day in Vietnam begins."""
    return datetime.combine(day, time()) - LOCAL_OFFSET


class Unit(db.Model):
    """An administrative unit: province, district, commune, department, police unit..."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(40))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    population: Mapped[int | None]
    # The Vietnam day from which it no longer exists (merged, dissolved): None while it exists.
    # The row stays, with its code, for the history that names it; its code is never reused.
    closed_on: Mapped[date | None]
    # The unit that took over its work when it closed (a merger), if any: the figures "of
    # today's units" count its answers as that unit's. Always a unit open after its closing day.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    # Materialised path of ids, "/1/7/42/", so that a subtree is one indexed prefix query.
    path: Mapped[str] = mapped_column(String(400), index=True, default="/")

    parent: Mapped["Unit | None"] = relationship(remote_side=[id], foreign_keys=[parent_id])
    merged_into: Mapped["Unit | None"] = relationship(
        remote_side=[id], foreign_keys=[merged_into_id]
    )

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.name}>"

    def is_open_on(self, day: date) -> bool:
        """Say whether the unit still exists on the day (Vietnam calendar)."""
        return self.closed_on is None or self.closed_on > day

    @staticmethod
    def open_on(day: date) -> ColumnElement[bool]:
        """The condition on a query of units that keeps those that exist on the day."""
        return or_(Unit.closed_on.is_(None), Unit.closed_on > day)

    def is_within(self, other: "Unit") -> bool:
        """Say whether this unit is the other or a unit under it."""
        return self.path.startswith(other.path)

    def subtree_ids(self) -> list[int]:
        """Return the ids of this unit and every unit under it."""
        return list(db.session.scalars(select(Unit.id).where(Unit.path.startswith(self.path))))


def open_today(units: Iterable[Unit], keep: Unit | None = None) -> list[Unit]:
    """The units that exist today, for a list that chooses one for something new (a point, an
    account, a case...); keep: the unit already chosen, closed or not, so a form that shows it
    can still be sent."""
    today = local_today()
    return [u for u in units if u.is_open_on(today) or u is keep]


def email_key(address: str) -> str:
    """Return the address folded for comparing in any case, as accounts are found by it."""
    # Folded here, not by the database: SQLite's lower() folds only ASCII ('NGUYỄN' gives
    # 'nguyỄn'), PostgreSQL's follows the database's locale. casefold() is Unicode's folding
    # for caseless matching (ẞ, ß and 'ss' alike, where lower() keeps ß); decomposed first and
    # composed after, so that 'ễ' typed as e and two accents is the same letter.
    folded = unicodedata.normalize("NFD", address.strip()).casefold()
    return unicodedata.normalize("NFC", folded)


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    HANDLER = "handler"
    ANALYST = "analyst"


class User(UserMixin, db.Model):
    """A staff account; its role and unit decide what it may see."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # The address as email_key() folds it, set with the address (below): what sign-in and the
    # uniqueness of accounts read. Folding may lengthen it up to three times (ﬃ gives ffi).
    email_key: Mapped[str] = mapped_column(String(762), index=True, unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(
        db.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The language last chosen with the switch while signed in, or given by whoever made or
    # invited the account (`users create/invite --language`); None: never chosen, the
    # browser's is used; the digest and the command line's invitations: the default language.
    locale: Mapped[str | None] = mapped_column(String(5))
    # Part of every session's mark: one more ends every session of the account. The server
    # default gives 0 to accounts that servers of the release before it still make.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    last_login_at: Mapped[datetime | None]

    unit: Mapped[Unit | None] = relationship()

    @validates("email")
    def _set_email_key(self, _name: str, address: str) -> str:
        self.email_key = email_key(address)
        return address

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """The account as its session cookie names it: its id and a mark of its password and
        session version, so that a new password or version ends every session of the old."""
        return f"{self.id}.{self.session_mark()}"

    def session_mark(self) -> str:
        secret = current_app.config["SECRET_KEY"].encode()
        signed = self.password_hash
        if self.session_version:  # version 0 marks as before versions were counted
            signed += f"|{self.session_version}"
        return hmac.new(secret, signed.encode(), hashlib.sha256).hexdigest()[:20]

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def clear_password(self) -> None:
        """Leave the account with no password: none signs in until one is chosen or set. A new
        value each time, so that the links made for the one before die with it."""
        self.password_hash = NO_PASSWORD + secrets.token_urlsafe(24)

    @property
    def has_password(self) -> bool:
        return not self.password_hash.startswith(NO_PASSWORD)

    def check_password(self, password: str) -> bool:
        """Say whether this is the account's password; never for an account with none (whose
        stored value is no hash: werkzeug would be asked to parse it)."""
        return self.has_password and check_password_hash(self.password_hash, password)

    def can_see_unit(self, unit: Unit) -> bool:
        """Say whether this account's scope covers the unit."""
        if self.role is Role.ADMIN:
            return True
        if self.unit is None:
            return False
        if self.role is Role.MANAGER:
            return unit.is_within(self.unit)
        return unit.id == self.unit_id

    @property
    def figures_unit(self) -> Unit | None:
        """The unit whose figures (with those of the units under it) this account reads: a
        manager's, or the unit an analyst was given; None for every unit (an administrator,
        an analyst of no unit)."""
        return self.unit if self.role in (Role.MANAGER, Role.ANALYST) else None


class AccountAction(enum.StrEnum):
    """What was done to an account, as its history records it."""

    CREATED = "created"
    ROLE_UNIT = "role_unit"
    # The names of actions, not passwords.
    PASSWORD = "password"  # noqa: S105
    DEACTIVATED = "deactivated"
    ACTIVATED = "activated"
    SESSIONS_ENDED = "sessions_ended"
    OWN_PASSWORD = "own_password"  # noqa: S105
    OWN_SESSIONS_ENDED = "own_sessions_ended"
    PASSWORD_RESET = "password_reset"  # noqa: S105 (by the account itself, from an e-mailed link)
    INVITED = "invited"  # a link to choose a first password, made (and e-mailed, if mail is on)
    INVITATION_ACCEPTED = "invitation_accepted"  # the first password, chosen with that link


class LinkPurpose(enum.StrEnum):
    """What a link to choose a password is for (PasswordReset.purpose)."""

    RESET = "reset"  # asked for on the sign-in page: a forgotten password
    INVITATION = "invitation"  # made with the account: its first password


class AccountEvent(db.Model):
    """One line of an account's history: who changed it, how, when. Never a password."""

    __tablename__ = "account_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # None: the command line.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(20))
    # What changed, e.g. "handler 26734 → analyst 760".
    detail: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class UnitAction(enum.StrEnum):
    """What an import (or the demo) did to a unit, as its history records it."""

    ADDED = "added"
    CHANGED = "changed"


class UnitEvent(db.Model):
    """One line of a unit's history: a unit an import added or changed, each value it changed
    from and to, who ran the import, and which file it was. The lines of one import share its
    time and its file's digest, so that a move can be traced to the file that made it."""

    __tablename__ = "unit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    # None: the command line (every import today).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(20))
    # What changed, e.g. "parent: 760 → 769; population: 15000 → 16200"; for an addition,
    # every value it was added with.
    detail: Mapped[str] = mapped_column(String(800))
    # The imported file's name and SHA-256 ("demo" and None for the demo province).
    source: Mapped[str] = mapped_column(String(255))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship()
    actor: Mapped[User | None] = relationship()


class PasswordReset(db.Model):
    """A link to choose a new password, e-mailed to the account's address (core/password_reset.py),
    or the first one, sent with a new account's invitation (core/invitations.py).

    Only the token's SHA-256 is kept for finding it. The token itself waits in mail_token for
    the e-mail that carries it and is cleared as that e-mail is sent, given up or no longer
    needed: only a sender can read it, and only for the minute before it runs.
    """

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The account's session mark when asked (User.session_mark): a new password, a
    # deactivation or sessions ended since change it, and the link is dead.
    mark: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(5))
    # The server default: the links servers of the release before still make are resets.
    purpose: Mapped[LinkPurpose] = mapped_column(
        db.Enum(
            LinkPurpose, native_enum=False, length=10, values_callable=lambda e: [*map(str, e)]
        ),
        default=LinkPurpose.RESET,
        server_default=LinkPurpose.RESET.value,
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
    # The e-mail: the token until it leaves; when the sender may (next) try; what it did.
    mail_token: Mapped[str | None] = mapped_column(String(64))
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship()


def user_for_session(session_id: str) -> User | None:
    """The account a session cookie names (User.get_id), if it still has that password and
    session version."""
    user_id, _dot, mark = session_id.partition(".")
    if not (user_id.isascii() and user_id.isdigit()) or int(user_id) > 2**31 - 1:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not hmac.compare_digest(user.session_mark(), mark):
        return None  # another password or version now, or a cookie from before the mark
    return user


class Throttle(db.Model):
    """One window's counter of a rate limit (core/throttle.py), shared by every server: the
    key hides who is counted."""

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    hits: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)
