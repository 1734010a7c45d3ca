"""A NUL character is refused wherever it comes, before it reaches the database."""

import pytest
from sqlalchemy import func, select

from core.extensions import db
from feedback.models import Case
from survey.models import Response
from tests.conftest import page_forms
from tests.survey.test_survey_page import answer_all, survey_form

MESSAGE_VI = "không phải là chữ (NUL)"


def test_a_survey_comment_with_a_nul_is_refused_and_nothing_stored(client, point):
    _, form = survey_form(client, point)
    response = client.post(form["action"], data=answer_all(form) | {"comment": "chờ\x00lâu"})
    assert response.status_code == 400 and MESSAGE_VI in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0
    _, form = survey_form(client, point)  # the same form without it is recorded
    assert (
        client.post(form["action"], data=answer_all(form) | {"comment": "chờ lâu"}).status_code
        == 303
    )


def test_a_pakn_with_a_nul_is_refused_and_nothing_stored(client, point):
    url = f"/pakn/new?point={point.token}"
    form = page_forms(client.get(url).get_data(as_text=True))[-1]
    data = {**form["fields"], "kind": "report", "topic": "delay", "consent": "",
            "content": "Chờ quá lâu ở quầy\x00 số 1."}  # fmt: skip
    response = client.post(url, data=data)
    assert response.status_code == 400 and MESSAGE_VI in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


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
