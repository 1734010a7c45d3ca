"""Commands under `flask --app wsgi`: db (migrations), units, setup, backup; users in
cli_users.py. What every package's commands share: CommandGroup, counted, history_line."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from core.csvfile import FileProblems
from core.extensions import (
    bind_migrate,
    code_migrations,
    database_migration,
    db,
    upgrade_database,
)
from core.models import Unit, local_time, local_today
from core.unit_file import import_units
from core.unit_history import LATEST, latest_unit_changes, unit_history
from core.unit_tree import unit_by_code


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


def open_unit(code: str, instead: str) -> Unit:
    """The unit of the code, if it exists today; as the back office, which offers no closed
    unit for something new (its points would be out of use, its receipt codes dead)."""
    unit = unit_by_code(code)
    if unit is None:
        raise click.ClickException(f"no unit with code {code[:40]}")
    if not unit.is_open_on(local_today()):
        raise click.ClickException(
            f"{unit.code} {unit.name} closed on {unit.closed_on:%Y-%m-%d}: {instead}"
        )
    return unit


def schema_problem(app) -> str | None:
    """Say how the database's migrations fall short of the code's, or return None."""
    try:
        with app.app_context():
            current = database_migration()
    except SQLAlchemyError as e:  # not reachable at all
        return unreachable(app.config["SQLALCHEMY_DATABASE_URI"], e)
    head, _known = code_migrations()
    if current is None:
        return "the database has no tables yet: run 'flask --app wsgi db upgrade' first"
    if current != head:
        return (
            f"the database is at migration {current} and the code needs {head}: "
            "run 'flask --app wsgi db upgrade' first"
        )
    return None


def unreachable(url: str, error: SQLAlchemyError) -> str:
    """One line for a database that does not answer: where (its password hidden) and the
    driver's first line (refused, unknown host, wrong password), not a page of traceback."""
    where = make_url(url).render_as_string(hide_password=True)
    reason = (str(getattr(error, "orig", None) or error).strip().splitlines() or ["?"])[0]
    return f"cannot reach the database at {where}: {reason}"


units_cli = CommandGroup("units", help="Manage the tree of administrative units.")


@units_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def units_import(file: Path):
    """Load units from a CSV file: code,name,level,parent_code[,population][,closed_on]."""
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
    from core.cli_users import users_cli

    app.cli.add_command(MigrateCommands("db", help="Perform database migrations."))
    app.cli.add_command(apikeys_cli)
    app.cli.add_command(units_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(setup)
    app.cli.add_command(backup)
