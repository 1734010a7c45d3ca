"""Commands under `flask --app wsgi`: db (migrations), units, users, setup, backup."""

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError

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
from core.csvfile import FileProblems
from core.extensions import MIGRATIONS, bind_migrate, db, upgrade_database
from core.invitations import days_valid as invitation_days
from core.invitations import invite
from core.models import Role, Unit, User, local_time
from core.password_reset import link_url
from core.unit_history import LATEST, latest_unit_changes, unit_history
from core.units import import_units, unit_by_code


class CommandGroup(AppGroup):
    """An AppGroup whose commands, on a database not made or not upgraded, say what to run."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError):  # a missing table or column
            problem = schema_problem(ctx.ensure_object(ScriptInfo).load_app())
            if problem is None:
                raise
            raise click.ClickException(problem) from None


def counted(n: int, noun: str) -> str:
    """'1 response', '2 responses', '12,000 responses'."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def history_line(event, *more: str) -> str:
    """One line of a history (an account's, a survey point's, a unit's) as the `history`
    commands print it: when (Vietnam time), who (or command line), action, detail, then what
    more the history has (a unit's: its code and the file), separated by tabs."""
    actor = event.actor.email if event.actor else "command line"
    when = f"{local_time(event.at):%Y-%m-%d %H:%M:%S}"
    return "\t".join((when, actor, event.action, event.detail or "-", *more))


def schema_problem(app) -> str | None:
    """Say how the database's migrations fall short of the code's, or return None."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    try:
        with app.app_context(), db.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError:  # not reachable at all: the original error says more
        return None
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if current is None:
        return "the database has no tables yet: run 'flask --app wsgi db upgrade' first"
    if current != head:
        return (
            f"the database is at migration {current} and the code needs {head}: "
            "run 'flask --app wsgi db upgrade' first"
        )
    return None


units_cli = CommandGroup("units", help="Manage the tree of administrative units.")
users_cli = CommandGroup("users", help="Manage staff accounts.")


@units_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def units_import(file: Path):
    """Load units from a CSV file: code,name,level,parent_code[,population]."""
    try:
        created, changed, unchanged = import_units(file.read_bytes(), file.name, actor=None)
    except FileProblems as e:
        db.session.rollback()
        raise click.ClickException(f"{file} was not imported:\n{e.report()}") from None
    db.session.commit()
    total = counted(created + changed + unchanged, "unit")
    click.echo(f"Imported {total}: {created:,} new, {changed:,} changed, {unchanged:,} unchanged.")


@units_cli.command("history")
@click.argument("code", required=False)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    help=f"At most N lines (default: all of a unit's, the latest {LATEST} of all units).",
)
def units_history(code: str | None, limit: int | None):
    """Show what the imports added or changed, newest first, of a unit or of all units: when
    (Vietnam time), who (or command line), action, detail, unit code, file name, file SHA-256."""
    if code is None:
        events = latest_unit_changes(limit or LATEST)
    else:
        unit = unit_by_code(code)
        if unit is None:
            raise click.ClickException(f"no unit with code {code[:40]!r}")
        events = unit_history(unit, limit)
    for e in events:
        click.echo(history_line(e, e.unit.code, e.source, e.source_sha256 or "-"))


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
def users_create(email: str, role: str, unit_code: str | None, invite: bool):
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
        unit = unit_by_code(unit_code)
        if unit is None:
            raise click.ClickException(f"no unit with code {unit_code}")
    elif role in UNIT_ROLES:
        raise click.ClickException(f"a {role} needs --unit")
    user = create_account(email, Role(role), unit, None if invite else _read_password(), actor=None)
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
def users_invite(email: str):
    """Invite an active account with no password to choose one, again: the link of any earlier
    invitation dies."""
    user = _account(email)
    if user.has_password:
        raise click.ClickException(f"{user.email} has a password already")
    if not user.active:
        raise click.ClickException(f"{user.email} is deactivated: activate it first")
    token = _invite(user)
    db.session.commit()
    click.echo(f"Invited {user.email}.")
    _say_where_the_invitation_went(token)


def _invite(user: User) -> str | None:
    """The account's invitation, in its language or else the default one."""
    return invite(user, user.locale or current_app.config["BABEL_DEFAULT_LOCALE"], actor=None)


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


@click.command("setup")
def setup():
    """Prepare instance/: migrate the database, load the questionnaire, demo data on first run."""
    from core.demo import load_demo_province
    from survey.demo import has_data
    from survey.questionnaires import load_questionnaire

    upgrade_database()
    _q, new = load_questionnaire()
    db.session.commit()
    if new:
        click.echo(f"Loaded questionnaire version {_q.version}.")
    if has_data():
        click.echo("The database already has data; demo not loaded.")
        return
    login, url = load_demo_province(current_app.config["PUBLIC_BASE_URL"])
    db.session.commit()
    click.echo("Loaded the demo province.")
    click.echo(f"Staff sign-in: {current_app.config['PUBLIC_BASE_URL']}/login")
    click.echo(f"  e-mail:   {login[0]}\n  password: {login[1]}")
    click.echo(f"A survey point: {url}")


class MigrateCommands(click.Command):
    """`flask db ...`: Flask-Migrate's group, imported and bound to the app only when used.

    Click builds a command's context through make_context(); handing back the real group's
    context runs that group (its options, its subcommands) in place of this stand-in.
    """

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        bind_migrate(parent.ensure_object(ScriptInfo).load_app())
        from flask_migrate.cli import db as commands

        return commands.make_context(info_name, args, parent=parent, **extra)


def init_app(app) -> None:
    from core import reset_mailer  # noqa: F401 (its command: users mail)
    from core.apikeys import apikeys_cli
    from core.backup import backup

    app.cli.add_command(MigrateCommands("db", help="Perform database migrations."))
    app.cli.add_command(apikeys_cli)
    app.cli.add_command(units_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(setup)
    app.cli.add_command(backup)
