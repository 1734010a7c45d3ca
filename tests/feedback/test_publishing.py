"""The publishing deadline: working days from the answer, shown and filtered for staff."""

import re
from datetime import date, datetime

import pytest

from core.extensions import db
from feedback.services import apply_action
from feedback.settings import DEFAULTS
from feedback.workdays import publish_due
from feedback.workflow import Action, State
from tests.conftest import login

# Monday 20/1/2025, 09:00 in Hà Nội.
RECEIVED = datetime(2025, 1, 20, 2, 0)
# Thursday 23/1/2025 18:00 UTC is Friday 24/1, 01:00 in Hà Nội: the last working day before Tết
# (Monday 27 to Friday 31/1/2025). Five working days after it: 3, 4, 5, 6, 7 February.
ANSWERED_FRIDAY = datetime(2025, 1, 23, 18, 0)


def answered(make_case, staff, now=ANSWERED_FRIDAY, **kw):
    """A case received on RECEIVED, classified, assigned and answered at now."""
    case = make_case(received_at=RECEIVED, **kw)
    handler = staff["handler"]
    for action, fields in (
        (Action.CLASSIFY, {"outcome": "competent", "now": RECEIVED}),
        (Action.ASSIGN, {"handler": handler, "now": RECEIVED}),
        (Action.ANSWER, {"answer": "Đã trả lời.", "now": now}),
    ):
        apply_action(case, action, handler, case.version, **fields)
        db.session.commit()
    return case


def test_the_default_is_five_working_days():
    assert DEFAULTS["FEEDBACK_PUBLISH_DEADLINES"] == {"default": 5}


def test_per_topic_publishing_deadlines_from_configuration(app):
    assert publish_due("delay", date(2025, 1, 24)) == date(2025, 2, 7)
    app.config["FEEDBACK_PUBLISH_DEADLINES"] = {"default": 3, "attitude": 1}
    assert publish_due("attitude", date(2025, 1, 24)) == date(2025, 2, 3)  # Monday after Tết
    assert publish_due("delay", date(2025, 1, 24)) == date(2025, 2, 5)


@pytest.mark.usefixtures("req")
def test_answering_sets_the_due_date_from_the_day_in_vietnam(make_case, staff):
    case = answered(make_case, staff)
    assert case.answered_on == date(2025, 1, 24)
    # Counted from Thursday 23/1 (the UTC date) it would be Thursday 6/2.
    assert case.publish_due_on == date(2025, 2, 7)
    assert "publish_due=2025-02-07" in case.events[-1].detail


@pytest.mark.usefixtures("req")
def test_reopening_clears_the_due_date_and_a_new_answer_counts_again(make_case, staff):
    case = answered(make_case, staff)
    manager = staff["manager"]
    apply_action(case, Action.REOPEN, manager, case.version, "Thiếu căn cứ.", now=RECEIVED)
    db.session.commit()
    assert case.state == State.IN_PROGRESS and case.publish_due_on is None
    # Answered again on Monday 3/2/2025, 09:00: due Monday 10/2.
    apply_action(case, Action.ANSWER, manager, case.version, answer="Bổ sung.",
                 now=datetime(2025, 2, 3, 2, 0))  # fmt: skip
    db.session.commit()
    assert case.publish_due_on == date(2025, 2, 10)


def test_staff_see_the_publishing_due_date_and_what_is_overdue(client, staff, make_case):
    with client.application.test_request_context():
        late = answered(make_case, staff)
        closed = answered(make_case, staff)
        apply_action(closed, Action.CLOSE, staff["manager"], closed.version)
        published = answered(make_case, staff)
        apply_action(published, Action.PUBLISH, staff["manager"], published.version,
                     summary="Tóm tắt.")  # fmt: skip
        rejected = make_case(received_at=RECEIVED)
        apply_action(rejected, Action.REJECT, staff["handler"], rejected.version, "Không rõ.")
        recent = answered(make_case, staff, now=None)
        db.session.commit()
    login(client, "manager@x.vn")

    html = client.get("/staff/cases?tab=publish_overdue").get_data(as_text=True)
    assert "Publishing overdue (1)" in html
    assert set(re.findall(r'href="/staff/cases/(\d+)"', html)) == {str(late.id)}
    assert "7 Feb 2025 <strong>overdue</strong>" in html

    html = client.get("/staff/cases?tab=answered").get_data(as_text=True)
    shown = set(re.findall(r'href="/staff/cases/(\d+)"', html))
    assert shown == {str(late.id), str(recent.id)}
    assert html.count("<strong>overdue</strong>") == 1  # the recent answer is not late yet

    page = client.get(f"/staff/cases/{late.id}").get_data(as_text=True)
    assert re.search(r"<dt>Publish by</dt><dd>7 Feb 2025 <strong class=\"late\">overdue", page)
    for case in (closed, published, rejected):
        page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
        assert "Publish by" not in page and "overdue" not in page
    page = client.get(f"/staff/cases/{recent.id}").get_data(as_text=True)
    assert "<dt>Publish by</dt>" in page and "overdue" not in page
