"""The transition table, walked exhaustively: every state × every action, for every role."""

import pytest

from core.models import Role
from feedback.workflow import (
    ACTION_ROLES,
    NOTE_REQUIRED,
    OUTCOME_GUARDS,
    STAFF_ACTIONS,
    Action,
    IllegalMove,
    Outcome,
    State,
    allowed_actions,
    check_move,
    next_state,
)

S, A = State, Action
# The whole table as the product promises it: (state, action) -> next state; absent = refused.
EXPECTED = {
    (S.RECEIVED, A.CLASSIFY): S.CLASSIFIED,
    (S.CLASSIFIED, A.CLASSIFY): S.CLASSIFIED,
    (S.IN_PROGRESS, A.CLASSIFY): S.CLASSIFIED,
    (S.RECEIVED, A.REJECT): S.REJECTED,
    (S.CLASSIFIED, A.REJECT): S.REJECTED,
    (S.CLASSIFIED, A.ASSIGN): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.ASSIGN): S.IN_PROGRESS,
    (S.CLASSIFIED, A.TRANSFER): S.RECEIVED,
    (S.CLASSIFIED, A.FORWARD): S.FORWARDED,
    (S.IN_PROGRESS, A.ANSWER): S.ANSWERED,
    (S.ANSWERED, A.REOPEN): S.IN_PROGRESS,
    (S.PUBLISHED, A.REOPEN): S.IN_PROGRESS,
    (S.ANSWERED, A.PUBLISH): S.PUBLISHED,
    (S.ANSWERED, A.CLOSE): S.CLOSED,
    **{(s, A.COMMENT): s for s in S},
    **{(s, A.RATE): s for s in (S.ANSWERED, S.PUBLISHED, S.CLOSED)},
}


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(Action))
def test_every_state_and_action(i18n, state, action):
    if (state, action) in EXPECTED:
        assert next_state(state, action) is EXPECTED[(state, action)]
    else:
        with pytest.raises(IllegalMove) as refused:
            next_state(state, action)
        assert "not possible" in str(refused.value)


def _outcome_for(action):
    guard = OUTCOME_GUARDS.get(action)
    return sorted(guard)[0] if guard else Outcome.COMPETENT


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", [*Role, None])
def test_every_move_for_every_role(i18n, state, action, role):
    """A move passes only if the table has it and the role may make it (None: a citizen)."""
    outcome = _outcome_for(action)
    allowed = (state, action) in EXPECTED and (
        action is A.RATE if role is None else role in ACTION_ROLES.get(action, ())
    )
    if allowed:
        assert check_move(state, outcome, action, role, "a note") is EXPECTED[(state, action)]
        if role is not None:
            assert action in allowed_actions(state, outcome, role)
    else:
        with pytest.raises(IllegalMove):
            check_move(state, outcome, action, role, "a note")
        if role is not None:
            assert action not in allowed_actions(state, outcome, role)


def test_publishing_closing_and_reopening_are_for_managers_and_admins():
    for action in (A.PUBLISH, A.CLOSE, A.REOPEN):
        assert ACTION_ROLES[action] == {Role.ADMIN, Role.MANAGER}
    assert Role.ANALYST not in set().union(*ACTION_ROLES.values())
    assert A.RATE not in STAFF_ACTIONS and A.RECEIVE not in STAFF_ACTIONS


@pytest.mark.parametrize(
    ("action", "outcome", "ok"),
    [
        (A.ASSIGN, Outcome.COMPETENT, True),
        (A.ASSIGN, Outcome.DIFFICULTY, True),
        (A.ASSIGN, Outcome.OUTSIDE, False),
        (A.ASSIGN, None, False),
        (A.TRANSFER, Outcome.OUTSIDE, True),
        (A.TRANSFER, Outcome.DIFFICULTY, True),
        (A.TRANSFER, Outcome.COMPETENT, False),
        (A.FORWARD, Outcome.OUTSIDE, True),
        (A.FORWARD, Outcome.COMPETENT, False),
        (A.FORWARD, Outcome.DIFFICULTY, False),
    ],
)
def test_classification_decides_what_comes_next(i18n, action, outcome, ok):
    if ok:
        check_move(S.CLASSIFIED, outcome, action, Role.HANDLER, "")
    else:
        with pytest.raises(IllegalMove, match="Classify the case first"):
            check_move(S.CLASSIFIED, outcome, action, Role.HANDLER, "")


@pytest.mark.parametrize("action", sorted(NOTE_REQUIRED))
def test_some_moves_need_a_note(i18n, action):
    state = {A.REJECT: S.RECEIVED, A.COMMENT: S.IN_PROGRESS, A.REOPEN: S.ANSWERED}[action]
    with pytest.raises(IllegalMove, match="note"):
        check_move(state, Outcome.COMPETENT, action, Role.ADMIN, "   ")
    assert (
        check_move(state, Outcome.COMPETENT, action, Role.ADMIN, "why") is EXPECTED[(state, action)]
    )
