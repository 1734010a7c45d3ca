"""Commands: analysis export, analysis verify and analysis seal."""

from pathlib import Path

import click

from analysis import blocks, export, frame, verify
from analysis.compare import COMPARISONS, PRESETS
from analysis.frame import CHANNELS
from analysis.indexes import MEASURES, WEIGHTINGS
from analysis.pakn import PAKN_MEASURES
from analysis.params import BadParameters, parse_request
from analysis.tables import UnknownUnit, fresh_columns
from core.cli import CommandGroup, counted
from core.extensions import db
from survey.importer import responses_imported

analysis_cli = CommandGroup("analysis", help="Satisfaction indexes: export, verify and seal.")

PERIOD_OPTIONS = [
    click.option("--from", "first", metavar="DATE", help="First day, YYYY-MM-DD."),
    click.option("--to", "last", metavar="DATE", help="Last day, YYYY-MM-DD."),
    click.option("--preset", type=click.Choice(PRESETS), help="A calendar month, quarter or year."),
    click.option("--anchor", metavar="DATE", help="A day in the preset period (default: today)."),
    click.option("--channel", "channels", multiple=True, type=click.Choice(CHANNELS),
                 help="Count only this channel (repeatable)."),
    click.option("--questionnaire", "questionnaires", multiple=True, metavar="VERSION",
                 help="Count only this questionnaire version (repeatable)."),
    click.option("--weighting", type=click.Choice(WEIGHTINGS), default="respondents",
                 show_default=True, help="How parents weigh their children."),
    click.option("--today-units", "today_units", is_flag=True,
                 help="Today's units: count the answers of units merged into others as their "
                 "successors', and show only the units that exist today."),
]  # fmt: skip


def period_options(command):
    for option in reversed(PERIOD_OPTIONS):
        command = option(command)
    return command


def _request(options: dict):
    """Return the Request the options ask for, or exit with the problems named."""
    values = {}
    for name, value in options.items():
        if value in (None, (), False):
            continue
        values[name] = [str(v) for v in value] if isinstance(value, tuple) else [str(value)]
    try:
        return parse_request(values)
    except BadParameters as e:
        lines = [f"--{name}: {message}" for name, message in e.problems]
        raise click.ClickException("\n".join(lines)) from None
    except UnknownUnit as e:
        raise click.ClickException(f"--unit: no unit with code {e.args[0]}") from None


@analysis_cli.command("export")
@period_options
@click.option("--level", help="Only units of this level (e.g. 'Phường').")
@click.option("--unit", "unit", metavar="CODE", help="This unit and the units under it.")
@click.option("--measure", "measures", multiple=True, type=click.Choice(MEASURES + PAKN_MEASURES),
              metavar="MEASURE", help="Only this measure (repeatable; default: all): overall, "
              "element:A..E, criterion:A1..E3, household_register_asked, pakn:handled_on_time, "
              "pakn:handling_satisfaction, pakn:procedure_satisfaction, "
              "pakn:received.")  # fmt: skip
@click.option("--compare", type=click.Choice(COMPARISONS),
              help="Add the change from the period before, or from a year before.")  # fmt: skip
@click.option("--ranks", is_flag=True, help="Add ranks among sibling units with rank intervals.")
@click.option("--shrink", is_flag=True, help="Add empirical-Bayes estimates beside the raw ones.")
@click.option("--format", "fmt", type=click.Choice(export.FORMATS),
              help="File format (default: from the extension of --out).")  # fmt: skip
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write: .csv, .xlsx or .json.")  # fmt: skip
def analysis_export(first, last, channels, questionnaires, measures, fmt, out: Path, **options):
    """Write every index with its n, 95% interval and flag, one row per unit and measure."""
    fmt = fmt or out.suffix.lower().lstrip(".")
    if fmt not in export.FORMATS:
        raise click.ClickException("--out must end in .csv, .xlsx or .json, or give --format")
    request = _request(
        {"from": first, "to": last, "channel": channels, "questionnaire": questionnaires,
         "measure": measures, **options}
    )  # fmt: skip
    names, values = fresh_columns(request)
    data = export.render(fmt, export.meta(request, values), names, values)
    try:
        out.write_bytes(data)
    except OSError as e:
        raise click.ClickException(f"cannot write {out}: {e.strerror}") from None
    query = request.query
    click.echo(
        f"Wrote {out}: {counted(len(values[names[0]]), 'row')}, {query.first} to {query.last}, "
        f"weighted by {query.weighting}."
    )


@analysis_cli.command("verify")
@period_options
def analysis_verify(first, last, channels, questionnaires, **options):
    """Recompute every figure from the raw responses the slow way and report any difference."""
    request = _request(
        {"from": first, "to": last, "channel": channels, "questionnaire": questionnaires, **options}
    )
    query = request.query
    problems, checked, responses = verify.differences(query)
    click.echo(
        f"{query.first} to {query.last}: {counted(responses, 'response')}, "
        f"{counted(checked, 'figure')} (units × measures) checked on each reading of the fast path."
    )
    for problem in problems:
        click.echo(problem)
    if problems:
        raise click.ClickException(f"{len(problems)} differences between the fast and slow paths")
    click.echo("No differences.")


@analysis_cli.command("seal")
def analysis_seal():
    """Copy responses not yet sealed into blocks, so that analysis reads them fast."""
    blocks.seal_newer(frame.read_after)
    sealed, count = blocks.status()
    total = frame.response_count()
    click.echo(
        f"{sealed:,} of {counted(total, 'response')} in {counted(count, 'sealed block')}; "
        f"the other "
        f"{total - sealed:,} are read from the response table"
        + (f" (fewer than {blocks.SEAL_AT:,} are not sealed)." if total - sealed else ".")
    )


@responses_imported.connect
def seal_imported(app, count: int) -> None:
    """Seal what an import added, so that the next analysis need not read it by SQL.

    The responses are committed by then: a failure here costs the first analysis its speed,
    never an imported response, so it is logged and the import still succeeds.
    """
    try:
        blocks.seal_newer(frame.read_after)
    except Exception:
        db.session.rollback()
        app.logger.exception("imported responses not sealed; 'analysis seal' will do it")


def init_app(app) -> None:
    app.cli.add_command(analysis_cli)
