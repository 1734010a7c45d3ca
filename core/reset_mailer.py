"""Send the password-reset and invitation e-mails (`users mail`, or `feedback mail` after the
citizens' ones, from cron every minute): each link once.

A link's e-mail is tried until it leaves, is refused for good, or the link dies (used,
expired, its account changed): a link that can no longer be used is never sent. Whatever
happens, its token is cleared from the row as the e-mail is settled (core/password_reset.py).
"""

from datetime import datetime, timedelta

import click
from flask_babel import force_locale, pgettext
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from core.cli import counted
from core.cli_users import users_cli
from core.extensions import db
from core.i18n import moment
from core.mail import (
    Run,
    Sender,
    mail_on,
    mailable,
    masked,
    plain_message,
)
from core.models import LinkPurpose, PasswordReset, utcnow
from core.password_reset import alive, link_url

# How long a claimed e-mail is left to its sender before another run may take it up again.
LEASE = timedelta(minutes=2)
# A refusal that may pass (4xx, a broken session) is tried again at the next run.
RETRY = timedelta(minutes=1)
# Links expired longer ago than this are deleted: a later visit finds no link at all (404).
KEPT = timedelta(days=7)


def due(now: datetime, limit: int = 500) -> list[int]:
    """The ids of the links whose e-mail is due, oldest first."""
    query = (
        select(PasswordReset.id)
        .where(PasswordReset.mail_token.is_not(None), PasswordReset.next_attempt_at <= now)
        .order_by(PasswordReset.next_attempt_at, PasswordReset.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def claim(reset_id: int, now: datetime) -> bool:
    """Take the e-mail for this run if it is still due: one conditional UPDATE, as the PAKN
    outbox does (feedback/outbox.py). The caller commits at once."""
    taken = db.session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.id == reset_id,
            PasswordReset.mail_token.is_not(None),
            PasswordReset.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + LEASE, attempts=PasswordReset.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


def compose(reset: PasswordReset, token: str, address: str, now: datetime):
    """Write the e-mail carrying the link, in the language of the page it was asked (or the
    account made) from."""
    with force_locale(reset.locale):
        until = moment(reset.expires_at)  # as the account's page writes it
        if reset.purpose is LinkPurpose.INVITATION:
            subject, lines = _invitation(reset, until)
        else:
            subject, lines = _reset(reset, until)
        lines[3:3] = [link_url(token), ""]  # under the line that leads to it
        lines += ["", "-- ", _("This e-mail was sent automatically: replies are not read.")]
    message_id = f"{reset.purpose}.{reset.id}.{int(reset.created_at.timestamp())}"
    return plain_message(subject, "\n".join(lines) + "\n", address, now, message_id, reset.locale)


# Staff mails greet as the back office speaks to staff (Vietnamese "bạn"); citizens' mails
# (feedback/mail.py) as "ông/bà".
def _reset(reset: PasswordReset, until: str) -> tuple[str, list[str]]:
    """The subject and the lines before and after the link (after the third) of a reset."""
    return _("Reset your password"), [
        pgettext("a staff member", "Hello,"),
        "",
        _("Someone, probably you, asked for a new password for the staff account "
          "%(email)s. To choose one, open this link:", email=reset.user.email),
        _("The link works once, until %(time)s (Vietnam time).", time=until),
        _("If you did not ask for it, ignore this e-mail: your password stays the same."),
    ]  # fmt: skip


def _invitation(reset: PasswordReset, until: str) -> tuple[str, list[str]]:
    """The subject and the lines before and after the link (after the third) of an invitation."""
    return _("Your new staff account: choose your password"), [
        pgettext("a staff member", "Hello,"),
        "",
        _("A staff account of Hài Lòng has been made for you, with this address "
          "(%(email)s). To choose its password and sign in, open this link:",
          email=reset.user.email),
        _("The link works once, until %(time)s (Vietnam time). If it has expired, ask "
          "whoever made the account to send a new one.", time=until),
        _("If you did not expect this account, ignore this e-mail: nobody can sign in to it "
          "without a password, and only you choose one."),
    ]  # fmt: skip


def send_due(now: datetime | None = None, dry_run: bool = False) -> Run:
    """Send the links' e-mails that are due, committing each as it is settled."""
    now = now or utcnow()
    run = Run()
    with Sender() as sender:
        for reset_id in due(now):
            reset = db.session.get(PasswordReset, reset_id)
            address = mailable(reset.user.email)
            if dry_run:
                what = "to" if address and alive(reset, now) else "dropped, no longer needed:"
                run.would_send.append(f"link {reset.id}: {what} {masked(reset.user.email)}")
                continue
            if not claim(reset_id, now):  # another run took it
                db.session.rollback()
                continue
            db.session.commit()
            db.session.refresh(reset)
            if address is None or not alive(reset, now):
                _settle(reset, error="dropped: the link no longer works")
                run.dropped += 1
            else:
                message = compose(reset, reset.mail_token, address, now)
                problem, permanent = sender.send(message, address)
                if problem is None:
                    _settle(reset, sent_at=now)
                    run.sent += 1
                elif permanent:
                    _settle(reset, error=problem)
                    run.given_up.append(f"link {reset.id} ({masked(address)}): {problem}")
                else:
                    _retry(reset, problem, now)
                    run.retrying += 1
            db.session.commit()
    run.unreachable = sender.unreachable
    return run


def _retry(reset: PasswordReset, problem: str, now: datetime) -> None:
    """Try again at the next run, while the link lives: it dies by itself, and its e-mail then."""
    reset.last_error, reset.next_attempt_at = problem[:300], now + RETRY


def _settle(reset: PasswordReset, *, sent_at: datetime | None = None, error: str | None = None):
    """The e-mail is done with: its token leaves the database for good."""
    reset.mail_token, reset.next_attempt_at = None, None
    reset.sent_at, reset.last_error = sent_at, error and error[:300]


def forget_old(now: datetime | None = None) -> int:
    """Delete the links expired more than KEPT ago; return how many."""
    cutoff = (now or utcnow()) - KEPT
    return db.session.execute(
        delete(PasswordReset).where(PasswordReset.expires_at < cutoff)
    ).rowcount


@users_cli.command("mail")
@click.option("--dry-run", is_flag=True, help="Only say which e-mails would be sent.")
def users_mail(dry_run: bool):
    """Send the password-reset links staff asked for and the new accounts' invitations (cron:
    every minute)."""
    if not mail_on():
        click.echo("Mail is off (MAIL_SERVER is not set): nothing is queued or sent.")
        return
    run = send_due(dry_run=dry_run)
    if dry_run:
        for line in run.would_send:
            click.echo(line)
        click.echo(f"Would try {counted(len(run.would_send), 'e-mail')}.")
        return
    forgotten = forget_old()
    db.session.commit()
    for line in run.given_up:
        click.echo(line)
    click.echo(
        f"Sent {counted(run.sent, 'password-reset or invitation e-mail')}; "
        f"{run.retrying:,} to try again, "
        f"{len(run.given_up):,} given up, {run.dropped:,} no longer needed; "
        f"{counted(forgotten, 'old link')} deleted."
    )
    if run.unreachable:
        raise click.ClickException(f"the mail server cannot be used: {run.unreachable}")
