"""Send the outbox over SMTP (`feedback mail`, from cron): each e-mail once, retried on failure."""

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from core.extensions import db
from core.models import utcnow
from feedback import outbox
from feedback.mail import STILL_TRUE, compose, recipient, sender_address
from feedback.models import CaseMail, MailEvent

TIMEOUT = 30  # seconds for the server to answer each command
# Why an address with non-ASCII letters before the @ was not sent; its first word is the
# reason in the case's history.
NO_SMTPUTF8 = (
    "no-SMTPUTF8 – the mail server does not offer SMTPUTF8 (RFC 6531): this address needs it"
)


class Unreachable(Exception):
    """The mail server cannot be used at all: not reachable, no TLS, or the sign-in refused."""


@dataclass
class Run:
    """What one run did, for the command's output."""

    sent: int = 0
    retrying: int = 0
    dropped: int = 0
    given_up: list[str] = field(default_factory=list)
    would_send: list[str] = field(default_factory=list)
    unreachable: str | None = None


def connect() -> smtplib.SMTP:
    """Open a session with the configured server, secured and signed in; or raise Unreachable."""
    config = current_app.config
    host, port, security = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_SECURITY"]
    smtp = None
    try:
        if security == "ssl":
            context = ssl.create_default_context()
            smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except OSError as e:  # smtplib's errors are OSErrors too
        if smtp is not None:
            smtp.close()
        raise Unreachable(f"{host}:{port}: {_describe(e)}") from e
    return smtp


def send_due(now: datetime | None = None, dry_run: bool = False, limit: int = 500) -> Run:
    """Send the e-mails that are due, committing each one as it is settled."""
    now = now or utcnow()
    run, smtp = Run(), None
    try:
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
                if smtp is None and run.unreachable is None:
                    try:
                        smtp = connect()
                    except Unreachable as e:
                        run.unreachable = str(e)
                if run.unreachable is not None:
                    _settle(run, mail, f"unreachable: {run.unreachable}", now)
                else:
                    problem, permanent = deliver(smtp, compose(mail, address, now), address)
                    if problem is None:
                        outbox.sent(mail, now)
                        run.sent += 1
                    else:
                        _settle(run, mail, problem, now, permanent)
                        if permanent is None:  # the session broke: open another for the next
                            smtp = close(smtp)
            db.session.commit()
    finally:
        close(smtp)
    return run


def deliver(smtp, message, address: str) -> tuple[str | None, bool | None]:
    """Send one message; return (None, False) or why not, and whether that is final.

    Final: the server refused the recipient or the message for good (5xx). Not final: a
    temporary refusal (4xx), or None when the session itself broke.
    """
    try:
        smtp.send_message(message, from_addr=sender_address(), to_addrs=[address])
    except smtplib.SMTPRecipientsRefused as e:
        code, text = next(iter(e.recipients.values()))
        return _reply(code, text, address), code >= 500
    except smtplib.SMTPSenderRefused as e:  # our MAIL_FROM: a setting to fix, then retried
        return _reply(e.smtp_code, e.smtp_error, address), False
    except smtplib.SMTPResponseException as e:
        return _reply(e.smtp_code, e.smtp_error, address), e.smtp_code >= 500
    except smtplib.SMTPNotSupportedError:  # send_message raises it for this reason only
        return NO_SMTPUTF8, True
    except OSError as e:
        return f"broken: {_describe(e)}", None
    return None, False


def _settle(run: Run, mail: CaseMail, problem: str, now: datetime, permanent=False) -> None:
    if outbox.failed(mail, problem, now, permanent=bool(permanent)):
        run.given_up.append(
            f"case {mail.case_id}: the '{mail.event}' e-mail is given up after "
            f"{mail.attempts} {'try' if mail.attempts == 1 else 'tries'}: {mail.last_error}"
        )
    else:
        run.retrying += 1


def _reply(code: int, text, address: str) -> str:
    """The server's reply, without the address it may quote (kept past the retention)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = " ".join(str(text).split()).replace(address, "<recipient>")
    return f"{code} {text}"


def _describe(e: Exception) -> str:
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _preview(mail: CaseMail) -> str:
    address = recipient(mail.case)
    if address is None or not STILL_TRUE[MailEvent(mail.event)](mail.case):
        return f"case {mail.case_id}: '{mail.event}' would be dropped (nothing to tell)"
    return (
        f"case {mail.case_id}: '{mail.event}' in {mail.locale} to {masked(address)}, "
        f"try {mail.attempts + 1}"
    )


def masked(address: str) -> str:
    local, _at, domain = address.rpartition("@")
    return f"{local[:1]}…@{domain}"


def close(smtp) -> None:
    """End the session, if any, however it stands."""
    if smtp is not None:
        try:
            smtp.quit()
        except OSError:
            smtp.close()
