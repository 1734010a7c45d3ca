"""Survey point tokens: typed by hand from the address a poster prints under its QR code."""

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import Role
from survey import services
from survey.models import CRITERIA, Response, SurveyPoint
from survey.tokens import ALPHABET, new_token, typed_token
from tests.conftest import add_staff, page_forms, signed_in, thanked

SHAPE = re.compile(rf"^[{ALPHABET}]{{4}}(-[{ALPHABET}]{{4}}){{3}}$")


def send_answers(client, url: str):
    """Open the survey at the address and answer every question, as a browser would."""
    page = client.get(url)
    assert page.status_code == 200, url
    form = page_forms(page.get_data(as_text=True))[-1]
    data = dict(form["fields"]) | {code: "4" for code in CRITERIA} | {"HK": "no"}
    return client.post(form["action"], data=data)


def test_new_tokens_use_one_case_and_no_look_alike_characters():
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(SHAPE.match(t) for t in tokens)
    # No 0/O, 1/I/L, and no lower case: nothing a person can misread from a poster.
    assert not set("".join(tokens)) & set("0O1IL" + "abcdefghijklmnopqrstuvwxyz")


def test_the_back_offices_tokens_have_the_same_shape(tree):
    point = services.add_point_once(tree["26734"], "Quầy 1", "k" * 32, "secret", actor=None)
    assert SHAPE.match(point.token)
    again = services.add_point_once(tree["26734"], "Quầy 1", "k" * 32, "secret", actor=None)
    assert again.id == point.id


@pytest.mark.parametrize(
    "typed",
    [
        lambda t: t.lower(),
        lambda t: t.replace("-", ""),
        lambda t: t.replace("-", " ").lower(),
        lambda t: t.replace("-", "–"),  # a phone's dash
        lambda t: "".join(chr(ord(c) + 0xFEE0) if c != "-" else c for c in t),  # full-width
    ],
)
def test_a_token_typed_in_another_case_or_spacing_opens_its_survey(client, point, typed):
    assert SHAPE.match(point.token)
    response = send_answers(client, f"/s/{typed(point.token)}")
    assert thanked(response)
    # Its links lead to the point as stored, not as typed.
    assert f"next=/s/{point.token}/thanks" in response.get_data(as_text=True)
    recorded = db.session.scalars(select(Response)).all()
    assert [r.point_id for r in recorded] == [point.id]


def test_a_mistyped_token_is_still_unknown(client, point):
    wrong = point.token[:-1] + ("2" if point.token[-1] != "2" else "3")
    assert client.get(f"/s/{wrong}").status_code == 404
    assert typed_token(point.token.replace("-", "")[:-1]) is None  # one character short
    assert typed_token(point.token[:-1] + "O") is None  # not in the alphabet


def test_a_point_made_before_keeps_its_token_as_printed(client, tree, questionnaire, runner):
    # 22 characters of both cases, as new_token made them before: posters carry them.
    old = services.add_point(tree["26734"], "Quầy cũ", actor=None, token="aB3-x_Z9kQ2wE7rT5yU1iO")
    db.session.commit()
    assert thanked(send_answers(client, f"/s/{old.token}"))
    assert client.get(f"/s/{old.token.lower()}").status_code == 404  # its case matters
    assert runner.invoke(args=["points", "history", old.token]).exit_code == 0


def test_the_command_line_and_the_back_office_take_a_typed_token(app, runner, tree, point):
    add_staff(tree, {"admin": ("admin@x.vn", Role.ADMIN, None)})
    typed = point.token.lower().replace("-", "")
    result = runner.invoke(args=["points", "history", typed])
    assert result.exit_code == 0 and "added" in result.output, result.output
    page = signed_in(app, "admin@x.vn").get(f"/staff/points/{typed}")
    assert page.status_code == 200 and point.label in page.get_data(as_text=True)
    result = runner.invoke(args=["points", "retire", typed])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(select(SurveyPoint.active).where(SurveyPoint.id == point.id)) is False
