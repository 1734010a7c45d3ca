"""A case's history as staff read it: each move's recorded detail in the reader's language.

The detail is stored as the moves write it (feedback/moves.py, services.py, outbox.py, cli.py):
"key=value" parts joined by "; ", the same in every language. The case page says each part in
words; a detail it does not know is shown as recorded.
"""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.i18n import day
from feedback.models import CHANNEL_LABELS, CaseEvent, Channel
from feedback.workflow import OUTCOME_LABELS, STATE_LABELS, Outcome, State

# What each e-mail to the citizen told (outbox.queue's events), as the case page names states.
MAIL_EVENTS = {
    "received": State.RECEIVED,
    "answered": State.ANSWERED,
    "rejected": State.REJECTED,
    "forwarded": State.FORWARDED,
}

# The lines a case's page shows unless asked for all: a long history takes long to read and
# to render (2,000 lines: about half a second), and its latest lines are what staff act on.
HISTORY_SHOWN = 100


def latest_lines(case_id: int, whole: bool = False) -> tuple[list[CaseEvent], int]:
    """The case's latest history lines (or all), oldest first, with their writers; and how many
    lines it has in all."""
    total = db.session.scalar(select(func.count()).where(CaseEvent.case_id == case_id))
    query = (
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.id.desc())
        .options(selectinload(CaseEvent.actor))
    )
    if not whole:
        query = query.limit(HISTORY_SHOWN)
    return list(reversed(db.session.scalars(query).all())), total


def detail_lines(detail: str | None) -> list[str]:
    """Return a history line's detail as lines in the reader's language."""
    if not detail:
        return []
    if detail.startswith("agency="):  # the agency's name is free text: "; " or "=" may be in it
        return [f"{_('Competent agency')}: {detail.removeprefix('agency=')}"]
    facts = dict(part.partition("=")[::2] for part in detail.split("; "))
    try:
        if "mail" in facts:
            return [_mail(facts)]
        return [_fact(key, value, facts) for key, value in facts.items() if key != "to"]
    except (KeyError, ValueError):
        return [detail]


def _fact(key: str, value: str, facts: dict[str, str]) -> str:
    if key == "channel":
        return f"{_('Channel')}: {CHANNEL_LABELS[Channel(value)]}"
    if key == "outcome":
        return f"{_('Classification')}: {OUTCOME_LABELS[Outcome(value)]}"
    if key in ("due", "publish_due"):
        label = _("Due") if key == "due" else _("Publish by")
        return f"{label}: {day(date.fromisoformat(value))}"
    if key == "unit":
        return f"{_('Unit')}: {value}"
    if key == "from":  # a transfer
        return f"{_('Unit')}: {value} → {facts['to']}"
    if key == "handler":
        return f"{_('Handler')}: {value}"
    if key == "on_time":
        return _("Answered on time") if value == "yes" else _("Answered after the due date")
    if key == "satisfied":
        return _("Satisfied") if value == "True" else _("Not satisfied")
    if key == "photo_removed":
        return _("Photo %(n)s removed: it could not be read", n=int(value.split(" ")[0]))
    if key == "retention_days":
        return _("Retention period: %(n)s days", n=int(value))
    raise KeyError(key)


def _mail(facts: dict[str, str]) -> str:
    event = STATE_LABELS[MAIL_EVENTS[facts["mail"]]]
    if "sent" in facts:
        return _("“%(event)s” sent", event=event)
    if facts["reason"] == "attempts":
        return _("“%(event)s” not sent: given up after %(n)s attempts", event=event,
                 n=int(facts["attempts"]))  # fmt: skip
    return _("“%(event)s” not sent: the mail server refused it (%(reason)s)", event=event,
             reason=facts["reason"])  # fmt: skip
