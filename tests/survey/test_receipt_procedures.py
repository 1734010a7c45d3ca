"""The procedure a receipt code is issued for: a code of the questionnaire's list, whether the
back office, `receipts issue` or a partner system's POST /api/v1/receipts issues it."""

import pytest
from sqlalchemy import func, select

from core.apikeys import Scope, create_key
from core.extensions import db
from survey.models import ReceiptCode
from survey.questionnaires import current_questionnaire

CODES = "ho-tich, chung-thuc, cu-tru, dat-dai, xay-dung, kinh-doanh, lao-dong-xa-hoi, khac"


def receipts_issued() -> list[str | None]:
    return db.session.scalars(select(ReceiptCode.procedure)).all()


@pytest.fixture
def auth(tree, questionnaire):
    _, key = create_key("one-stop system", Scope.RECEIPTS)
    db.session.commit()
    return {"Authorization": f"Bearer {key}"}


def test_the_api_issues_codes_for_a_procedure_of_the_list(client, auth):
    body = {"unit_code": "26734", "count": 2, "procedure": "cu-tru"}
    assert client.post("/api/v1/receipts", json=body, headers=auth).status_code == 201
    form = {"unit_code": "26734", "procedure": "ho-tich"}
    assert client.post("/api/v1/receipts", data=form, headers=auth).status_code == 201
    assert sorted(receipts_issued()) == ["cu-tru", "cu-tru", "ho-tich"]
    assert [c["code"] for c in current_questionnaire().data["procedures"]] == CODES.split(", ")


@pytest.mark.parametrize(
    "procedure", ["Đăng ký khai sinh", "CU-TRU", "cu_tru", 5, ["cu-tru"], {"code": "cu-tru"}]
)
def test_the_api_refuses_a_procedure_not_on_the_list_saying_which_are(client, auth, procedure):
    # Free text was stored as sent: the survey then did not ask what the citizen came for,
    # and the pages showed the partner's words where they name the procedure.
    body = {"unit_code": "26734", "procedure": procedure}
    answer = client.post("/api/v1/receipts", json=body, headers=auth)
    assert answer.status_code == 400
    assert answer.json == {
        "error": {
            "status": 400,
            "message": f"procedure: must be one of the questionnaire's procedure codes: {CODES}",
        }
    }
    assert receipts_issued() == []


def test_an_empty_procedure_is_none(client, auth):
    for body in ({"unit_code": "26734", "procedure": ""}, {"unit_code": "26734"}):
        assert client.post("/api/v1/receipts", json=body, headers=auth).status_code == 201
    assert receipts_issued() == [None, None]


def test_the_command_line_refuses_a_procedure_not_on_the_list(runner, tree, questionnaire):
    result = runner.invoke(args=["receipts", "issue", "26734", "--procedure", "khai sinh"])
    assert result.exit_code == 1
    assert (
        f"--procedure khai sinh: must be one of the questionnaire's procedure codes: {CODES}"
        in (result.output)
    )
    assert receipts_issued() == []
    result = runner.invoke(args=["receipts", "issue", "26734", "--procedure", "dat-dai"])
    assert result.exit_code == 0, result.output
    assert receipts_issued() == ["dat-dai"]


def test_without_a_questionnaire_no_procedure_can_be_named(client, tree, runner):
    _, key = create_key("one-stop system", Scope.RECEIPTS)
    db.session.commit()
    body = {"unit_code": "26734", "procedure": "cu-tru"}
    answer = client.post("/api/v1/receipts", json=body, headers={"X-API-Key": key})
    assert answer.status_code == 400
    assert "the questionnaire is not loaded" in answer.json["error"]["message"]
    result = runner.invoke(args=["receipts", "issue", "26734", "--procedure", "cu-tru"])
    assert result.exit_code == 1 and "questionnaire load" in result.output
    assert db.session.scalar(select(func.count()).select_from(ReceiptCode)) == 0
