"""The demo province's PAKN (feedback/demo.py) and comments (survey/demo.py): what someone who
runs `make run` sees in the back office must be what the real workflow would have left."""

from collections import Counter
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import LOCAL_OFFSET, AccountEvent, Role, Unit, UnitEvent, User, utcnow
from feedback.deadlines import build_calendar
from feedback.models import Case, CaseEvent
from feedback.workflow import ANSWERED_STATES, TRANSITIONS, Action, State
from survey.demo import COMPLAINTS, DEMO_EMAIL, PRAISE, STUFFED, STUFFED_REASON
from survey.models import CRITERIA, Exclusion, PointEvent, ReceiptCode, Response, SurveyPoint
from survey.questionnaires import load_questionnaire
from tests.conftest import FAST_HASH, app_on, login


@pytest.fixture(scope="module")
def demo(database_url):
    """One demo province, loaded by `flask demo load` once for the module's tests, which only
    read it (the comments test signs in)."""
    with app_on(database_url) as app:
        load_questionnaire()
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        yield app


def test_the_demo_has_cases_in_every_part_of_the_queue_and_staff_to_handle_them(demo):
    states = Counter(db.session.scalars(select(Case.state)))
    # Old cases finished, recent ones still waiting: the queue's tabs all have something.
    assert states[State.PUBLISHED] > 10
    assert states[State.RECEIVED] + states[State.CLASSIFIED] + states[State.IN_PROGRESS] >= 1
    assert states[State.REJECTED] + states[State.FORWARDED] >= 1
    assert sum(states[s] for s in ANSWERED_STATES) > sum(states.values()) / 2
    # Each household-register "yes" opened its case, as a citizen's answer does.
    yes = set(db.session.scalars(select(Response.id).where(Response.hk.is_(True))))
    opened = set(db.session.scalars(select(Case.response_id).where(Case.response_id.is_not(None))))
    assert yes and opened == yes
    # A manager for the province and each district, a handler for each commune.
    units = db.session.scalars(select(Unit)).all()
    parents = {u.parent_id for u in units}
    staff = {
        u.unit_id: u for u in db.session.scalars(select(User).where(User.unit_id.is_not(None)))
    }
    assert set(staff) == {u.id for u in units}
    for unit in units:
        assert staff[unit.id].role == (Role.MANAGER if unit.id in parents else Role.HANDLER)
    # Each case was handled by its own unit's handler (the workflow's scope checks held).
    for case in db.session.scalars(select(Case).where(Case.handler_id.is_not(None))):
        assert case.handler_id == staff[case.unit_id].id
    # The dossiers' receipt codes: those answered name their answer, given through the code.
    receipts = db.session.scalars(select(ReceiptCode)).all()
    answered = {r.response_id: r for r in receipts if r.response_id is not None}
    by_receipt = db.session.scalars(select(Response).where(Response.channel == "receipt")).all()
    assert len(receipts) > 100 and len(by_receipt) == len(answered) > 10
    for response in by_receipt:
        receipt = answered[response.id]
        assert receipt.unit_id == response.unit_id and receipt.used_at == response.submitted_at
        assert receipt.created_at < response.submitted_at < receipt.expires_at
    # A complaint of delay names its dossier, issued at its commune before it.
    delays = db.session.scalars(select(Case).where(Case.topic == "delay")).all()
    for case in delays:
        before = [r for r in receipts if r.unit_id == case.received_unit_id]
        before = [r.id for r in before if r.created_at < case.received_at]
        assert case.receipt_id in before if before else case.receipt_id is None
    assert any(case.receipt_id for case in delays)
    latest = db.session.scalar(select(Case.received_at).order_by(Case.received_at.desc()))
    assert utcnow() - timedelta(days=30) < latest <= utcnow()


def test_every_case_history_is_a_legal_walk_in_time_order_and_in_the_past(demo):
    now = utcnow()
    for case in db.session.scalars(select(Case)):
        events = db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        ).all()
        assert events[0].action == Action.RECEIVE and events[0].at == case.received_at
        times = [e.at for e in events]
        assert times == sorted(times), (case.code, times)
        assert max(times) <= now
        state = State.RECEIVED
        for event in events[1:]:
            if event.action == Action.RATE:
                assert state in ANSWERED_STATES and case.channel != "survey", case.code
                continue
            state = TRANSITIONS[(state, Action(event.action))]
        assert state == case.state, case.code
        if case.answered_at is not None:
            assert case.received_at <= case.answered_at <= now
        if case.published_at is not None:
            assert case.answered_at <= case.published_at


def test_staff_moved_the_cases_on_working_days(demo):
    calendar = build_calendar(range(utcnow().year - 3, utcnow().year + 2))
    moves = select(CaseEvent.at).where(CaseEvent.actor_id.is_not(None))
    moments = list(db.session.scalars(moves))
    assert moments
    for moment in moments:
        local = moment + LOCAL_OFFSET
        assert calendar.is_working_day(local.date()), local


def test_some_answers_carry_a_comment_staff_can_read(demo):
    comments = db.session.scalars(select(Response.comment).where(Response.comment.is_not(None)))
    comments = list(comments)
    total = db.session.query(Response).count()
    assert 0.05 * total < len(comments) < 0.25 * total
    assert set(comments) <= set(PRAISE) | set(COMPLAINTS)
    admin = db.session.scalar(select(User).where(User.email == DEMO_EMAIL))
    admin.password_hash = FAST_HASH
    db.session.commit()
    client = demo.test_client()
    login(client, DEMO_EMAIL)
    page = client.get("/staff/comments").get_data(as_text=True)
    newest = db.session.scalar(
        select(Response.comment)
        .where(Response.comment.is_not(None))
        .order_by(Response.submitted_at.desc(), Response.id.desc())
    )
    assert newest.split("\n")[0] in page


def test_the_counters_answers_came_in_office_hours_on_working_days(demo):
    counter = ("static", "presence", "paper")
    at_counter = select(Response.submitted_at).where(Response.channel.in_(counter))
    for moment in db.session.scalars(at_counter):
        local = moment + LOCAL_OFFSET
        assert local.weekday() < 5 and time(7, 30) <= local.time() <= time(17), local


def test_the_province_set_up_its_units_counters_and_accounts_before_its_first_record(demo):
    """The units' import, the counters and the accounts are dated to a working morning before
    the first answer, receipt or case, not to the day `demo load` ran: a counter "created
    today" with two years of answers, or staff made today who handled cases last year, would
    make the back office's histories contradict its figures."""
    first = min(
        db.session.scalar(select(func.min(Response.submitted_at))),
        db.session.scalar(select(func.min(ReceiptCode.created_at))),
        db.session.scalar(select(func.min(Case.received_at))),
    )
    stamps = [
        *db.session.scalars(select(SurveyPoint.created_at)),
        *db.session.scalars(select(PointEvent.at)),
        *db.session.scalars(select(UnitEvent.at)),
        *db.session.scalars(select(User.created_at)),
        *db.session.scalars(select(AccountEvent.at)),
    ]
    assert len(stamps) > 60 and len(set(stamps)) == 1
    local = stamps[0] + LOCAL_OFFSET
    assert stamps[0] < first and local.weekday() < 5 and local.time() == time(8), (local, first)
    assert first - stamps[0] < timedelta(days=120)  # set up shortly before, not years before


def test_receipts_were_printed_in_office_hours_and_answered_in_waking_hours(demo):
    """A counter prints its receipts while open; citizens answer through them from home, by day
    or evening (not at 3 a.m., which the demo's first version had for both)."""
    receipts = db.session.scalars(select(ReceiptCode)).all()
    for receipt in receipts:
        local = receipt.created_at + LOCAL_OFFSET
        assert local.weekday() < 5 and time(7, 30) <= local.time() <= time(17), local
    answered = [r.used_at + LOCAL_OFFSET for r in receipts if r.used_at is not None]
    assert len(answered) > 10
    for local in answered:
        assert time(6) <= local.time() <= time(23), local
    assert len({local.weekday() for local in answered}) == 7  # at home, weekends too


def test_the_counters_answers_carry_the_flags_the_survey_page_would_have_given(demo):
    responses = db.session.scalars(select(Response).order_by(Response.submitted_at)).all()
    now = utcnow()
    # A phone's second answer at a unit within a day is flagged, and only that (checked here
    # from the stored answers, not by the code that flags them).
    for response in responses:
        earlier = [
            r for r in responses
            if r.device_hash and r.device_hash == response.device_hash and r.id != response.id
            and r.unit_id == response.unit_id
            and response.submitted_at - timedelta(hours=24) <= r.submitted_at
            <= response.submitted_at
        ]  # fmt: skip
        assert ("repeat_device" in response.flags) == bool(earlier), response.id
    assert sum("repeat_device" in r.flags for r in responses) >= 5
    # The counter screens' answers: at a few counters, in the last year, each from its point.
    presence = [r for r in responses if r.channel == "presence"]
    assert len(presence) > 20 and len({r.point_id for r in presence}) >= 3
    assert all(now - timedelta(days=366) < r.submitted_at < now for r in presence)
    assert all(r.point_id is None for r in responses if r.channel == "paper")  # typed in
    # The morning a dozen identical answers came in minutes: flagged, then left out by the
    # administrator with a reason, the day after.
    exclusions = db.session.scalars(select(Exclusion)).all()
    assert len(exclusions) == STUFFED
    admin = db.session.scalar(select(User).where(User.email == DEMO_EMAIL))
    stuffed = [db.session.get(Response, e.response_id) for e in exclusions]
    assert {e.excluded_by_id for e in exclusions} == {admin.id}
    assert {e.reason for e in exclusions} == {STUFFED_REASON}
    assert len({r.point_id for r in stuffed}) == 1
    times = sorted(r.submitted_at for r in stuffed)
    assert times[-1] - times[0] < timedelta(minutes=10)
    assert all(times[-1] < e.excluded_at < now for e in exclusions)
    assert all({getattr(r, c.lower()) for c in CRITERIA} == {5} for r in stuffed)
    assert sum("burst" in r.flags for r in stuffed) >= 1
    assert sum("same_pattern" in r.flags for r in stuffed) >= STUFFED - 3
    # The only burst of the demo is that morning's.
    assert {r.id for r in responses if "burst" in r.flags} <= {r.id for r in stuffed}
