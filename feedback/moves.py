"""What each staff move does to a case, beyond its state; each returns the audit detail."""

from core.lazytext import lazy_gettext as _l
from core.models import Role, User
from feedback.models import Case
from feedback.privacy import holds_personal_data
from feedback.workdays import answer_due, forward_due, publish_due
from feedback.workflow import Action, IllegalMove, Outcome

HANDLING_ROLES = (Role.ADMIN, Role.MANAGER, Role.HANDLER)


def can_handle(user: User, case: Case) -> bool:
    """Say whether this account may see and handle the case (and its personal data)."""
    return user.role in HANDLING_ROLES and user.can_see_unit(case.unit)


def _classify(case, actor, *, outcome, today, **_):
    if outcome not in {str(o) for o in (Outcome.COMPETENT, Outcome.DIFFICULTY, Outcome.OUTSIDE)}:
        raise IllegalMove(_l("Choose how the case is classified."), "outcome")
    case.outcome = outcome
    if outcome == Outcome.OUTSIDE:
        case.due_on = forward_due(case.counted_from)
    else:
        case.due_on = answer_due(case.topic, case.counted_from)
    return f"outcome={outcome}; due={case.due_on.isoformat()}"


def _reject(case, actor, *, note, **_):
    case.outcome = str(Outcome.NOT_ACCEPTED)
    case.citizen_note = note
    return f"outcome={Outcome.NOT_ACCEPTED}"


def _assign(case, actor, *, unit, handler, **_):
    unit = unit or case.unit
    if not actor.can_see_unit(unit):
        raise IllegalMove(_l("You can only assign to units in your scope."), "unit")
    if handler is not None and (
        not handler.active or handler.role not in HANDLING_ROLES or handler.unit_id != unit.id
    ):
        raise IllegalMove(_l("The handler must be a staff member of that unit."), "handler")
    case.unit_id, case.unit, case.handler = unit.id, unit, handler
    return f"unit={unit.code}" + (f"; handler={handler.email}" if handler else "")


def _transfer(case, actor, *, unit, today, **_):
    if unit is None or unit.id == case.unit_id:
        raise IllegalMove(_l("Choose the competent unit to transfer the case to."), "unit")
    before = case.unit.code
    case.unit_id, case.unit, case.handler, case.outcome = unit.id, unit, None, None
    case.counted_from = today
    case.due_on = answer_due(case.topic, today)
    return f"from={before}; to={unit.code}; due={case.due_on.isoformat()}"


def _forward(case, actor, *, agency, note, **_):
    if not agency or len(agency) > 200:
        raise IllegalMove(_l("Name the competent agency (200 characters at most)."), "agency")
    case.forwarded_to = agency
    case.citizen_note = note or None
    return f"agency={agency}"


def _answer(case, actor, *, answer, now, today, **_):
    if not answer:
        raise IllegalMove(_l("Write the answer."), "answer")
    case.answer = answer
    case.answered_at, case.answered_on = now, today
    case.publish_due_on = publish_due(case.topic, today)
    on_time = "yes" if today <= case.due_on else "no"
    return (
        f"due={case.due_on.isoformat()}; on_time={on_time}; "
        f"publish_due={case.publish_due_on.isoformat()}"
    )


def _reopen(case, actor, **_):
    case.answered_at = case.answered_on = case.finished_at = case.publish_due_on = None
    # The citizen may rate the next answer; a "not satisfied" stays in ever_dissatisfied.
    case.satisfied = case.rated_at = None
    # A published case leaves the public pages (they show published cases only). Its
    # published texts stay, hidden, for staff: the record of what the public read, and the
    # summary to start from when it is published again.
    case.published_at = None
    return None


def _publish(case, actor, *, summary, published_answer, now, **_):
    if not summary:
        raise IllegalMove(_l("Write the summary to publish, without personal data."), "summary")
    if not published_answer:
        raise IllegalMove(
            _l("Write the answer to publish, without personal data."), "published_answer"
        )
    # Decree 13/2023: what is published never names the sender or says how to reach them. The
    # answer addressed to the citizen may: only they read it, with their tracking code.
    if holds_personal_data(summary, case.person):
        raise IllegalMove(
            _l(
                "The summary holds the sender's name, phone number, e-mail or address. "
                "Remove them before publishing."
            ),
            "summary",
        )
    if holds_personal_data(published_answer, case.person):
        raise IllegalMove(
            _l(
                "The answer to publish holds the sender's name, phone number, e-mail or "
                "address. Remove them before publishing: the citizen still reads the answer "
                "addressed to them."
            ),
            "published_answer",
        )
    case.public_summary = summary
    case.published_answer = published_answer
    case.published_at = now
    return None


def _nothing(case, actor, **_):
    return None


MOVES = {
    Action.CLASSIFY: _classify,
    Action.REJECT: _reject,
    Action.ASSIGN: _assign,
    Action.TRANSFER: _transfer,
    Action.FORWARD: _forward,
    Action.ANSWER: _answer,
    Action.REOPEN: _reopen,
    Action.PUBLISH: _publish,
    Action.CLOSE: _nothing,
    Action.COMMENT: _nothing,
}
