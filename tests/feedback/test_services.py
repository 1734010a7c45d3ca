"""Cases through their life: receipt, moves with audit rows, deadlines, locking, rating."""

from datetime import date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.extensions import db
from feedback import services
from feedback.codes import ALPHABET, LENGTH
from feedback.models import Case, CaseEvent
from feedback.services import Conflict, apply_action
from feedback.workflow import Action, IllegalMove, State
from tests.feedback.conftest import handle

pytestmark = pytest.mark.usefixtures("req")
# Thursday 23/1/2025, 09:00 in Hà Nội: the day before the last working day before Tết.
BEFORE_TET = datetime(2025, 1, 23, 2, 0)


def test_a_new_case_has_a_code_a_due_date_and_a_history(make_case, tree):
    case = make_case(received_at=BEFORE_TET, person={"name": "Trần Thị B", "phone": "0912"})
    assert len(case.code) == LENGTH and set(case.code) <= set(ALPHABET)
    assert case.state == State.RECEIVED and case.unit_id == case.received_unit_id
    assert case.received_on == date(2025, 1, 23)
    assert case.due_on == date(2025, 2, 13)  # 10 working days: 24/1, (Tết), 3-7/2, 10-13/2
    assert case.person.name == "Trần Thị B" and case.person.consent_at is not None
    [event] = case.events
    assert (event.action, event.actor_label, event.to_state) == ("receive", "citizen", "received")


def test_codes_are_unique_and_unguessable(make_case):
    codes = {make_case().code for _ in range(30)}
    assert len(codes) == 30
    assert not any(c in "".join(codes) for c in "01OIL")


def test_anonymous_case_has_no_person_row(make_case):
    assert make_case(person={"name": " ", "phone": ""}).person is None


def move(case, action, user, **kw):
    apply_action(case, action, user, case.version, kw.pop("note", ""), **kw)
    db.session.commit()
    return case


def test_the_whole_life_of_a_case(make_case, staff, tree):
    case = make_case(received_at=BEFORE_TET)
    handler, manager = staff["handler"], staff["manager"]
    move(case, Action.CLASSIFY, handler, outcome="competent", now=BEFORE_TET)
    move(case, Action.ASSIGN, handler, handler=handler, now=BEFORE_TET)
    assert case.state == State.IN_PROGRESS and case.handler == handler
    move(case, Action.ANSWER, handler, answer="Đã nhắc nhở cán bộ.", now=datetime(2025, 2, 4))
    assert case.answered_on == date(2025, 2, 4) and case.finished_at is not None
    move(case, Action.PUBLISH, manager, summary="Chậm trả kết quả.",
         published_answer="Đã nhắc nhở cán bộ.", now=datetime(2025, 2, 5))  # fmt: skip
    assert case.state == State.PUBLISHED and case.public_summary == "Chậm trả kết quả."
    events = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()
    assert [e.action for e in events] == ["receive", "classify", "assign", "answer", "publish"]
    assert [e.actor.email if e.actor else e.actor_label for e in events] == [
        "citizen", "handler@x.vn", "handler@x.vn", "handler@x.vn", "manager@x.vn",
    ]  # fmt: skip
    assert events[3].note == "Đã nhắc nhở cán bộ." and "on_time=yes" in events[3].detail
    assert events[1].detail == "outcome=competent; due=2025-02-13"


def test_an_answer_given_with_a_note_stays_in_the_history_after_the_next_one(make_case, staff):
    case = make_case()
    handler, manager = staff["handler"], staff["manager"]
    move(case, Action.CLASSIFY, handler, outcome="competent")
    move(case, Action.ASSIGN, handler, handler=handler)
    move(case, Action.ANSWER, handler, answer="Đã hẹn trả kết quả thứ Hai.",
         note="Đã gọi điện cho người dân.")  # fmt: skip
    move(case, Action.REOPEN, manager, note="Trả lời chưa đủ.")
    move(case, Action.ANSWER, handler, answer="Đã trả kết quả và xin lỗi người dân.")
    lines = [(e.action, e.from_state, e.to_state, e.note) for e in case.events[3:]]
    assert lines == [
        ("comment", "in_progress", "in_progress", "Đã gọi điện cho người dân."),
        ("answer", "in_progress", "answered", "Đã hẹn trả kết quả thứ Hai."),
        ("reopen", "answered", "in_progress", "Trả lời chưa đủ."),
        ("answer", "in_progress", "answered", "Đã trả kết quả và xin lỗi người dân."),
    ]


def test_outside_competence_is_due_in_five_working_days_and_transfers(make_case, staff, tree):
    case = make_case(received_at=BEFORE_TET)
    move(case, Action.CLASSIFY, staff["handler"], outcome="outside")
    assert case.due_on == date(2025, 2, 6)  # 24/1, (Tết), 3, 4, 5, 6 February
    move(case, Action.TRANSFER, staff["handler"], unit=tree["769"], now=datetime(2025, 2, 3, 2))
    assert case.unit == tree["769"] and case.received_unit == tree["26734"]
    assert case.state == State.RECEIVED and case.outcome is None
    assert case.counted_from == date(2025, 2, 3) and case.due_on == date(2025, 2, 17)
    assert not services.can_handle(staff["handler"], case)
    with pytest.raises(IllegalMove, match="not in your units"):
        move(case, Action.COMMENT, staff["handler"], note="still mine?")


def test_a_case_in_progress_found_outside_competence_is_classified_again(make_case, staff):
    case = make_case(received_at=BEFORE_TET)
    handler = staff["handler"]
    move(case, Action.CLASSIFY, handler, outcome="competent", now=BEFORE_TET)
    move(case, Action.ASSIGN, handler, handler=handler, now=BEFORE_TET)
    assert case.due_on == date(2025, 2, 13)
    with pytest.raises(IllegalMove):  # not while in progress: first classified again
        move(case, Action.FORWARD, handler, agency="Công an tỉnh")
    move(case, Action.CLASSIFY, handler, outcome="outside", now=datetime(2025, 2, 4, 2))
    assert case.state == State.CLASSIFIED and case.outcome == "outside"
    assert case.due_on == date(2025, 2, 6)  # still 5 working days from receipt, not from today
    move(case, Action.FORWARD, handler, agency="Công an tỉnh", note="Thẩm quyền CA.")
    assert case.state == State.FORWARDED
    actions = [e.action for e in case.events]
    assert actions == ["receive", "classify", "assign", "classify", "forward"]


def test_forward_outside_the_system(make_case, staff):
    case = make_case()
    move(case, Action.CLASSIFY, staff["handler"], outcome="outside")
    with pytest.raises(IllegalMove):
        move(case, Action.FORWARD, staff["handler"], agency="")
    move(case, Action.FORWARD, staff["handler"], agency="Công an tỉnh", note="Thẩm quyền CA.")
    assert case.state == State.FORWARDED and case.forwarded_to == "Công an tỉnh"


def test_reject_needs_a_reason_that_the_citizen_reads(make_case, staff):
    case = make_case()
    with pytest.raises(IllegalMove, match="note"):
        move(case, Action.REJECT, staff["handler"], note="")
    move(case, Action.REJECT, staff["handler"], note="Nội dung không rõ.")
    assert case.state == State.REJECTED and case.citizen_note == "Nội dung không rõ."
    assert case.outcome == "not_accepted"


def test_assign_only_within_scope_and_to_staff_of_that_unit(make_case, staff, tree):
    case = make_case()
    move(case, Action.CLASSIFY, staff["manager"], outcome="difficulty")
    with pytest.raises(IllegalMove, match="scope"):
        move(case, Action.ASSIGN, staff["manager"], unit=tree["26800"])
    with pytest.raises(IllegalMove, match="staff member"):
        move(case, Action.ASSIGN, staff["admin"], unit=tree["26734"], handler=staff["analyst"])
    move(case, Action.ASSIGN, staff["manager"], unit=tree["26737"])
    assert case.unit == tree["26737"] and case.state == State.IN_PROGRESS


def test_handlers_cannot_publish(make_case, staff):
    case = make_case()
    handle(case, staff["handler"], "Xong.")
    with pytest.raises(IllegalMove, match="role"):
        move(case, Action.PUBLISH, staff["handler"], summary="x", published_answer="y")


def test_a_stale_version_is_a_conflict_and_changes_nothing(make_case, staff):
    case = make_case()
    old = case.version
    move(case, Action.CLASSIFY, staff["handler"], outcome="competent")
    with pytest.raises(Conflict):
        apply_action(case, Action.REJECT, staff["manager"], old, "late")
    db.session.rollback()
    assert db.session.get(Case, case.id).state == State.CLASSIFIED


def test_two_sessions_writing_at_once_cannot_both_win(app, make_case, staff):
    case_id = make_case().id
    db.session.expunge_all()
    mine = db.session.get(Case, case_id)  # the first editor's page
    with Session(db.engine) as other:  # a second editor saves first
        theirs = other.get(Case, case_id)
        theirs.citizen_note = "second editor"
        other.commit()
    mine.citizen_note = "first editor"
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Case, case_id).citizen_note == "second editor"


def test_rating_once_after_the_answer(make_case, staff):
    case = make_case()
    with pytest.raises(IllegalMove):
        services.rate(case, True)
    handle(case, staff["handler"], "Xong.")
    services.rate(case, False)
    db.session.commit()
    assert case.satisfied is False and case.events[-1].action == "rate"
    with pytest.raises(IllegalMove, match="already"):
        services.rate(case, True)


def test_a_reopened_case_is_rated_again_and_a_no_is_never_taken_back(make_case, staff):
    case = make_case()
    handle(case, staff["handler"], "Xong.")
    services.rate(case, False)
    move(case, Action.REOPEN, staff["manager"], note="Trả lời chưa đầy đủ.")
    assert (case.satisfied, case.rated_at, case.ever_dissatisfied) == (None, None, True)
    with pytest.raises(IllegalMove):  # nothing to rate until the next answer
        services.rate(case, True)
    move(case, Action.ANSWER, staff["handler"], answer="Đã bổ sung hồ sơ.")
    services.rate(case, True)
    db.session.commit()
    assert (case.satisfied, case.ever_dissatisfied) == (True, True)
    ratings = [e.detail for e in case.events if e.action == "rate"]
    assert ratings == ["satisfied=False", "satisfied=True"]
