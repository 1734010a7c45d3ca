"""`flask --app wsgi users ...`: staff accounts from the command line: create (with a password
or an invitation), invite, list, history, deactivate, activate, password; `users mail` sends
the links' e-mails (core/reset_mailer.py)."""

import sys

import click
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.accounts import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    UNIT_ROLES,
    LastAdmin,
    account_by_email,
    account_history,
    create_account,
    normalized_email,
    set_active,
    set_password,
)
from core.cli import CommandGroup, counted, history_line, open_unit
from core.config import Defaults
from core.extensions import db
from core.i18n import account_language
from core.invitations import days_valid as invitation_days
from core.invitations import invite
from core.models import Role, Unit, User, local_time
from core.password_reset import link_url
from core.unit_tree import unit_by_code

users_cli = CommandGroup("users", help="Manage staff accounts.")
language_option = click.option(
    "--language",
    type=click.Choice(Defaults.LANGUAGES),
    help="The account's language, kept on it: its invitation is written in it, and so are its "
    "pages once signed in and its e-mails, until its owner switches. Default: the one it has, "
    f"else {Defaults.BABEL_DEFAULT_LOCALE}.",
)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--unit", "unit_code", help="Code of the unit the account works for.")
@click.option(
    "--invite",
    is_flag=True,
    help="Make it with no password and invite its owner to choose one: an e-mail that "
    "`users mail` sends, or with mail off a link printed here.",
)
@language_option
def users_create(email: str, role: str, unit_code: str | None, invite: bool, language: str | None):
    """Create a staff account; the password is read from the prompt or from stdin, or with
    --invite chosen by its owner."""
    # Everything but the password is checked first: nobody types it twice to learn of a typo.
    try:
        email = normalized_email(email)
    except ValueError as e:  # email_validator's EmailNotValidError
        raise click.ClickException(f"not a valid e-mail address: {e}") from None
    # Sign-in reads the address in any case: two accounts differing only in case would share it.
    if account_by_email(email):
        raise click.ClickException(f"an account for {email} already exists")
    unit = None
    if unit_code:
        unit = open_unit(unit_code, "give the account the unit that took over")
    elif role in UNIT_ROLES:
        raise click.ClickException(f"a {role} needs --unit")
    user = create_account(email, Role(role), unit, None if invite else _read_password(), actor=None)
    user.locale = language
    token = _invite(user) if invite else None
    try:
        db.session.commit()
    except IntegrityError:  # the same address, made elsewhere at the same instant, saved first
        db.session.rollback()
        raise click.ClickException(f"an account for {email} already exists") from None
    click.echo(f"Created {role} {email}" + (f" for {unit.code} {unit.name}" if unit else ""))
    if invite:
        _say_where_the_invitation_went(token)


@users_cli.command("invite")
@click.argument("email")
@language_option
def users_invite(email: str, language: str | None):
    """Invite an active account with no password to choose one, again: the link of any earlier
    invitation dies."""
    user = _account(email)
    if user.has_password:
        raise click.ClickException(f"{user.email} has a password already")
    if not user.active:
        raise click.ClickException(f"{user.email} is deactivated: activate it first")
    if language:
        user.locale = language
    token = _invite(user)
    db.session.commit()
    click.echo(f"Invited {user.email}.")
    _say_where_the_invitation_went(token)


def _invite(user: User) -> str | None:
    """The account's invitation, in its language or else the default one."""
    return invite(user, account_language(user), actor=None)


def _say_where_the_invitation_went(token: str | None) -> None:
    days = counted(invitation_days(), "day")
    if token is None:
        click.echo(f"The invitation is queued: `users mail` (cron) e-mails it; its link works "
                   f"once, for {days}.")  # fmt: skip
    else:
        click.echo(f"Mail is off: give the person this link; it works once, for {days}, and is "
                   f"not shown again:\n{link_url(token)}")  # fmt: skip


def _account(email: str) -> User:
    user = account_by_email(email)
    if user is None:
        raise click.ClickException(f"no account for {email[:254]!r}")
    return user


@users_cli.command("list")
@click.option("--unit", "unit_code", help="Only the accounts of this unit and the units under it.")
def users_list(unit_code: str | None):
    """List accounts: e-mail, role, unit, state (active, invited: no password yet, or
    deactivated), created, last sign-in
    (or never), in Vietnam time."""
    query = select(User).order_by(User.email_key, User.id)
    if unit_code:
        unit = unit_by_code(unit_code)
        if unit is None:
            raise click.ClickException(f"no unit with code {unit_code[:40]!r}")
        query = query.join(User.unit).where(Unit.path.startswith(unit.path))
    for user in db.session.scalars(query):
        unit = user.unit.code if user.unit else "-"
        state = "deactivated" if not user.active else "active" if user.has_password else "invited"
        last = f"{local_time(user.last_login_at):%Y-%m-%d %H:%M}" if user.last_login_at else "never"
        created = f"{local_time(user.created_at):%Y-%m-%d}"
        click.echo(f"{user.email}\t{user.role}\t{unit}\t{state}\t{created}\t{last}")


@users_cli.command("history")
@click.argument("email")
def users_history(email: str):
    """Show who changed an account, newest first: when (Vietnam time), who (or command line),
    action, detail."""
    for event in account_history(_account(email), limit=None):
        click.echo(history_line(event))


@users_cli.command("deactivate")
@click.argument("email")
def users_deactivate(email: str):
    """Stop an account: it cannot sign in, and its open sessions end for good."""
    _set_active(email, False)


@users_cli.command("activate")
@click.argument("email")
def users_activate(email: str):
    """Let a deactivated account sign in again."""
    _set_active(email, True)


def _set_active(email: str, active: bool) -> None:
    user = _account(email)
    try:
        set_active(user, active, actor=None)
    except LastAdmin:
        raise click.ClickException(f"{user.email} is the last active admin") from None
    db.session.commit()
    click.echo(f"{'Activated' if active else 'Deactivated'} {user.email}.")


@users_cli.command("password")
@click.argument("email")
def users_password(email: str):
    """Give an account a new password (prompt or stdin); its open sessions end."""
    user = _account(email)
    password = _read_password()
    set_password(user, password, actor=None)
    db.session.commit()
    click.echo(f"New password set for {user.email}; its sessions have ended.")


def _read_password() -> str:
    """Ask twice at a terminal; read one line from a script's stdin (no echo warning there).
    Refuse a password shorter than 10 characters."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    else:
        line = sys.stdin.readline()
        if not line:
            raise click.ClickException("no password: type it at the prompt, or give it on stdin")
        password = line.rstrip("\r\n")
    if len(password) < PASSWORD_MIN_LENGTH:
        raise click.ClickException(
            f"the password must have at least {PASSWORD_MIN_LENGTH} characters"
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise click.ClickException(
            f"the password must have at most {PASSWORD_MAX_LENGTH} characters"
        )
    return password
