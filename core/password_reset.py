"""Self-service password reset: a link e-mailed to the account's address, working once.

A new account's invitation is such a link too, made with the account (core/invitations.py).

The token is 32 random bytes (secrets), URL-safe. The database keeps its SHA-256 for finding
it; the token itself waits in the row's mail_token only until the e-mail carrying it is sent,
given up or no longer needed, then it is cleared (core/reset_mailer.py). So the token is
readable from the database only for the minute a request waits for `users mail` (cron), and
only by whoever reads that table; a backup taken later holds no usable link. Deriving the token
from the secret key instead would spare that minute but tie every link to the key's rotation,
for no gain against anyone who can already read the database and the instance folder.

A link dies at its first use, at its expiry (PASSWORD_RESET_MINUTES), and as soon as the
account's session mark changes (a new password by any means, a deactivation, sessions ended):
each link keeps the mark of its asking. Nothing here tells whether an address has an account:
the asking side does the same work and gives the same answer for every address.
"""

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from enum import Enum

from flask import current_app
from sqlalchemy import select, update

from core import accounts, throttle
from core.accounts import account_by_email
from core.extensions import db
from core.mail import mail_on, mailable
from core.models import LinkPurpose, PasswordReset, User, email_key, utcnow

# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


class LinkState(Enum):
    """What a link in a URL turned out to be."""

    GOOD = "good"
    UNKNOWN = "unknown"  # not a token, or none ever made: 404
    DEAD = "dead"  # used, expired, or the account changed since: 410


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def over_limit(email: str, address: str, now: datetime | None = None) -> bool:
    """Count a request for a link from this client for this address; say whether either limit
    is passed. Every address is counted, an account's or not: the refusal tells nothing."""
    now = now or utcnow()
    config = current_app.config
    client = throttle.hit("reset-client", address, *config["PASSWORD_RESET_CLIENT_LIMIT"], now)
    asked = throttle.hit(
        "reset-address", email_key(email), *config["PASSWORD_RESET_ADDRESS_LIMIT"], now
    )
    return not (client and asked)


def request_link(email: str, locale: str, now: datetime | None = None) -> None:
    """Queue a link for the active account of this address, if there is one and mail is on.

    Returns nothing on purpose: the caller's answer must be the same whatever happened.
    """
    user = account_by_email(email)
    # The address is checked whoever owns it, so that an account's answer takes no longer.
    deliverable = mailable(user.email if user is not None else email) is not None
    if not mail_on() or user is None or not user.active or not deliverable:
        return
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    new_link(user, LinkPurpose.RESET, locale, timedelta(minutes=minutes), mailed=True, now=now)


def new_link(
    user: User,
    purpose: LinkPurpose,
    locale: str,
    valid: timedelta,
    *,
    mailed: bool,
    now: datetime | None = None,
) -> str:
    """Add a link to choose the account's password, working for `valid` from now; return its
    token. mailed: the token waits in the row for the sender (core/reset_mailer.py);
    otherwise it is kept nowhere, and the caller shows it once."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(
        user=user,
        purpose=purpose,
        token_hash=token_hash(token),
        mark=user.session_mark(),
        locale=locale,
        created_at=now,
        expires_at=now + valid,
        mail_token=token if mailed else None,
        next_attempt_at=now if mailed else None,
        attempts=0,
    )
    db.session.add(reset)
    return token


def alive(reset: PasswordReset, now: datetime) -> bool:
    """Say whether the link still works: unused, unexpired, its account active and unchanged."""
    user = reset.user
    return (
        reset.used_at is None
        and now < reset.expires_at
        and user.active
        and secrets.compare_digest(user.session_mark(), reset.mark)
    )


def find(token: str, now: datetime | None = None) -> tuple[LinkState, PasswordReset | None]:
    """The link a URL holds and what state it is in; anything but a token is UNKNOWN."""
    if not TOKEN_PATTERN.fullmatch(token):
        return LinkState.UNKNOWN, None
    reset = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == token_hash(token))
    )
    if reset is None:
        return LinkState.UNKNOWN, None
    return (LinkState.GOOD if alive(reset, now or utcnow()) else LinkState.DEAD), reset


def use(reset: PasswordReset, password: str, now: datetime | None = None) -> bool:
    """Give the link's account the new password (its first, for an invitation), if the link
    still works; False if not.

    The link is taken by one conditional UPDATE, so that of two requests at once only one sets
    a password. The new password ends every session and, through the mark, every other link of
    the account. The caller commits.
    """
    now = now or utcnow()
    if not alive(reset, now):
        return False
    taken = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now, mail_token=None)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return False
    db.session.refresh(reset)
    if reset.purpose is LinkPurpose.INVITATION:
        accounts.accept_invitation(reset.user, password)
    else:
        accounts.reset_password(reset.user, password)
    return True


def link_url(token: str) -> str:
    """The link's address, as the e-mail and the page that shows it once give it."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/login/reset/{token}"


def minutes_valid() -> int:
    return current_app.config["PASSWORD_RESET_MINUTES"]
