"""Commands under `flask --app wsgi feedback`: purge personal data, photos, declared days."""

from datetime import date, timedelta

import click
from sqlalchemy import delete, select

from core.cli import CommandGroup, counted
from core.extensions import db
from core.models import local_today, utcnow
from core.reset_mailer import users_mail
from core.throttle import forget_expired
from feedback import digest_mailer, mailer, outbox, services
from feedback.deadlines import package_days
from feedback.models import Case, CaseEvent, CasePerson, CasePhoto, DeclaredDay
from feedback.settings import setting
from feedback.workflow import Action

feedback_cli = CommandGroup(
    "feedback",
    help="PAKN: personal data retention, photos, e-mails, staff digests and working days.",
)


def purge_personal_data(now=None, dry_run: bool = False) -> int:
    """Delete the personal data, photos and e-mails of cases finished before the retention period.

    The case, its text and its history stay. Safe to run again: purged cases are skipped.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=setting("FEEDBACK_RETENTION_DAYS"))
    ids = list(
        db.session.scalars(
            select(Case.id).where(
                Case.finished_at.is_not(None),
                Case.finished_at < cutoff,
                Case.personal_data_purged_at.is_(None),
            )
        )
    )
    if dry_run or not ids:
        return len(ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        db.session.execute(delete(CasePerson).where(CasePerson.case_id.in_(chunk)))
        db.session.execute(delete(CasePhoto).where(CasePhoto.case_id.in_(chunk)))
        outbox.forget(chunk)  # nothing left to send, and nothing that says who was told
        for case in db.session.scalars(select(Case).where(Case.id.in_(chunk))):
            case.personal_data_purged_at = now
            db.session.add(
                CaseEvent(
                    case_id=case.id,
                    at=now,
                    actor_label="system",
                    action=str(Action.PURGE),
                    from_state=case.state,
                    to_state=case.state,
                    detail=f"retention_days={setting('FEEDBACK_RETENTION_DAYS')}",
                )
            )
    return len(ids)


@feedback_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count the cases that would be purged.")
def purge(dry_run: bool):
    """Delete personal data and photos of cases finished more than the retention period ago."""
    count = purge_personal_data(dry_run=dry_run)
    expired = 0 if dry_run else forget_expired()
    db.session.commit()
    verb = "Would purge" if dry_run else "Purged"
    click.echo(f"{verb} the personal data of {counted(count, 'case')}.")
    if expired:
        click.echo(f"Forgot {counted(expired, 'expired rate-limit window')}.")


@feedback_cli.command("photos")
def photos():
    """Re-encode the photos citizens sent that staff have not opened yet (cron: every minute)."""
    done = 0
    for photo_id in services.pending_photos():
        done += services.finish_photo(photo_id)
        db.session.commit()  # one at a time: SQLite's write lock is held only briefly
    click.echo(f"Re-encoded or removed {counted(done, 'photo')}.")


@feedback_cli.command("mail")
@click.option("--dry-run", is_flag=True, help="Only say which e-mails would be sent.")
@click.pass_context
def mail(ctx: click.Context, dry_run: bool):
    """Send the e-mails due to citizens about their PAKN, then staff's password-reset links as
    `users mail` does (cron: every minute)."""
    if not outbox.mail_on():
        click.echo("Mail is off (MAIL_SERVER is not set): nothing is queued or sent.")
        return
    run = mailer.send_due(dry_run=dry_run)
    if dry_run:
        for line in run.would_send:
            click.echo(line)
        click.echo(f"Would try {counted(len(run.would_send), 'e-mail')}.")
    else:
        for line in run.given_up:
            click.echo(line)
        click.echo(
            f"Sent {counted(run.sent, 'e-mail')}; {run.retrying:,} to try again, "
            f"{len(run.given_up):,} given up, {run.dropped:,} with no one to tell any more."
        )
    # A site whose cron runs this command alone sends the links its sign-in page offers.
    try:
        ctx.invoke(users_mail, dry_run=dry_run)
    finally:
        if run.unreachable:
            raise click.ClickException(f"the mail server cannot be used: {run.unreachable}")


@feedback_cli.command("digest")
@click.option("--force", is_flag=True, help="Send even if today is not a working day.")
@click.option("--dry-run", is_flag=True, help="Only say who would get which cases.")
def digest(force: bool, dry_run: bool):
    """E-mail each staff member the PAKN cases that need them (cron: each working morning)."""
    if not outbox.mail_on():
        click.echo("Mail is off (MAIL_SERVER is not set): no digest is sent.")
        return
    run = digest_mailer.send_digests(force=force, dry_run=dry_run)
    if not run.working_day:
        click.echo(f"{run.day.isoformat()} is not a working day: no digest is sent (--force to "
                   "send anyway).")  # fmt: skip
        return
    for line in run.would_send if dry_run else []:
        click.echo(line)
    for line in run.failed:
        click.echo(line)
    if dry_run:
        click.echo(f"Would send {counted(len(run.would_send), 'digest')} for {run.day.isoformat()}"
                   f"; {run.already:,} already sent today.")  # fmt: skip
        return
    click.echo(f"Sent {counted(run.sent, 'digest')} for {run.day.isoformat()}; "
               f"{run.already:,} already sent today, {len(run.failed):,} not sent.")  # fmt: skip
    if run.unreachable:
        raise click.ClickException(f"the mail server cannot be used: {run.unreachable}")
    if run.failed:
        raise click.ClickException(f"{counted(len(run.failed), 'digest')} could not be sent")


@feedback_cli.command("days")
@click.argument("year", type=click.IntRange(1, 9999), required=False)
def days(year: int | None):
    """List the days off and make-up working days of a year (built-in and declared)."""
    year = year or local_today().year  # the year in Vietnam, whatever the server's zone
    off, working = package_days(year)
    rows = [(d, "off", "built-in") for d in off] + [(d, "working", "built-in") for d in working]
    for d in db.session.scalars(select(DeclaredDay).where(DeclaredDay.day.between(
        date(year, 1, 1), date(year, 12, 31)))):  # fmt: skip
        rows = [r for r in rows if r[0] != d.day]
        rows.append((d.day, "working" if d.working else "off", f"declared {d.note}".strip()))
    for day, kind, source in sorted(rows):
        click.echo(f"{day.isoformat()}\t{kind}\t{source}")


@feedback_cli.command("declare")
@click.argument("day", metavar="YYYY-MM-DD", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--off", is_flag=True, help="A day off (a bridge day, a holiday).")
@click.option("--working", is_flag=True, help="A make-up working day.")
@click.option("--note", default="", help="The decision that declared it.")
def declare(day, off: bool, working: bool, note: str):
    """Declare a day off or a make-up working day (YYYY-MM-DD)."""
    # One of the two, said: a missing flag must not read as "add --working" to someone
    # declaring a day off, nor may the last of both flags win.
    if off == working:
        raise click.UsageError(
            "choose one of --off (a day off) and --working (a make-up working day)"
        )
    if len(note) > 200:
        raise click.ClickException("the note must have 200 characters at most")
    record = db.session.scalar(select(DeclaredDay).where(DeclaredDay.day == day.date()))
    if record is None:
        record = DeclaredDay(day=day.date())
        db.session.add(record)
    record.working, record.note = working, note
    db.session.commit()
    click.echo(f"{day.date().isoformat()} is declared a {'working day' if working else 'day off'}.")


def init_app(app) -> None:
    app.cli.add_command(feedback_cli)
