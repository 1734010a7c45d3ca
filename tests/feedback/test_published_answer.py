"""What is published is written for the public, apart from the answer addressed to the citizen."""

import re

import pytest
from sqlalchemy import select

from core.apikeys import Scope, create_key
from core.extensions import db
from feedback.models import Case
from feedback.workflow import State
from tests.conftest import csrf_for, login, page_forms
from tests.feedback.conftest import handle
from tests.feedback.test_staff_flow import act

PERSON = {"name": "Nguyễn Thị Hoa", "phone": "0912 345 678", "email": "hoa@example.vn",
          "address": "12 Lê Lợi"}  # fmt: skip
TO_HER = "Kính gửi bà Nguyễn Thị Hoa (0912 345 678): phường đã hoàn trả 50.000 đồng thu thừa."
PUBLIC = "Phường đã hoàn trả 50.000 đồng thu thừa và nhắc nhở cán bộ."


def fresh(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


def publish_form(client, case_id: int) -> dict:
    page = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    return next(f for f in page_forms(page) if f["fields"].get("action") == "publish")


@pytest.fixture
def answered(client, staff, make_case):
    """A case answered to its sender by name, and the manager signed in."""
    case = make_case(content="Phường thu phí chứng thực cao hơn quy định.", person=PERSON)
    handle(case, staff["manager"], TO_HER)
    login(client, "manager@x.vn")
    return case


def test_the_form_offers_the_answer_to_edit_and_the_public_reads_the_edit(client, answered):
    form = publish_form(client, answered.id)
    assert form["fields"]["published_answer"] == TO_HER  # prefilled from the answer
    assert form["fields"]["summary"] == "Phường thu phí chứng thực cao hơn quy định."
    data = {**form["fields"], "summary": "Thu phí chứng thực sai quy định.",
            "published_answer": PUBLIC}  # fmt: skip
    assert client.post(f"/staff/cases/{answered.id}", data=data).status_code == 303
    case = fresh(answered.id)
    assert case.state == State.PUBLISHED
    assert (case.answer, case.published_answer) == (TO_HER, PUBLIC)

    public = client.get("/pakn/published").get_data(as_text=True)
    assert PUBLIC in public and "Thu phí chứng thực sai quy định." in public
    assert "Nguyễn Thị Hoa" not in public and "0912" not in public

    # The citizen, with the code, reads the answer addressed to them and what was published.
    tracking = client.get(f"/track/{case.code}").get_data(as_text=True)
    assert TO_HER in tracking
    published = tracking[tracking.index('<section id="published">') :]
    assert PUBLIC in published and "Nguyễn Thị Hoa" not in published

    staff_page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "<h2>Published answer</h2>" in staff_page and PUBLIC in staff_page


def test_the_answer_to_the_citizen_may_name_them_the_published_one_may_not(client, answered):
    form = publish_form(client, answered.id)
    response = client.post(f"/staff/cases/{answered.id}", data=form["fields"])  # as prefilled
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # Beside the field at fault, which a screen reader announces with it.
    assert re.search(r'<p class="msg" id="e-published_answer-publish-1">The answer to publish '
                     r"holds the sender&#39;s name", html)  # fmt: skip
    assert 'aria-invalid="true" aria-describedby="e-published_answer-publish-1"' in html
    assert fresh(answered.id).state == State.ANSWERED
    assert "đồng thu thừa" not in client.get("/pakn/published").get_data(as_text=True)


@pytest.mark.parametrize(
    "published",
    [
        "Đã hoàn trả cho bà NGUYỄN THỊ   HOA.",
        "Đã gọi lại số +84 912.345.678 để hoàn trả.",
        "Đã gửi thư tới Hoa@Example.VN.",
        "Đã gửi văn bản về địa chỉ 12 lê lợi.",
        "Đã hoàn trả cho bà Nguyễn Thị\nHoa.",  # a line break between the words
    ],
    ids=["name", "phone", "email", "address", "name-over-lines"],
)
def test_nothing_is_published_with_the_senders_data_in_the_published_answer(
    client, answered, published
):
    response = act(client, answered.id, "publish", summary="Thu phí sai.",
                   published_answer=published)  # fmt: skip
    assert response.status_code == 422
    assert "sender&#39;s name, phone number, e-mail or address" in response.get_data(as_text=True)
    case = fresh(answered.id)
    assert case.state == State.ANSWERED and case.published_answer is None


def test_an_answer_over_the_limit_is_refused_with_a_message(client, answered):
    response = act(client, answered.id, "publish", summary="Thu phí sai.",
                   published_answer="x" * 4001)  # fmt: skip
    assert response.status_code == 422
    assert "Write at most 4000 characters." in response.get_data(as_text=True)
    assert fresh(answered.id).state == State.ANSWERED
    at_limit = act(client, answered.id, "publish", summary="Thu phí sai.",
                   published_answer="x" * 4000)  # fmt: skip
    assert at_limit.status_code == 303 and len(fresh(answered.id).published_answer) == 4000


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("published_answer", "Đã hoàn trả cho bà Nguyễn\u200bThị Hoa."),  # zero-width space
        ("published_answer", "Đã hoàn trả cho bà Nguyễn\u00adThị Hoa."),  # soft hyphen
        ("published_answer", "Đã hoàn trả \u202ea\u0111 \u1ea3i."),  # right-to-left override
        ("published_answer", "Đã hoàn trả\x07."),
        ("summary", "Thu phí\x1b[31m sai."),
    ],
    ids=["zero-width-space", "soft-hyphen", "rtl-override", "bell", "escape-in-summary"],
)
def test_invisible_and_control_characters_are_refused_in_published_texts(
    client, answered, field, text
):
    fields = {"summary": "Thu phí sai.", "published_answer": PUBLIC, field: text}
    response = act(client, answered.id, "publish", **fields)
    assert response.status_code == 422
    assert "invisible or control characters" in response.get_data(as_text=True)
    assert fresh(answered.id).state == State.ANSWERED


def test_line_breaks_and_tabs_are_kept_in_published_texts(client, answered):
    text = "Phường đã:\r\n\t- hoàn trả phí thu thừa;\r\n\t- nhắc nhở cán bộ."
    assert act(client, answered.id, "publish", summary="Thu phí sai.",
               published_answer=text).status_code == 303  # fmt: skip
    assert fresh(answered.id).published_answer == text
    assert "\t- hoàn trả phí thu thừa;" in client.get("/pakn/published").get_data(as_text=True)


def test_a_forged_post_without_the_published_answer_publishes_nothing(client, answered):
    data = {"action": "publish", "version": answered.version, "summary": "Thu phí sai.",
            "csrf_token": csrf_for(client)}  # fmt: skip
    response = client.post(f"/staff/cases/{answered.id}", data=data)
    assert response.status_code == 422
    assert "Write the answer to publish" in response.get_data(as_text=True)
    case = fresh(answered.id)
    assert case.state == State.ANSWERED and case.public_summary is None
    blank = client.post(f"/staff/cases/{answered.id}", data={**data, "published_answer": " \n "})
    assert blank.status_code == 422 and fresh(answered.id).state == State.ANSWERED


def test_reopening_a_published_case_hides_it_until_published_again(client, answered, staff):
    assert act(client, answered.id, "publish", summary="Thu phí sai quy định.",
               published_answer=PUBLIC).status_code == 303  # fmt: skip
    code = answered.code
    assert PUBLIC in client.get("/pakn/published").get_data(as_text=True)

    assert act(client, answered.id, "reopen", note="Số tiền hoàn trả chưa đúng.").status_code == 303
    case = fresh(answered.id)
    assert case.state == State.IN_PROGRESS and case.published_at is None
    assert (case.public_summary, case.published_answer) == ("Thu phí sai quy định.", PUBLIC)
    assert "No answer has been published here yet." in client.get("/pakn/published").get_data(
        as_text=True
    )
    assert client.get(f"/open311/v2/requests/{case.id}.json").status_code == 404
    tracking = client.get(f"/track/{code}").get_data(as_text=True)
    assert 'id="published"' not in tracking and PUBLIC not in tracking
    staff_page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "hidden from the public until it is published again" in staff_page

    new_answer = "Kính gửi bà Nguyễn Thị Hoa: phường hoàn trả thêm 20.000 đồng."
    assert act(client, case.id, "answer", answer=new_answer).status_code == 303
    form = publish_form(client, case.id)
    # The summary as published before; the answer to publish starts from the new answer.
    assert form["fields"]["summary"] == "Thu phí sai quy định."
    assert form["fields"]["published_answer"] == new_answer
    republished = "Phường hoàn trả thêm 20.000 đồng."
    data = {**form["fields"], "published_answer": republished}
    assert client.post(f"/staff/cases/{case.id}", data=data).status_code == 303
    public = client.get("/pakn/published").get_data(as_text=True)
    assert republished in public and PUBLIC not in public
    assert "hidden from the public" not in client.get(f"/staff/cases/{case.id}").get_data(
        as_text=True
    )


def test_handlers_see_no_publishing_or_reopening_form(client, staff, make_case):
    case = make_case(person=PERSON)
    handle(case, staff["handler"], TO_HER)
    login(client, "handler@x.vn")
    actions = {f["fields"].get("action") for f in page_forms(
        client.get(f"/staff/cases/{case.id}").get_data(as_text=True))}  # fmt: skip
    assert "comment" in actions and not actions & {"publish", "reopen"}


def test_open311_gives_the_published_texts_except_to_the_partner_that_handed_it_over(client, staff):
    _record, key = create_key("hotline-1022", Scope.OPEN311)
    _other, other_key = create_key("portal", Scope.OPEN311)
    db.session.commit()
    sent = client.post("/open311/v2/requests.json", data={
        "api_key": key, "jurisdiction_id": "26734", "service_code": "delay",
        "attribute[kind]": "report", "description": "Phường thu phí chứng thực sai.",
        "last_name": "Nguyễn Thị", "first_name": "Hoa", "phone": "0912345678"})  # fmt: skip
    case = db.session.scalar(
        select(Case).where(Case.id == int(sent.get_json()[0]["service_request_id"]))
    )
    handle(case, staff["manager"], TO_HER)
    login(client, "manager@x.vn")
    assert act(client, case.id, "publish", summary="Thu phí sai.",
               published_answer=PUBLIC).status_code == 303  # fmt: skip

    url = f"/open311/v2/requests/{case.id}"
    for reader in ("", f"?api_key={other_key}"):
        [public] = client.get(f"{url}.json{reader}").get_json()
        assert public["status_notes"] == f"published: {PUBLIC}"
        assert public["description"] == "Thu phí sai."
        xml = client.get(f"{url}.xml{reader}").get_data(as_text=True)
        assert PUBLIC in xml and "Nguyễn Thị Hoa" not in xml
        listed = client.get(f"/open311/v2/requests.json{reader}").get_json()
        assert [r["status_notes"] for r in listed] == [f"published: {PUBLIC}"]
    [own] = client.get(f"{url}.json?api_key={key}").get_json()
    assert own["status_notes"] == f"published: {TO_HER}"
    assert own["description"] == "Phường thu phí chứng thực sai."
