"""Labels, dates and due-date helpers for the PAKN templates."""

from datetime import date

from flask import g
from flask_babel import gettext as _

from core.lazytext import lazy_gettext as _l
from core.mail import mail_on
from feedback import codes
from feedback.history import detail_lines
from feedback.models import CHANNEL_LABELS, KIND_LABELS, TOPIC_LABELS, Channel, Kind, Topic
from feedback.workdays import local_today
from feedback.workflow import (
    ACTION_LABELS,
    OPEN_STATES,
    OUTCOME_LABELS,
    STATE_LABELS,
    Action,
    Outcome,
    State,
)

# What the citizen reads of each state: what has been done, and what comes next.
CITIZEN_STATES = {
    State.RECEIVED: _l("Received, to be classified"),
    State.CLASSIFIED: _l("Accepted, being handled"),
    State.IN_PROGRESS: _l("Being handled"),
    State.ANSWERED: _l("Answered"),
    State.PUBLISHED: _l("Answered and published"),
    State.CLOSED: _l("Answered"),
    State.REJECTED: _l("Not accepted"),
    State.FORWARDED: _l("Forwarded to the competent agency"),
}


# Classified outside the unit's competence: it goes to the competent agency next.
CITIZEN_OUTSIDE = _l("Accepted, to be sent to the competent agency")


def citizen_state(case) -> str:
    """The case's state in the citizen's words (tracking page, e-mails)."""
    if case.state == State.CLASSIFIED and case.outcome == Outcome.OUTSIDE:
        return str(CITIZEN_OUTSIDE)
    return _label(CITIZEN_STATES, State)(case.state)


def _label(table, enum_type):
    def label(value) -> str:
        try:
            return str(table[enum_type(value)])
        except (KeyError, ValueError):
            return str(value or "")

    return label


def actor_name(event) -> str:
    """Who made a move in the case's history: the staff account's address, the citizen, the
    system (a household-register answer, the mail sender, the retention purge), or the partner
    system whose API key handed the case over."""
    if event.actor is not None:
        return event.actor.email
    label = event.actor_label or ""
    if label == "citizen":
        return _("citizen")
    if label == "system":
        return _("the system")
    if label.startswith("api:"):
        return _("partner system “%(name)s” (API key)", name=label[4:])
    return label


def today() -> date:
    if "pakn_today" not in g:
        g.pakn_today = local_today()
    return g.pakn_today


def is_overdue(case) -> bool:
    return case.state in OPEN_STATES and case.due_on < today()


def publish_due(case) -> date | None:
    """The publishing due date while the case waits to be published, else None."""
    return case.publish_due_on if case.state == State.ANSWERED else None


def is_publish_overdue(case) -> bool:
    due = publish_due(case)
    return due is not None and due < today()


def init_app(app) -> None:
    helpers = {
        "topic_label": _label(TOPIC_LABELS, Topic),
        "kind_label": _label(KIND_LABELS, Kind),
        "channel_label": _label(CHANNEL_LABELS, Channel),
        "state_label": _label(STATE_LABELS, State),
        "action_label": _label(ACTION_LABELS, Action),
        "outcome_label": _label(OUTCOME_LABELS, Outcome),
        "citizen_state": citizen_state,
        "actor_name": actor_name,
        "detail_lines": detail_lines,
        "is_overdue": is_overdue,
        "publish_due": publish_due,
        "is_publish_overdue": is_publish_overdue,
        "pakn_today": today,
        "mail_on": mail_on,
        "tracking_code": codes.display,
    }
    app.jinja_env.globals.update(helpers)
