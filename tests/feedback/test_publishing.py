"""The publishing deadline: working days from the answer, shown and filtered for staff."""

import re
from datetime import date, datetime

import pytest

from core.extensions import db
from feedback.models import Case
from feedback.services import apply_action
from feedback.settings import DEFAULTS
from feedback.workdays import publish_due
from feedback.workflow import Action, State
from tests.conftest import login
from tests.feedback.conftest import handle
from tests.feedback.test_staff_flow import act

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
                     summary="Tóm tắt.", published_answer="Đã trả lời.")  # fmt: skip
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
        # The history still says which date the answer set; the facts give none.
        assert "<dt>Publish by</dt>" not in page and "overdue" not in page
    page = client.get(f"/staff/cases/{recent.id}").get_data(as_text=True)
    assert "<dt>Publish by</dt>" in page and "overdue" not in page


PERSON = {"name": "Nguyễn Thị Hoa", "phone": "0912 345 678", "email": "hoa@example.vn"}


@pytest.mark.parametrize(
    ("summary", "answer"),
    [
        ("Bà NGUYỄN THỊ  HOA phản ánh phí sai.", "Đã hoàn trả phí."),
        ("Công dân (SĐT +84 912.345.678) phản ánh phí sai.", "Đã hoàn trả phí."),
        ("Công dân Hoa@Example.vn phản ánh phí sai.", "Đã hoàn trả phí."),
        ("Thu phí sai quy định.", "Kính gửi bà Nguyễn Thị Hoa: đã hoàn trả phí."),
        ("Thu phí sai quy định.", "Đã gọi số 0912345678 để hoàn trả phí."),
        ("Ba Nguyen Thi Hoa phan anh phi sai.", "Đã hoàn trả phí."),
        ("Bà Hoa phản ánh phí sai.", "Đã hoàn trả phí."),
        ("Thu phí sai quy định.", "Đã gọi điện cho chị Hoa để hoàn trả phí."),
    ],
    ids=["name-in-summary", "phone-in-summary", "email-in-summary", "name-in-answer",
         "phone-in-answer", "name-without-accents", "given-name-in-summary",
         "given-name-in-answer"],
)  # fmt: skip
def test_nothing_is_published_with_the_senders_name_or_contact(
    client, staff, make_case, summary, answer
):
    case = make_case(person=PERSON)
    handle(case, staff["manager"], answer)
    login(client, "manager@x.vn")
    response = act(client, case.id, "publish", summary=summary)
    assert response.status_code == 422
    assert "sender&#39;s name, phone number, e-mail or address" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == State.ANSWERED
    assert "phí" not in client.get("/pakn/published").get_data(as_text=True)


def test_a_summary_without_the_senders_data_is_published(client, staff, make_case):
    # A single word of the name (a street, a place) and other numbers are no reason to refuse.
    case = make_case(person={"name": "Hoa", "phone": "0912 345 678", "address": "12 Lê Lợi"})
    handle(case, staff["manager"], "Hồ sơ số 000.12.34.H09 đã trả tại phường Hoa Lư.")
    login(client, "manager@x.vn")
    response = act(client, case.id, "publish", summary="Chậm trả hồ sơ ở phường Hoa Lư.")
    assert response.status_code == 303
    public = client.get("/pakn/published").get_data(as_text=True)
    assert "Chậm trả hồ sơ ở phường Hoa Lư." in public and "000.12.34.H09" in public


def test_the_published_page_counts_its_answers_in_the_readers_language(client, staff, make_case):
    case = make_case()
    handle(case, staff["manager"], "Đã trả hồ sơ.")
    login(client, "manager@x.vn")
    assert act(client, case.id, "publish", summary="Chậm trả hồ sơ.").status_code == 303
    english = client.get("/pakn/published", headers={"Accept-Language": "en"})
    assert "1 answer</p>" in english.get_data(as_text=True)
    vietnamese = client.get("/pakn/published", headers={"Accept-Language": "vi"})
    assert "1 câu trả lời</p>" in vietnamese.get_data(as_text=True)
