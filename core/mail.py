"""Automatic e-mail over SMTP, whatever it tells: the settings' switch, the plain-text message,
the session with the configured server and the delivery of one message.

PAKN's e-mails to citizens and the staff digest (feedback/) and the password-reset links
(core/password_reset.py) all go through here; what each says and when it is due stays with them.
"""

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.charset import QP, Charset
from email.header import Header
from email.mime.text import MIMEText
from email.policy import SMTPUTF8
from email.utils import format_datetime, formataddr, parseaddr

from email_validator import EmailNotValidError, validate_email
from flask import current_app

TIMEOUT = 30  # seconds for the server to answer each command
# Why an address with non-ASCII letters before the @ was not sent; its first word is the
# reason in the case's history.
NO_SMTPUTF8 = (
    "no-SMTPUTF8 – the mail server does not offer SMTPUTF8 (RFC 6531): this address needs it"
)
UTF8_QP = Charset("utf-8")
UTF8_QP.body_encoding = QP  # Vietnamese stays almost readable in the raw message


@dataclass
class Run:
    """What one run of a mail sender did (`feedback mail`, `users mail`), for the command's
    output."""

    sent: int = 0
    retrying: int = 0
    dropped: int = 0
    given_up: list[str] = field(default_factory=list)
    would_send: list[str] = field(default_factory=list)
    unreachable: str | None = None


class Unreachable(Exception):
    """The mail server cannot be used at all: not reachable, no TLS, or the sign-in refused."""


def mail_on() -> bool:
    """Say whether e-mails are sent: a mail server is set (core/config.py checks the rest)."""
    return bool(current_app.config.get("MAIL_SERVER"))


def mailable(address: str) -> str | None:
    """The address as mail can carry it (the domain in IDNA), or None if it is not valid."""
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError:  # entered before the forms checked it: never put in a header
        return None
    # A non-ASCII local part (nguyễn@…) has no ASCII form: it is sent with SMTPUTF8 (RFC 6531),
    # and refused for good by a server that does not offer it (deliver).
    return f"{checked.local_part}@{checked.ascii_domain}"


def sender_address() -> str:
    return parseaddr(current_app.config["MAIL_FROM"])[1]


def masked(address: str) -> str:
    local, _at, domain = address.rpartition("@")
    return f"{local[:1]}…@{domain}"


def plain_message(
    subject: str, body: str, address: str, now: datetime, message_id: str, locale: str
) -> MIMEText:
    """An automatic plain-text e-mail from MAIL_FROM to a checked address, dated now (UTC).

    message_id: the left part of the Message-ID, the same for every try of one e-mail, so that
    a receiver can tell a message sent again.
    """
    name, sender = parseaddr(current_app.config["MAIL_FROM"])
    if address.isascii():
        # The legacy API: the newer one (policy SMTP) folds a long Vietnamese subject into
        # encoded words that lose the space between them ("có thẩm" arrives as "cóthẩm",
        # CPython 3.11).
        message = MIMEText(body, "plain", UTF8_QP)
        message["Subject"] = Header(subject, "utf-8")
        message["From"] = formataddr((name, sender), charset="utf-8")
    else:
        # An international address goes with SMTPUTF8, and the headers in plain UTF-8 (RFC
        # 6532): an encoded word may not hold an address.
        message = MIMEText(body, "plain", UTF8_QP, policy=SMTPUTF8)
        message["Subject"] = subject
        message["From"] = formataddr((name, sender))
    message["To"] = address  # checked by mailable(): no line break can reach here
    message["Date"] = format_datetime(now.replace(tzinfo=UTC))
    message["Message-ID"] = f"<{message_id}@{sender.rpartition('@')[2]}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["Content-Language"] = locale
    return message


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
        raise Unreachable(f"{host}:{port}: {describe(e)}") from e
    return smtp


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
        return f"broken: {describe(e)}", None
    return None, False


class Sender:
    """One SMTP session for a run of e-mails (`with Sender() as sender:`): opened at the first
    e-mail, opened again after one that broke it, closed at the end. Once the server could not
    be used, unreachable says why and no e-mail of the run is tried."""

    def __init__(self):
        self.smtp = None
        self.unreachable: str | None = None

    def __enter__(self) -> "Sender":
        return self

    def __exit__(self, *_exc) -> None:
        self.smtp = close(self.smtp)

    def ready(self) -> bool:
        """Open the session if none is open; say whether the server can be used."""
        if self.smtp is None and self.unreachable is None:
            try:
                self.smtp = connect()
            except Unreachable as e:
                self.unreachable = str(e)
        return self.unreachable is None

    def send(self, message, address: str) -> tuple[str | None, bool | None]:
        """deliver() on the session; a server that cannot be used is a problem to retry."""
        if not self.ready():
            return f"unreachable: {self.unreachable}", False
        problem, permanent = deliver(self.smtp, message, address)
        if permanent is None:  # the session broke: open another for the next
            self.smtp = close(self.smtp)
        return problem, permanent


def close(smtp) -> None:
    """End the session, if any, however it stands."""
    if smtp is not None:
        try:
            smtp.quit()
        except OSError:
            smtp.close()


def _reply(code: int, text, address: str) -> str:
    """The server's reply, without the address it may quote (kept past the retention)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = " ".join(str(text).split()).replace(address, "<recipient>")
    return f"{code} {text}"


def describe(e: Exception) -> str:
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
