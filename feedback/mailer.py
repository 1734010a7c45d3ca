"""Send the outbox over SMTP (`feedback mail`, from cron): each e-mail once, retried on failure."""

from datetime import datetime

from core.extensions import db
from core.mail import Run, Sender, masked
from core.models import utcnow
from feedback import outbox
from feedback.mail import STILL_TRUE, compose, recipient
from feedback.models import CaseMail, MailEvent


def send_due(now: datetime | None = None, dry_run: bool = False, limit: int = 500) -> Run:
    """Send the e-mails that are due, committing each one as it is settled."""
    now = now or utcnow()
    run = Run()
    with Sender() as sender:
        for mail_id in outbox.due(now, limit):
            if dry_run:
                run.would_send.append(_preview(db.session.get(CaseMail, mail_id)))
                continue
            if not outbox.claim(mail_id, now):  # another run took it
                db.session.rollback()
                continue
            db.session.commit()
            mail = db.session.get(CaseMail, mail_id)
            address = recipient(mail.case)
            if address is None or not STILL_TRUE[MailEvent(mail.event)](mail.case):
                outbox.drop(mail)  # anonymous, purged, or no longer what the page shows
                run.dropped += 1
            else:
                problem, permanent = sender.send(compose(mail, address, now), address)
                if problem is None:
                    outbox.sent(mail, now)
                    run.sent += 1
                else:
                    _settle(run, mail, problem, now, permanent)
            db.session.commit()
    run.unreachable = sender.unreachable
    return run


def _settle(run: Run, mail: CaseMail, problem: str, now: datetime, permanent=False) -> None:
    if outbox.failed(mail, problem, now, permanent=bool(permanent)):
        run.given_up.append(
            f"case {mail.case_id}: the '{mail.event}' e-mail is given up after "
            f"{mail.attempts} {'try' if mail.attempts == 1 else 'tries'}: {mail.last_error}"
        )
    else:
        run.retrying += 1


def _preview(mail: CaseMail) -> str:
    address = recipient(mail.case)
    if address is None or not STILL_TRUE[MailEvent(mail.event)](mail.case):
        return f"case {mail.case_id}: '{mail.event}' would be dropped (nothing to tell)"
    return (
        f"case {mail.case_id}: '{mail.event}' in {mail.locale} to {masked(address)}, "
        f"try {mail.attempts + 1}"
    )
