"""Characters that turn text around, sent in a PAKN: removed on every channel, nothing else is."""

import unicodedata

import pytest
from sqlalchemy import func, select

from core.apikeys import Scope, create_key
from core.extensions import db
from core.forms import DIRECTION_CONTROLS, without_direction_controls
from feedback.models import Case, CasePerson
from tests.conftest import login, page_forms
from tests.feedback.test_citizen import send
from tests.feedback.test_staff_flow import act, intake_form

RLO, PDF, LRE, LRI, PDI = "\u202e", "\u202c", "\u202a", "\u2066", "\u2069"
# "0912 345 678" as a right-to-left override shows it: 876 543 2190.
PHONE = f"{LRE}0912 345 678{PDF}"  # as some phones copy a number from their contacts
NAME = f"Lê Văn {RLO}C{PDF}"
CONTENT = f"Cán bộ hẹn lại {RLO}ba lần{PDF}, gọi {LRI}0912 345 678{PDI} để biết thêm."
CONTENT_KEPT = "Cán bộ hẹn lại ba lần, gọi 0912 345 678 để biết thêm."
# Combining diacritics (NFD, as some keyboards and macOS write), a zero-width non-joiner and a
# zero-width joiner in an emoji: legitimate text, stored exactly as sent.
VIETNAMESE = unicodedata.normalize("NFD", "Tôi phải chờ ba tuần để nhận kết quả, thưa cán bộ.")
LEGITIMATE = f"{VIETNAMESE} Cảm\u200cơn 👩\u200d👧"


def stored() -> tuple[Case, CasePerson | None]:
    case = db.session.scalar(select(Case))
    return case, case.person


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def test_every_direction_control_is_removed_and_nothing_else():
    explicit = {"LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI"}
    formats = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) == "Cf"]
    embeddings = {ch for ch in formats if unicodedata.bidirectional(ch) in explicit}
    marks = {"\u200e", "\u200f", "\u061c"}  # left-to-right, right-to-left, Arabic letter mark
    assert embeddings | marks == DIRECTION_CONTROLS and len(embeddings) == 9
    assert without_direction_controls(f"a{''.join(DIRECTION_CONTROLS)}b") == "ab"
    assert without_direction_controls(LEGITIMATE) == LEGITIMATE
    assert without_direction_controls(None) is None and without_direction_controls("") == ""


def test_the_citizens_form_stores_the_text_as_written_without_them(client, point, staff):
    url = f"/pakn/new?point={point.token}"
    response = send(client, url, content=CONTENT, name=NAME, phone=PHONE,
                    email=f"{RLO}an@x.vn", consent="y")  # fmt: skip
    assert response.status_code == 303
    case, person = stored()
    assert case.content == CONTENT_KEPT
    assert (person.name, person.phone, person.email) == ("Lê Văn C", "0912 345 678", "an@x.vn")
    track = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ba lần, gọi 0912 345 678" in track and RLO not in track
    login(client, "handler@x.vn")
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Lê Văn C" in page and "0912 345 678" in page
    assert not DIRECTION_CONTROLS & set(page)


def test_legitimate_vietnamese_goes_through_unchanged(client, point):
    response = send(client, f"/pakn/new?point={point.token}", content=LEGITIMATE,
                    name=unicodedata.normalize("NFD", "Nguyễn Thị Hoa"), consent="y")  # fmt: skip
    assert response.status_code == 303
    case, person = stored()
    assert case.content == LEGITIMATE and person.name == unicodedata.normalize(
        "NFD", "Nguyễn Thị Hoa"
    )


def test_a_text_long_enough_only_with_them_is_refused_and_kept(client, point):
    response = send(client, f"/pakn/new?point={point.token}", content=f"Chờ lâu{RLO * 5}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and count() == 0
    assert "Write between 10 and 4,000 characters." in html
    assert page_forms(html)[-1]["fields"]["content"] == "Chờ lâu"


def test_staff_intake_stores_them_removed(client, staff, tree):
    data = intake_form(client, tree, channel="phone", content=CONTENT, name=NAME, phone=PHONE,
                       address=f"12 {RLO}Lê Lợi{PDF}, Quận 1", consent="y")  # fmt: skip
    assert client.post("/staff/cases/new", data=data).status_code == 303
    case, person = stored()
    assert case.content == CONTENT_KEPT
    assert (person.name, person.phone) == ("Lê Văn C", "0912 345 678")
    assert person.address == "12 Lê Lợi, Quận 1"


def test_staff_intake_keeps_legitimate_text(client, staff, tree):
    data = intake_form(client, tree, channel="paper", content=LEGITIMATE)
    assert client.post("/staff/cases/new", data=data).status_code == 303
    assert stored()[0].content == LEGITIMATE


def test_staff_intake_refuses_a_text_too_short_without_them(client, staff, tree):
    data = intake_form(client, tree, channel="paper", content=f"Chờ lâu{LRI * 5}")
    response = client.post("/staff/cases/new", data=data)
    assert response.status_code == 422 and count() == 0


@pytest.fixture
def key(app, tree):
    _record, key = create_key("hotline-1022", Scope.OPEN311)
    db.session.commit()
    return key


def open311(client, key, **fields):
    return client.post("/open311/v2/requests.json", data={
        "api_key": key, "jurisdiction_id": "26734", "service_code": "delay",
        "attribute[kind]": "report", "description": CONTENT, **fields,
    })  # fmt: skip


def test_open311_stores_them_removed(client, key):
    response = open311(client, key, last_name=f"Lê {RLO}Văn", first_name=f"C{PDF}", phone=PHONE,
                       email=f"an@x.vn{PDF}", address_string=f"{RLO}12 Lê Lợi")  # fmt: skip
    assert response.status_code == 201, response.get_data(as_text=True)
    case, person = stored()
    assert case.content == CONTENT_KEPT
    assert (person.name, person.phone, person.email, person.address) == (
        "Lê Văn C", "0912 345 678", "an@x.vn", "12 Lê Lợi"
    )  # fmt: skip
    read = client.get(f"/open311/v2/requests/{case.id}.json?api_key={key}").get_json()
    assert read[0]["description"] == CONTENT_KEPT


def test_open311_keeps_legitimate_text(client, key):
    name = unicodedata.normalize("NFD", "Nguyễn")
    response = open311(client, key, description=LEGITIMATE, last_name=name, first_name="Hoa")
    assert response.status_code == 201
    case, person = stored()
    assert case.content == LEGITIMATE and person.name == f"{name} Hoa"


def test_open311_refuses_a_text_too_short_without_them_and_stores_nothing(client, key):
    response = open311(client, key, description=f"Chờ lâu{RLO * 5}", last_name="Lê")
    assert response.status_code == 400
    assert response.get_json() == [
        {"code": 400, "description": "description is required: 10 to 4000 characters"}
    ]
    assert count() == 0 and db.session.scalar(select(func.count()).select_from(CasePerson)) == 0


def test_what_staff_write_for_the_citizen_is_stored_without_them(client, staff, make_case):
    """The answer, the note and the competent agency reach the tracking page: kept without
    the characters, as the citizen's own text is (the texts to publish refuse them)."""
    case = make_case(content="Phí chứng thực cao hơn quy định.")
    login(client, "manager@x.vn")
    assert act(client, case.id, "classify", outcome="competent").status_code == 303
    assert act(client, case.id, "assign").status_code == 303
    answer = f"Gọi {RLO}0912 345 678{PDF} để nhận lại phí. {VIETNAMESE}"
    assert act(client, case.id, "answer", answer=answer).status_code == 303
    db.session.expire_all()
    assert db.session.get(Case, case.id).answer == f"Gọi 0912 345 678 để nhận lại phí. {VIETNAMESE}"
    track = client.get(f"/track/{case.code}").get_data(as_text=True)
    assert not DIRECTION_CONTROLS & set(track)


def test_a_forwarding_note_and_agency_are_stored_without_them(client, staff, make_case):
    case = make_case(content="Việc này thuộc thẩm quyền của Sở Xây dựng.")
    login(client, "manager@x.vn")
    assert act(client, case.id, "classify", outcome="outside").status_code == 303
    sent = act(client, case.id, "forward", agency=f"Sở {RLO}Xây dựng{PDF}",
               note=f"Chuyển {LRI}theo thẩm quyền{PDI}.")  # fmt: skip
    assert sent.status_code == 303
    db.session.expire_all()
    stored_case = db.session.get(Case, case.id)
    assert stored_case.forwarded_to == "Sở Xây dựng"
    assert stored_case.citizen_note == "Chuyển theo thẩm quyền."
