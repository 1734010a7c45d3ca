"""A PAKN names its dossier by the receipt code: citizen form, staff intake, Open311."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.apikeys import Scope, create_key
from core.extensions import db
from core.models import utcnow
from feedback.models import Case
from feedback.services import apply_action
from feedback.workflow import Action
from survey.integrity import issue_receipts
from tests.conftest import login, page_forms
from tests.feedback.conftest import handle
from tests.feedback.test_citizen import form_data
from tests.feedback.test_staff_flow import intake_form

CONTENT = "Tôi phải chờ ba tuần để nhận kết quả."


@pytest.fixture
def receipts(tree):
    """One receipt code per unit, by unit code."""
    issued = {
        code: issue_receipts(tree[code], 1, timedelta(days=30), issued_by=None)[0] for code in tree
    }
    db.session.commit()
    return issued


def cases() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def sent(client, url, **fields):
    return client.post(url, data=form_data(client, url, **fields))


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c != "-" else c for c in text)


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code,
        lambda code: " " + code.lower().replace("-", " ") + " ",
        full_width,
        lambda code: code[:4] + "\u202e\u0007" + code[4:],  # a direction override and a bell
    ],
)
def test_the_citizen_names_the_dossier_as_r_reads_the_code(client, receipts, typed):
    receipt = receipts["26734"]
    response = sent(client, "/pakn/new?unit=26734", receipt=typed(receipt.code))
    assert response.status_code == 303
    case = db.session.scalar(select(Case))
    assert case.receipt_id == receipt.id and case.content == CONTENT


def test_a_dossier_of_a_unit_under_the_cases_unit_is_accepted(client, receipts):
    assert sent(client, "/pakn/new?unit=760", receipt=receipts["26737"].code).status_code == 303
    assert db.session.scalar(select(Case.receipt_id)) == receipts["26737"].id


def test_a_used_or_expired_code_still_names_its_dossier(client, receipts):
    receipt = receipts["26734"]
    receipt.used_at = utcnow() - timedelta(days=40)
    receipt.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    assert sent(client, "/pakn/new?unit=26734", receipt=receipt.code).status_code == 303
    assert db.session.scalar(select(Case.receipt_id)) == receipt.id


def test_no_code_is_fine_and_links_nothing(client, receipts):
    assert sent(client, "/pakn/new?unit=26734", receipt="  ").status_code == 303
    assert db.session.scalar(select(Case)).receipt_id is None


def refused(response) -> str:
    assert response.status_code == 422
    assert cases() == 0
    html = response.get_data(as_text=True)
    fields = page_forms(html)[-1]["fields"]
    assert fields["content"] == CONTENT and fields["name"] == "Lê Thị B"  # nothing lost
    assert 'href="#receipt"' in html  # listed among the answers to look at
    return html


def test_a_code_of_another_unit_is_refused_with_its_unit(client, receipts):
    code = receipts["26800"].code
    html = refused(sent(client, "/pakn/new?unit=26734", receipt=code, name="Lê Thị B",
                        consent="y"))  # fmt: skip
    assert (
        "This receipt code is for a dossier of Phường Thảo Điền, not of Phường Bến Nghé or a "
        "unit under it. Leave the field empty, or address the PAKN to Phường Thảo Điền."
    ) in html
    assert page_forms(html)[-1]["fields"]["receipt"] == code
    # A dossier of the unit above is not this unit's either.
    html = refused(sent(client, "/pakn/new?unit=26734", receipt=receipts["760"].code,
                        name="Lê Thị B", consent="y"))  # fmt: skip
    assert "is for a dossier of Quận 1" in html


UNKNOWN = "No dossier has this receipt code. Check the code printed on the receipt"


@pytest.mark.parametrize(
    "typed",
    ["ABCD-EFGH-JKMN", "A" * 5000, "<script>alert(1)</script>", "ＡＢＣＤ"],
)
def test_an_unknown_or_hostile_code_is_refused_and_kept(client, receipts, typed):
    response = sent(client, "/pakn/new?unit=26734", receipt=typed, name="Lê Thị B", consent="y")
    html = refused(response)
    assert UNKNOWN in html and "<script>alert" not in html
    assert page_forms(html)[-1]["fields"]["receipt"] == typed


@pytest.mark.parametrize("telex", [("AA", "Â"), ("DD", "Đ"), ("AS", "Á")])
def test_a_code_changed_by_vietnamese_typing_says_so(client, receipts, telex):
    """Telex turns AA into Â, DD into Đ, AS into Á: the code as typed is no code at all."""
    code = receipts["26734"].code
    typed = telex[1] + code[2:]
    response = sent(client, "/pakn/new?unit=26734", receipt=typed, name="Lê Thị B", consent="y")
    html = refused(response)
    assert "A receipt code has no accented letters: Vietnamese typing (Telex or VNI)" in html
    assert UNKNOWN not in html
    assert page_forms(html)[-1]["fields"]["receipt"] == typed


def test_the_receipt_surveys_thank_you_page_prefills_the_code(client, receipts):
    receipt = receipts["26734"]
    receipt.used_at = utcnow()
    db.session.commit()
    html = client.get(f"/r/{receipt.code}/thanks").get_data(as_text=True)
    link = f"/pakn/new?unit=26734&amp;receipt={receipt.code}"
    assert link in html
    page = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert page_forms(page)[-1]["fields"]["receipt"] == receipt.code
    # A counter's thank-you page names no dossier.
    assert "receipt=" not in client.get("/pakn/new?unit=26734").get_data(as_text=True)


def test_staff_see_the_code_the_public_never(client, receipts, staff):
    receipt = receipts["26734"]
    assert sent(client, "/pakn/new?unit=26734", receipt=receipt.code).status_code == 303
    case = db.session.scalar(select(Case))
    login(client, "handler@x.vn")
    html = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "<dt>Dossier's receipt code</dt><dd><code>" + receipt.code in html
    handle(case, staff["manager"])
    apply_action(case, Action.PUBLISH, staff["manager"], case.version, summary="Trễ hẹn.",
                 published_answer="Đã trả hồ sơ và xin lỗi.")  # fmt: skip
    db.session.commit()
    client.get("/logout")
    for url in ("/pakn/published", "/pakn/published?unit=26734", f"/track/{case.code}",
                "/open311/v2/requests.json", f"/open311/v2/requests/{case.id}.xml"):  # fmt: skip
        page = client.get(url)
        assert page.status_code == 200, url
        assert receipt.code not in page.get_data(as_text=True), url
    assert "Đã trả hồ sơ và xin lỗi." in client.get("/pakn/published").get_data(as_text=True)


def test_staff_intake_names_the_dossier(client, staff, tree, receipts):
    data = intake_form(client, tree, channel="phone", receipt=receipts["26734"].code.lower())
    assert client.post("/staff/cases/new", data=data).status_code == 303
    assert db.session.scalar(select(Case.receipt_id)) == receipts["26734"].id


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("26800", "This receipt code is for a dossier of Phường Thảo Điền, not of Phường Bến Nghé"),
        (None, UNKNOWN),
    ],
)
def test_staff_intake_refuses_another_units_or_an_unknown_code(client, staff, tree, receipts,
                                                               code, message):  # fmt: skip
    typed = receipts[code].code if code else "2345-6789-ABCD"
    data = intake_form(client, tree, channel="paper", receipt=typed, name="Phạm D", consent="y")
    response = client.post("/staff/cases/new", data=data)
    assert response.status_code == 422 and cases() == 0
    html = response.get_data(as_text=True)
    assert message in html
    fields = page_forms(html)[-1]["fields"]
    assert (fields["receipt"], fields["name"]) == (typed, "Phạm D")
    assert fields["content"] == "Cán bộ nói năng thiếu lịch sự."


def open311(client, key, **fields):
    return client.post("/open311/v2/requests.json", data={
        "api_key": key, "jurisdiction_id": "760", "service_code": "delay",
        "attribute[kind]": "report", "description": "Hồ sơ trễ hẹn ba ngày.",
        **fields})  # fmt: skip


def test_open311_names_the_dossier(client, receipts):
    _record, key = create_key("hotline", Scope.OPEN311)
    db.session.commit()
    typed = full_width(receipts["26734"].code)
    response = open311(client, key, **{"attribute[receipt]": typed})
    assert response.status_code == 201, response.get_json()
    assert db.session.scalar(select(Case.receipt_id)) == receipts["26734"].id
    definition = client.get("/open311/v2/services/delay.json").get_json()
    [receipt] = [a for a in definition["attributes"] if a["code"] == "receipt"]
    assert receipt["required"] is False and receipt["datatype"] == "string"


@pytest.mark.parametrize(
    ("code", "description"),
    [
        ("26800", "attribute[receipt] is a dossier of unit 26800, outside jurisdiction_id 760"),
        ("79", "attribute[receipt] is a dossier of unit 79, outside jurisdiction_id 760"),
        (None, "attribute[receipt] was not found"),
    ],
)
def test_open311_refuses_another_units_or_an_unknown_code(client, receipts, code, description):
    _record, key = create_key("hotline", Scope.OPEN311)
    db.session.commit()
    typed = receipts[code].code if code else "X" * 300
    response = open311(client, key, **{"attribute[receipt]": typed})
    assert response.status_code == 400
    [error] = response.get_json()
    assert error["description"].startswith(description)
    assert cases() == 0
