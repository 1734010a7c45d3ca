"""A NUL character never reaches the database: refused wherever it comes, but in the text a
citizen typed in the PAKN form or the survey, which comes back without it, to check and send."""

import html

import pytest
from sqlalchemy import func, select

from core.extensions import db
from feedback.models import Case
from survey.models import Response
from tests.conftest import page_forms, signed_in, thanked
from tests.survey.test_survey_page import answer_all, survey_form

MESSAGE_VI = "không phải là chữ (NUL)"
TAKEN_OUT = (
    "A character that is not text (NUL) was taken out of what was written here. "
    "Please check it and send it again."
)
TAKEN_OUT_VI = "Đã bỏ một ký tự không phải là chữ (NUL) khỏi nội dung viết ở đây"


def responses() -> int:
    return db.session.scalar(select(func.count()).select_from(Response))


def cases() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def test_a_survey_comment_with_a_nul_comes_back_without_it_and_a_word_beside_it(
    client, in_english, point
):
    _, form = survey_form(client, point)
    sent = answer_all(form, value="2") | {"comment": "Chờ\x00 lâu quá."}
    response = client.post(form["action"], data=sent)
    assert response.status_code == 422 and responses() == 0
    page = response.get_data(as_text=True)
    assert TAKEN_OUT in html.unescape(page)
    shown = dict(page_forms(page)[-1]["fields"])
    assert shown["comment"] == "Chờ lâu quá." and shown["A1"] == "2"
    assert thanked(client.post(form["action"], data=shown)) and responses() == 1


def test_a_survey_comment_with_a_nul_is_said_in_vietnamese(client, point):
    _, form = survey_form(client, point)
    response = client.post(form["action"], data=answer_all(form) | {"comment": "chờ\x00lâu"})
    assert response.status_code == 422 and responses() == 0
    assert TAKEN_OUT_VI in html.unescape(response.get_data(as_text=True))


def test_a_nul_in_a_surveys_answer_not_typed_is_still_refused(client, point):
    _, form = survey_form(client, point)
    response = client.post(form["action"], data=answer_all(form) | {"A1": "4\x00"})
    assert response.status_code == 400 and MESSAGE_VI in response.get_data(as_text=True)
    assert responses() == 0


def test_a_pakn_with_a_nul_comes_back_without_it_and_a_word_beside_it(client, in_english, point):
    url = f"/pakn/new?point={point.token}"
    form = page_forms(client.get(url).get_data(as_text=True))[-1]
    data = {**form["fields"], "kind": "report", "topic": "delay", "consent": "y",
            "content": "Chờ quá lâu ở quầy\x00 số 1.", "name": "An\x00"}  # fmt: skip
    response = client.post(url, data=data)
    assert response.status_code == 422 and cases() == 0
    page = html.unescape(response.get_data(as_text=True))
    assert page.count(TAKEN_OUT) == 2
    shown = dict(page_forms(page)[-1]["fields"])
    assert shown["content"] == "Chờ quá lâu ở quầy số 1." and shown["name"] == "An"
    assert shown["kind"] == "report" and shown["topic"] == "delay"
    shown.pop("photos", None)
    assert client.post(url, data=shown).status_code == 303 and cases() == 1


def test_a_nul_in_a_staff_form_is_still_refused(app, tree, make_user):
    make_user("admin@x.vn", "admin", slow=False)
    staff = signed_in(app, "admin@x.vn")
    page = staff.get("/staff/points/new")
    form = page_forms(page.get_data(as_text=True))[-1]
    response = staff.post(form["action"], data={**form["fields"], "label": "Quầy\x00 2"})
    assert response.status_code == 400
    assert "not text (NUL)" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    ["/s/abc%00def", "/track/ABCD%00", "/pakn/published?page=1%00", "/login?next=/%00"],
)
def test_a_nul_in_an_address_is_a_clear_refusal(client, point, url):
    response = client.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "not text (NUL)" in response.get_data(as_text=True)


def test_the_api_says_it_in_json(client, point):
    response = client.get("/api/v1/indexes?from=2024-01-01&to=2024-12-31&unit=79%00")
    assert response.status_code == 400
    assert "NUL" in response.json["error"]["message"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_says_it_in_its_own_error_format(client, point, fmt):
    response = client.post(f"/open311/v2/requests.{fmt}", data={"description": "chờ\x00lâu"})
    assert response.status_code == 400
    if fmt == "json":
        assert response.get_json() == [
            {"code": 400, "description": "a value holds a NUL character"}
        ]
    else:
        assert b"<description>a value holds a NUL character</description>" in response.data
