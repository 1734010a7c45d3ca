"""The e-mails citizens receive about their PAKN: plain text, in the language they wrote in.

The address was typed by whoever sent the form, and nobody confirmed it is theirs: so an e-mail
carries nothing the sender chose (no name, none of their words), only our fixed text, facts
staff wrote (unit, reason, agency) and the tracking link. Anyone giving someone else's address
can thus make us send that person nothing but a notice that a PAKN exists.
"""

from datetime import datetime
from email.mime.text import MIMEText

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from core.i18n import day
from core.mail import mailable, plain_message
from feedback import codes
from feedback.models import Case, CaseMail, MailEvent
from feedback.templating import CITIZEN_STATES, citizen_state
from feedback.workflow import ANSWERED_STATES, OPEN_STATES, STATE_LABELS, Outcome, State

# What must still be true when the e-mail leaves: the tracking page shows the same thing.
STILL_TRUE = {
    MailEvent.RECEIVED: lambda case: True,
    MailEvent.ANSWERED: lambda case: case.state in ANSWERED_STATES,
    MailEvent.REJECTED: lambda case: case.state == State.REJECTED,
    MailEvent.FORWARDED: lambda case: case.state == State.FORWARDED,
}


def recipient(case: Case) -> str | None:
    """The sender's address as mail can carry it, or None (anonymous, purged, or not valid)."""
    person = case.person
    if person is None or not person.email or case.personal_data_purged_at is not None:
        return None
    return mailable(person.email)


def compose(mail: CaseMail, address: str, now: datetime) -> MIMEText:
    """Write the e-mail for this outbox row, to this address, dated now (UTC)."""
    case = mail.case
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    link = f"{base}/track/{case.code}"
    event = MailEvent(mail.event)
    with force_locale(mail.locale):
        code = codes.display(case.code)
        subject = f"{_('PAKN %(code)s', code=code)} – {SUBJECTS[event]}"
        body = _body(case, event, link, code)
    message_id = f"pakn.{mail.id}.{int(mail.created_at.timestamp())}"
    return plain_message(subject, body, address, now, message_id, mail.locale)


# The subject after the code: the words the tracking page uses for that state.
SUBJECTS = {
    MailEvent.RECEIVED: STATE_LABELS[State.RECEIVED],
    MailEvent.ANSWERED: STATE_LABELS[State.ANSWERED],
    MailEvent.REJECTED: STATE_LABELS[State.REJECTED],
    MailEvent.FORWARDED: CITIZEN_STATES[State.FORWARDED],
}


def _body(case: Case, event: MailEvent, link: str, code: str) -> str:
    """The text, in the forced locale: what happened, the tracking page's facts, the links."""
    # Never the sender's name: whoever typed the address chose it (see the module's note).
    lines = [_("Hello,"), ""]
    if event is MailEvent.RECEIVED:
        lines += [_("Your PAKN has been received. Keep its tracking code, %(code)s, to follow "
                    "the handling here:", code=code), link]  # fmt: skip
    elif event is MailEvent.ANSWERED:
        lines += [_("Your PAKN has been answered. Read the answer here:"), link, "",
                  _("Please tell us whether you are satisfied with how it was handled:"),
                  f"{link}#rating"]  # fmt: skip
    elif event is MailEvent.REJECTED:
        lines += [_("Your PAKN was not accepted, for the reason below."), link]
    else:
        lines += [_("Your PAKN was forwarded to the competent agency below."), link]
    lines += [
        "",
        f"{_('Status')}: {citizen_state(case)}",
        f"{_('Unit')}: {case.unit.name}",
        f"{_('Sent on')}: {day(case.received_on)}",
    ]
    if case.state in OPEN_STATES:
        # Classified outside the unit's competence, the date is the forwarding deadline.
        if case.outcome == Outcome.OUTSIDE:
            due = _("To be forwarded to the competent agency by")
        else:
            due = _("Answer due by")
        lines.append(f"{due}: {day(case.due_on)}")
    if event is MailEvent.REJECTED:
        lines += ["", f"{_('Why it was not accepted')}:", case.citizen_note or ""]
    if event is MailEvent.FORWARDED:
        lines += ["", f"{_('Forwarded to')}: {case.forwarded_to}"]
        if case.citizen_note:
            lines.append(case.citizen_note)
    footer = _(
        "This e-mail was sent automatically: replies are not read. You receive it because "
        "this address was given with a PAKN; if you did not send one, you may ignore it."
    )
    return "\n".join([*lines, "", "-- ", footer]) + "\n"
