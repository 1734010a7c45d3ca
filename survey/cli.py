"""Commands: points, qr, responses, questionnaire, demo."""

from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from core.cli import CommandGroup, counted, history_line, open_unit
from core.csvfile import FileProblems
from core.extensions import db
from core.models import local_time, local_today
from core.unit_tree import unit_by_code
from survey import history, importer, integrity, poster, questionnaires, services
from survey.models import SurveyPoint

points_cli = CommandGroup("points", help="Manage survey points (counters with a QR code).")
qr_cli = CommandGroup("qr", help="QR codes and posters.")
responses_cli = CommandGroup("responses", help="Survey responses.")
questionnaire_cli = CommandGroup("questionnaire", help="The questionnaire and its versions.")
demo_cli = CommandGroup("demo", help="Demo data.")
receipts_cli = CommandGroup("receipts", help="One-time survey codes for dossiers' receipts.")


def _base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


@points_cli.command("add")
@click.argument("unit_code")
@click.option("--label", required=True, help="Name of the counter, e.g. 'Quầy 1'.")
def points_add(unit_code: str, label: str):
    """Add a survey point to a unit and print its token and URL."""
    unit = open_unit(unit_code, "add the point to the unit that took over")
    try:
        point = services.add_point(unit, label, actor=None)
    except services.PointLabelError as e:
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"{point.token}\t{services.point_url(point, _base_url())}")


def _retired_day(point: SurveyPoint) -> str:
    """Return the day a retired point was retired, in Vietnam, as 2024-12-04."""
    return f"{local_time(point.retired_at):%Y-%m-%d}"


@points_cli.command("list")
@click.argument("unit_code", required=False)
def points_list(unit_code: str | None):
    """List survey points (of one unit and the units under it) with token and URL; a retired
    point also with the day it was retired, Vietnam time, a point of a closed unit with the
    unit's closing day."""
    query = select(SurveyPoint).join(SurveyPoint.unit).order_by(SurveyPoint.id)
    if unit_code:
        unit = unit_by_code(unit_code)
        if unit is None:
            raise click.ClickException(f"no unit with code {unit_code}")
        query = query.where(SurveyPoint.unit_id.in_(unit.subtree_ids()))
    today = local_today()
    for point in db.session.scalars(query):
        state = "active\t" if point.active else f"retired\t{_retired_day(point)}"
        if point.closed_with_unit(today):  # until the next units import retires it
            state = f"closed\t{point.unit.closed_on:%Y-%m-%d}"
        click.echo(
            f"{point.token}\t{services.point_url(point, _base_url())}\t"
            f"{point.unit.code}\t{point.unit.name}\t{point.label}\t{state}"
        )


@points_cli.command("retire")
@click.argument("token")
def points_retire(token: str):
    """Retire a survey point: its QR code then says it is no longer in use."""
    point = services.point_by_token(token)
    if point is None:
        raise click.ClickException(f"no survey point with token {token}")
    if not point.active:
        click.echo(
            f"{point.label} of {point.unit.name} was already retired on {_retired_day(point)}."
        )
        return
    services.retire_point(point, actor=None)
    db.session.commit()
    click.echo(f"Retired {point.label} of {point.unit.name}.")


@points_cli.command("history")
@click.argument("token")
def points_history(token: str):
    """Show who added, renamed and retired a survey point, newest first: when (Vietnam time),
    who (or command line), action, detail."""
    point = services.point_by_token(token)
    if point is None:
        raise click.ClickException(f"no survey point with token {token}")
    for event in history.point_history(point, limit=None):
        click.echo(history_line(event))


@qr_cli.command("poster")
@click.argument("token")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write: .pdf, .png or .svg.",
)
@click.option(
    "--size",
    type=click.Choice(list(poster.PAPER_SIZES), case_sensitive=False),
    default="A4",
    show_default=True,
    help="Paper size, A4 or A5.",
)
def qr_poster(token: str, out: Path, size: str):
    """Write a print-ready poster for a survey point."""
    point = services.point_by_token(token)
    if point is None:
        raise click.ClickException(f"no survey point with token {token}")
    # As the back office: a poster would send citizens to a page saying the point is out of use.
    if not point.active:
        raise click.ClickException(
            f"{point.label} of {point.unit.name} was retired on {_retired_day(point)}: its QR code "
            "says it is no longer in use; a counter that opens again gets a new point (points add)"
        )
    if point.closed_with_unit(local_today()):
        raise click.ClickException(
            f"{point.unit.name} closed on {point.unit.closed_on:%Y-%m-%d}: its points are no "
            "longer in use"
        )
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in poster.FORMATS:
        raise click.ClickException("--out must end in .pdf, .png or .svg")
    url = services.point_url(point, _base_url())
    data = poster.make_poster(point.unit.name, point.label, url, fmt, size.upper())
    try:
        out.write_bytes(data)
    except OSError as e:
        raise click.ClickException(f"cannot write {out}: {e.strerror}") from None
    click.echo(f"Wrote {out} ({size.upper()}, {len(data):,} bytes).")


@responses_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--again", is_flag=True, help="Import a file even if the same file was imported.")
@click.option(
    "--open-cases",
    is_flag=True,
    help="Open a PAKN case for each answer that says a paper household register was asked for, "
    "as the paper form does (for recent forms; a case's deadline counts from its answer's day).",
)
def responses_import(file: Path, again: bool, open_cases: bool):
    """Load responses from a CSV file (unit_code, submitted_at, channel, A1..E3, HK[,
    procedure][, comment])."""
    try:
        done = importer.import_file(
            file.read_bytes(), file.name, actor=None, again=again, open_cases=open_cases
        )
    except importer.AlreadyImported as e:
        earlier = e.earlier
        when = f"{local_time(earlier.imported_at):%Y-%m-%d %H:%M}"
        raise click.ClickException(
            f"{file} was not imported: the same file ({earlier.name}) was imported on {when}, "
            f"Vietnam time, with {earlier.responses} responses; importing it again would count "
            "each of them twice. Give --again if it is meant."
        ) from None
    except FileProblems as e:
        db.session.rollback()
        raise click.ClickException(f"{file} was not imported:\n{e.report()}") from None
    db.session.commit()
    click.echo(f"Imported {counted(done.count, 'response')} from {file}.")
    if done.asked:
        click.echo(
            f"{done.asked} of them say a paper household register was asked for: "
            + ("a PAKN case was opened for each." if open_cases else "no PAKN case was opened "
               "for them; give --open-cases to open one for each, as the paper form does.")
        )  # fmt: skip
    importer.responses_imported.send(current_app._get_current_object(), count=done.count)


@questionnaire_cli.command("load")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def questionnaire_load(file: Path | None):
    """Load the questionnaire file (the default one if none is given)."""
    try:
        q, new = questionnaires.load_questionnaire(file or questionnaires.DEFAULT_QUESTIONNAIRE)
    except questionnaires.QuestionnaireError as e:
        raise click.ClickException(f"questionnaire not loaded: {e}") from None
    db.session.commit()
    click.echo(f"{'New' if new else 'Unchanged:'} version {q.version}.")


@receipts_cli.command("issue")
@click.argument("unit_code")
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--procedure", help="Procedure code the dossiers are for, from the questionnaire's list."
)
def receipts_issue(unit_code: str, count: int, procedure: str | None):
    """Issue one-time receipt codes for a unit and print one survey URL per line."""
    unit = open_unit(unit_code, "issue the codes for the unit that took over")
    if procedure and (problem := questionnaires.procedure_problem(procedure)):
        raise click.ClickException(f"--procedure {procedure[:40]}: {problem}")
    days = current_app.config["RECEIPT_VALID_DAYS"]
    codes = integrity.issue_receipts(unit, count, timedelta(days=days), procedure, issued_by=None)
    db.session.commit()
    for code in codes:
        click.echo(integrity.receipt_url(code, _base_url()))


@demo_cli.command("load")
def demo_load():
    """Load the demo province: its points, staff, two years of responses and PAKN cases."""
    from core.demo import load_demo_province
    from survey.demo import has_data

    if has_data():
        raise click.ClickException("the database already has units; demo data not loaded")
    questionnaires.load_questionnaire()
    login, url = load_demo_province(_base_url())
    db.session.commit()
    click.echo(f"Staff sign-in: {login[0]} / {login[1]}\nA survey point: {url}")


def init_app(app) -> None:
    for group in (points_cli, qr_cli, responses_cli, questionnaire_cli, demo_cli, receipts_cli):
        app.cli.add_command(group)
