"""The PAKN cases that household-register "yes" answers open, and what keeps them few.

Each "yes" is a breach the unit's staff must hear of (Decree 104/2022). But the public survey
form can be posted by a script or by one bored person, and a case each would bury the queue.
So a "yes" opens a case of its own when it looks like one citizen's answer; the others join one
case for the counter and the day, which counts them (Case.survey_answers):
- those the survey's integrity checks flagged (the same phone, a burst, the same answers);
- those that come after FEEDBACK_SURVEY_CASES_PER_POINT_DAY cases of the counter's day.
Answers without a counter (a receipt's, typed in or imported by staff) always open their own.
The survey's figures count every answer whatever its case.
"""

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, text, update

from core.extensions import db
from core.i18n import day
from core.models import Unit, utcnow
from feedback.models import Case, Channel, Kind, Topic
from feedback.services import create_case
from feedback.settings import setting
from feedback.workdays import to_local_date
from feedback.workflow import OPEN_STATES


def open_case_for_household_register(response) -> Case:
    """Open a case for a response that reports a paper household register being asked for,
    or count it in its counter's case of the day (the module's note). Return the case.

    No personal data: the case links to the response, for the response's unit. Idempotent for
    a response with a case of its own; a joining answer is counted each time it is given.
    """
    if response.id is None:
        db.session.flush()
    existing = db.session.scalar(select(Case).where(Case.response_id == response.id))
    if existing is not None:
        return existing
    received_at = response.submitted_at or utcnow()
    _wait_for_the_counter(response.point_id)
    if not _joins_the_days_case(response, to_local_date(received_at)):
        return _open(response, received_at, _one_answer_text(response))
    joined = _days_case(response.point_id, to_local_date(received_at))
    if joined is None:
        case = _open(response, received_at, _days_case_text(response, received_at))
        case.survey_answers = 1
        return case
    # One UPDATE, not through the case: answers arriving together all count, and the case's
    # version, which a staff member's open form holds, stays the same.
    db.session.execute(
        update(Case)
        .where(Case.id == joined.id)
        .values(survey_answers=Case.survey_answers + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(joined, ["survey_answers"])
    return joined


# The advisory locks' first key: what the second, a counter's id, is locked for.
COUNTERS_DAY_LOCK = 104_2022


def _wait_for_the_counter(point_id: int | None) -> None:
    """Wait for any other answer of the counter to be committed or rolled back, so that this
    one counts its cases and finds its day's case after it, never beside it (two servers'
    answers at once each opened a day's case). A lock on the counter's number until commit,
    on PostgreSQL; SQLite lets one transaction write at a time, and this one has written."""
    if point_id is None or db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(
        text("SELECT pg_advisory_xact_lock(:kind, :point)"),
        {"kind": COUNTERS_DAY_LOCK, "point": point_id},
    )


def _joins_the_days_case(response, on) -> bool:
    if response.point_id is None:
        return False
    if response.flags:
        return True
    cases = db.session.scalar(
        select(func.count()).where(*_of_the_counters_day(response.point_id, on))
    )
    return cases >= setting("FEEDBACK_SURVEY_CASES_PER_POINT_DAY")


def _of_the_counters_day(point_id: int, on):
    return Case.point_id == point_id, Case.received_on == on, Case.channel == str(Channel.SURVEY)


def _days_case(point_id: int, on) -> Case | None:
    """The counter's case of that day that answers join, while it is still open."""
    return db.session.scalar(
        select(Case)
        .where(
            *_of_the_counters_day(point_id, on),
            Case.survey_answers.is_not(None),
            Case.state.in_([str(s) for s in OPEN_STATES]),
        )
        .order_by(Case.id.desc())
        .limit(1)
    )


def _open(response, received_at, content: str) -> Case:
    return create_case(
        db.session.get(Unit, response.unit_id),
        kind=Kind.REPORT,
        topic=Topic.DOCUMENTS_FEES,
        content=content,
        channel=Channel.SURVEY,
        point_id=response.point_id,
        response_id=response.id,
        actor_label="system",
        received_at=received_at,
    )


def _one_answer_text(response) -> str:
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _(
            "A survey response said that the citizen was asked to show a paper household "
            "register or temporary-residence book, which Decree 104/2022/NĐ-CP abolished "
            "(response no. %(id)s).",
            id=response.id,
        )


def _days_case_text(response, received_at) -> str:
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _(
            "Survey responses at this counter on %(day)s said that the citizen was asked to "
            "show a paper household register or temporary-residence book, which Decree "
            "104/2022/NĐ-CP abolished. This case counts them all (the first: response no. "
            "%(id)s) rather than one case each, as they came from the same phone, in a burst or "
            "with the same answers as others, or after the counter's first cases of the day. "
            "The counter's responses page lists them with their flags.",
            day=day(to_local_date(received_at)),
            id=response.id,
        )
