"""The case workflow: states, actions, the table of allowed moves and their preconditions."""

import enum

from core.lazytext import lazy_gettext as _l
from core.models import Role


class State(enum.StrEnum):
    RECEIVED = "received"
    CLASSIFIED = "classified"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    PUBLISHED = "published"
    CLOSED = "closed"
    REJECTED = "rejected"
    FORWARDED = "forwarded"


class Action(enum.StrEnum):
    RECEIVE = "receive"  # the case is created; never a move from a state
    CLASSIFY = "classify"
    REJECT = "reject"
    ASSIGN = "assign"
    TRANSFER = "transfer"  # to the competent unit inside the system
    FORWARD = "forward"  # to a competent agency outside the system
    ANSWER = "answer"
    REOPEN = "reopen"
    PUBLISH = "publish"
    CLOSE = "close"
    COMMENT = "comment"
    RATE = "rate"  # the citizen says whether the handling satisfied them
    PURGE = "purge"  # the system deleted the personal data after the retention period
    MAIL = "mail"  # the system e-mailed the citizen, or gave up (feedback/mailer.py)


class Outcome(enum.StrEnum):
    """The four outcomes of classification (README.md, "Complaints and recommendations")."""

    NOT_ACCEPTED = "not_accepted"
    DIFFICULTY = "difficulty"  # a concrete difficulty caused by an agency or official
    COMPETENT = "competent"  # within this unit's competence
    OUTSIDE = "outside"  # outside it: forward within 5 working days


OPEN_STATES = frozenset({State.RECEIVED, State.CLASSIFIED, State.IN_PROGRESS})
ANSWERED_STATES = frozenset({State.ANSWERED, State.PUBLISHED, State.CLOSED})
FINISHED_STATES = frozenset(State) - OPEN_STATES

TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.RECEIVED, Action.CLASSIFY): State.CLASSIFIED,
    (State.CLASSIFIED, Action.CLASSIFY): State.CLASSIFIED,
    # The handler may find that the case is not theirs after all: classified again, it can
    # then be transferred or forwarded, against the deadline of the new outcome.
    (State.IN_PROGRESS, Action.CLASSIFY): State.CLASSIFIED,
    (State.RECEIVED, Action.REJECT): State.REJECTED,
    (State.CLASSIFIED, Action.REJECT): State.REJECTED,
    (State.CLASSIFIED, Action.ASSIGN): State.IN_PROGRESS,
    (State.IN_PROGRESS, Action.ASSIGN): State.IN_PROGRESS,
    (State.CLASSIFIED, Action.TRANSFER): State.RECEIVED,
    (State.CLASSIFIED, Action.FORWARD): State.FORWARDED,
    (State.IN_PROGRESS, Action.ANSWER): State.ANSWERED,
    (State.ANSWERED, Action.REOPEN): State.IN_PROGRESS,
    # A published answer found wrong: reopened, the case leaves the public pages at once.
    (State.PUBLISHED, Action.REOPEN): State.IN_PROGRESS,
    (State.ANSWERED, Action.PUBLISH): State.PUBLISHED,
    (State.ANSWERED, Action.CLOSE): State.CLOSED,
    **{(state, Action.COMMENT): state for state in State},
    **{(state, Action.RATE): state for state in ANSWERED_STATES},
}

SYSTEM_ACTIONS = (Action.RECEIVE, Action.RATE, Action.PURGE, Action.MAIL)
STAFF_ACTIONS = tuple(a for a in Action if a not in SYSTEM_ACTIONS)
# Publishing, closing and reopening commit the unit: a manager or an administrator decides.
ACTION_ROLES: dict[Action, frozenset[Role]] = {
    action: frozenset({Role.ADMIN, Role.MANAGER, Role.HANDLER}) for action in STAFF_ACTIONS
}
for _action in (Action.PUBLISH, Action.CLOSE, Action.REOPEN):
    ACTION_ROLES[_action] = frozenset({Role.ADMIN, Role.MANAGER})

# Which classification outcomes allow the move (absent: any).
OUTCOME_GUARDS: dict[Action, frozenset[Outcome]] = {
    Action.ASSIGN: frozenset({Outcome.COMPETENT, Outcome.DIFFICULTY}),
    Action.TRANSFER: frozenset({Outcome.OUTSIDE, Outcome.DIFFICULTY}),
    Action.FORWARD: frozenset({Outcome.OUTSIDE}),
}
CLASSIFY_OUTCOMES = (Outcome.COMPETENT, Outcome.DIFFICULTY, Outcome.OUTSIDE)
# Moves that need a note: the reason is part of the record (and, for a rejection, of the answer).
NOTE_REQUIRED = frozenset({Action.REJECT, Action.COMMENT, Action.REOPEN})

STATE_LABELS = {
    State.RECEIVED: _l("Received"),
    State.CLASSIFIED: _l("Classified"),
    State.IN_PROGRESS: _l("In progress"),
    State.ANSWERED: _l("Answered"),
    State.PUBLISHED: _l("Published"),
    State.CLOSED: _l("Closed"),
    State.REJECTED: _l("Not accepted"),
    State.FORWARDED: _l("Forwarded"),
}
ACTION_LABELS = {
    Action.RECEIVE: _l("Received"),
    Action.CLASSIFY: _l("Classify"),
    Action.REJECT: _l("Do not accept"),
    Action.ASSIGN: _l("Assign"),
    Action.TRANSFER: _l("Transfer to another unit"),
    Action.FORWARD: _l("Forward to an outside agency"),
    Action.ANSWER: _l("Answer"),
    Action.REOPEN: _l("Reopen"),
    Action.PUBLISH: _l("Publish"),
    Action.CLOSE: _l("Close without publishing"),
    Action.COMMENT: _l("Add a note"),
    Action.RATE: _l("Citizen's rating"),
    Action.PURGE: _l("Personal data deleted"),
    Action.MAIL: _l("E-mail to the citizen"),
}
OUTCOME_LABELS = {
    Outcome.NOT_ACCEPTED: _l("Not accepted"),
    Outcome.DIFFICULTY: _l("Difficulty caused by an agency or official"),
    Outcome.COMPETENT: _l("Within this unit's competence"),
    Outcome.OUTSIDE: _l("Outside this unit's competence"),
}


class IllegalMove(ValueError):
    """The move is not allowed; the message says why, in the user's language, and field names
    the form's field to fix when one is at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def next_state(state: State, action: Action) -> State:
    """Return the state the action leads to, or raise IllegalMove."""
    try:
        return TRANSITIONS[(State(state), Action(action))]
    except KeyError:
        raise IllegalMove(
            _l(
                "“%(action)s” is not possible while the case is “%(state)s”.",
                action=ACTION_LABELS[Action(action)],
                state=STATE_LABELS[State(state)],
            )
        ) from None


def allowed_actions(state: State, outcome: Outcome | None, role: Role) -> list[Action]:
    """List the staff actions this role may take on a case in this state and outcome."""
    return [
        action
        for action in STAFF_ACTIONS
        if (State(state), action) in TRANSITIONS
        and role in ACTION_ROLES[action]
        and _outcome_allows(action, outcome)
    ]


def _outcome_allows(action: Action, outcome: Outcome | None) -> bool:
    guard = OUTCOME_GUARDS.get(action)
    return guard is None or (outcome is not None and Outcome(outcome) in guard)


def check_move(
    state: State, outcome: Outcome | None, action: Action, role: Role | None, note: str = ""
) -> State:
    """Return the next state if this move is allowed for this role (None: the citizen)."""
    target = next_state(state, action)
    if role is None:
        if action is not Action.RATE:
            raise IllegalMove(_l("Only staff can do this."))
    elif role not in ACTION_ROLES.get(Action(action), ()):
        raise IllegalMove(_l("Your role does not allow this action."))
    if not _outcome_allows(Action(action), outcome):
        raise IllegalMove(_l("Classify the case first, with an outcome that allows this action."))
    if action in NOTE_REQUIRED and not note.strip():
        raise IllegalMove(_l("Please write a note: it is required for this action."), "note")
    return target
