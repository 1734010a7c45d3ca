"""A new account's invitation: a link to choose its first password, so that nobody but the
account's owner ever knows it.

The link is a password-reset link (core/password_reset.py) of purpose INVITATION: its token
kept only as a hash, working once, dead as soon as the account's session mark changes (a
password set by an administrator, a deactivation, sessions ended, a newer invitation), e-mailed
by `users mail` with the token cleared as it leaves. It works for INVITATION_DAYS (7), not half
an hour: the person may read their mail days after the account is made.

It does not die when the account's role or unit changes: the link proves that the address is
its owner's, not what the account may do, which every request checks; an administrator who
corrects a unit just after making the account should not have to send another.

With mail off nothing is queued: the link is handed back once, for its creator to give to the
person by hand (a message, on paper), and is kept nowhere. Its creator then knows a link, not a
password: it works once, the person who uses it chooses a password nobody else has seen, and
had the creator used it first, the person would find the link dead and know.
"""

from datetime import datetime, timedelta
from enum import Enum

from flask import current_app
from sqlalchemy import select

from core import accounts
from core.extensions import db
from core.mail import mail_on
from core.models import AccountAction, LinkPurpose, PasswordReset, User, utcnow
from core.password_reset import alive, new_link


class Standing(Enum):
    """Where an account's latest invitation stands, as its page says."""

    WAITING = "waiting"  # queued for `users mail`
    SENT = "sent"
    SHOWN = "shown"  # mail was off: shown once to its creator
    UNSENT = "unsent"  # the e-mail was refused for good, or dropped
    EXPIRED = "expired"
    DEAD = "dead"  # used, or the account changed since (deactivated, sessions ended)


def days_valid() -> int:
    return current_app.config["INVITATION_DAYS"]


def invite(
    user: User, locale: str, *, actor: User | None, now: datetime | None = None
) -> str | None:
    """Make the link for the account, which has no password, to choose its first one, in this
    language; record who did. Every earlier link of the account dies. Return the token when
    mail is off, for the caller to show once; None when the e-mail is queued."""
    user.clear_password()  # a new value, so a new mark: the earlier links no longer match it
    mailed = mail_on()
    valid = timedelta(days=days_valid())
    token = new_link(user, LinkPurpose.INVITATION, locale, valid, mailed=mailed, now=now)
    accounts.record(user, actor, AccountAction.INVITED)
    return None if mailed else token


def latest(user: User) -> PasswordReset | None:
    """The account's latest invitation, if any is kept (core/reset_mailer.py deletes old ones)."""
    return db.session.scalar(
        select(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.purpose == LinkPurpose.INVITATION)
        .order_by(PasswordReset.created_at.desc(), PasswordReset.id.desc())
        .limit(1)
    )


def standing(link: PasswordReset, now: datetime | None = None) -> Standing:
    """Where the invitation stands now."""
    now = now or utcnow()
    if now >= link.expires_at and link.used_at is None:
        return Standing.EXPIRED
    if not alive(link, now):
        return Standing.DEAD
    if link.mail_token is not None:
        return Standing.WAITING
    if link.sent_at is not None:
        return Standing.SENT
    return Standing.UNSENT if link.last_error else Standing.SHOWN
