"""The citizen's PAKN form and Open311 under hostile input: invisible characters, control
characters, emoji, bodies far over any text's size."""

import html

import pytest
from sqlalchemy import func, select

from core.extensions import db
from feedback.models import Case
from tests.conftest import page_forms
from tests.feedback.test_citizen import form_data, send
from tests.feedback.test_open311 import partner  # noqa: F401 (a fixture)

INVISIBLE = "No line breaks, tabs or invisible characters here, please."
WRITTEN = "Tôi phải chờ ba tuần để nhận kết quả, hẹn lại năm lần."


def cases() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


@pytest.mark.parametrize(
    "name",
    ["Lê\u200bVăn An", "Lê Văn An\r\nBcc: x@lua.vn", "Lê\tVăn", "An\u2060", "\ufeffAn"],
    ids=["zero-width space", "line break", "tab", "word joiner", "byte-order mark"],
)
def test_a_name_with_invisible_or_control_characters_is_refused_and_nothing_lost(
    client, point, name
):
    url = f"/pakn/new?point={point.token}"
    response = send(client, url, name=name, phone="0912 345 678", consent="y", content=WRITTEN)
    assert response.status_code == 422 and cases() == 0
    page = response.get_data(as_text=True)
    assert INVISIBLE in html.unescape(page)
    fields = dict(page_forms(page)[-1]["fields"])
    assert fields["content"] == WRITTEN and fields["phone"] == "0912 345 678"
    # With the name written again, the same form goes through.
    fields.pop("photos", None)
    fields["name"] = "Lê Văn An"
    assert client.post(url, data=fields).status_code == 303 and cases() == 1


def test_control_characters_in_the_text_are_taken_out_and_its_layout_and_emoji_kept(client, point):
    url = f"/pakn/new?point={point.token}"
    written = "Chờ\x07 ba tuần\x1b[31m 😡\r\nGia đình 👨\u200d👩\u200d👧\tđợi\x85 mãi\x0c."
    response = send(client, url, name="Lê Văn An 😀", consent="y", content=written)
    assert response.status_code == 303
    case = db.session.scalar(select(Case))
    # A form feed or a next-line character stood between words: a space now.
    assert case.content == "Chờ ba tuần[31m 😡\r\nGia đình 👨\u200d👩\u200d👧\tđợi  mãi ."
    assert case.person.name == "Lê Văn An 😀"


@pytest.mark.parametrize("multipart", [True, False])
def test_a_text_far_over_any_size_says_so_not_photos(client, point, multipart):
    url = f"/pakn/new?point={point.token}"
    data = form_data(client, url, content="Chờ lâu. " * 1_250_000)  # 10 MB
    if multipart:
        response = client.post(url, data=data, content_type="multipart/form-data")
    else:
        response = client.post(url, data=data)
    assert response.status_code == 413 and cases() == 0
    page = html.unescape(response.get_data(as_text=True))
    assert "The text was far too long, so nothing was sent: write at most 4,000 characters." in page
    assert "photos" not in page
    assert f'<a href="{url}">' in page


@pytest.mark.parametrize("field", ["first_name", "last_name", "phone", "address_string"])
def test_open311_refuses_invisible_characters_in_the_senders_details(client, partner, field):  # noqa: F811
    response = client.post("/open311/v2/requests.json", data={
        "api_key": partner["key"], "jurisdiction_id": "26734", "service_code": "delay",
        "attribute[kind]": "report", "description": "Chờ quá lâu ở quầy một cửa.",
        "first_name": "An", field: "09\u200b12 345 678" if field == "phone" else "Lê\u200bVăn",
    })  # fmt: skip
    assert response.status_code == 400 and cases() == 0
    [error] = response.get_json()
    assert error["description"] == f"{field} holds line breaks, tabs or invisible characters"


def test_an_unknown_code_is_shown_again_as_far_as_the_field_takes_it(client):
    for response in (
        client.get("/track", query_string={"code": "\u202e" + "A" * 100_000}),
        client.get("/track/\u202e" + "A" * 5000),
    ):
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert 'value="' + "A" * 39 + '"' in page
        assert "A" * 41 not in page and "\u202e" not in page


def test_a_text_of_invisible_characters_is_too_short_whatever_their_number(client, point):
    url = f"/pakn/new?point={point.token}"
    response = send(client, url, content="\u200b" * 12 + "Ồ \u2060\u2060\u200d")
    assert response.status_code == 422 and cases() == 0
    page = html.unescape(response.get_data(as_text=True))
    assert page.count("Write between 10 and 4,000 characters.") == 1
    response = send(client, url, content="Chờ\u200b lâu 😡 quá!")  # more than ten that can be seen
    assert response.status_code == 303 and cases() == 1


def test_open311_keeps_a_description_as_the_citizens_form_keeps_its_text(client, point, partner):  # noqa: F811
    written = "\u202eChờ\x07 ba tuần\x1b[31m 😡\r\nGia đình\tđợi\x85 mãi\x0c.\x7f "
    assert send(client, f"/pakn/new?point={point.token}", content=written).status_code == 303
    response = client.post("/open311/v2/requests.json", data={
        "api_key": partner["key"], "jurisdiction_id": "26734", "service_code": "delay",
        "attribute[kind]": "report", "description": written})  # fmt: skip
    assert response.status_code == 201
    from_form, from_open311 = db.session.scalars(select(Case.content).order_by(Case.id))
    assert from_open311 == from_form == "Chờ ba tuần[31m 😡\r\nGia đình\tđợi  mãi ."


def test_open311_refuses_a_description_of_invisible_characters(client, partner):  # noqa: F811
    response = client.post("/open311/v2/requests.json", data={
        "api_key": partner["key"], "jurisdiction_id": "26734", "service_code": "delay",
        "attribute[kind]": "report", "description": "\u200b" * 12 + "Ồ \u2060"})  # fmt: skip
    assert response.status_code == 400 and cases() == 0
