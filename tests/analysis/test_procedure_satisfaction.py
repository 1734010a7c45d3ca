"""Decision 766's satisfaction with procedures: dossiers (receipt codes) less those rated
"không hài lòng" or named by a PAKN about reception, handling or lateness, worked by hand."""

import csv
import io
import json
from datetime import date, datetime, timedelta

import openpyxl
import pytest

from analysis import pakn, verify
from analysis.indexes import Query
from analysis.tables import Request, build_rows
from core.apikeys import Scope, create_key
from core.extensions import db
from core.models import LOCAL_OFFSET
from feedback.figures import rated_dissatisfied
from feedback.models import Channel, Kind, Topic
from feedback.services import create_case
from survey.integrity import new_receipt_code
from survey.models import Exclusion, ReceiptCode, Response

MEASURE = "pakn:procedure_satisfaction"
MARCH = Query(date(2025, 3, 1), date(2025, 3, 31))
FEBRUARY = Query(date(2025, 2, 1), date(2025, 2, 28))


def issue(unit, local: datetime) -> ReceiptCode:
    """A receipt code issued at the unit at that Vietnam time."""
    receipt = ReceiptCode(code=new_receipt_code(), unit=unit, created_at=local - LOCAL_OFFSET,
                          expires_at=local + timedelta(days=30))  # fmt: skip
    db.session.add(receipt)
    db.session.flush()
    return receipt


def answer(receipt, questionnaire, **answers) -> Response:
    """The receipt's survey response, with these criteria (A1=1, ...), the others blank."""
    response = Response(
        questionnaire_id=questionnaire.id, unit_id=receipt.unit_id, channel="receipt", hk=False,
        submitted_at=receipt.created_at + timedelta(hours=2),
        **{code.lower(): value for code, value in answers.items()},
    )  # fmt: skip
    db.session.add(response)
    db.session.flush()
    receipt.response_id, receipt.used_at = response.id, response.submitted_at
    return response


def pakn_about(receipt, topic: Topic, received_at: datetime | None = None):
    return create_case(receipt.unit, kind=Kind.REPORT, topic=topic, channel=Channel.WEB,
                       content="Hồ sơ này có vấn đề cần xem lại.", receipt=receipt,
                       received_at=received_at)  # fmt: skip


ALL = {c: 5 for c in ("A1", "A2", "A3", "A4", "B1", "C1")}


@pytest.fixture
def dossiers(tree, questionnaire, make_user):
    """The hand-worked example (docs/methods.md, PAKN ratios).

    Bến Nghé (26734), March: 13 dossiers, 4 against it (R2, R7, R9, R10): 9/13.
    Đa Kao (26737): 3 dossiers, 1 rated dissatisfied: 2/3. District 760 itself: 1, fine.
    District 760 and the province: 17 dossiers, 5 against: 12/17. Thảo Điền: none.
    """
    admin = make_user("admin@example.vn", "admin")
    ward, day = tree["26734"], datetime(2025, 3, 10, 9, 0)
    r = {i: issue(ward, day + timedelta(hours=i)) for i in range(1, 12)}
    answer(r[1], questionnaire, **ALL)  # satisfied
    answer(r[2], questionnaire, A1=1, A2=2, A3=4, A4=5)  # 2 of 4 at 1-2: half, dissatisfied
    answer(r[3], questionnaire, A1=2, B1=4, C1=5)  # 1 of 3: a remark, not dissatisfied
    answer(r[4], questionnaire, A1=3, A2=3, A3=3, A4=3)  # "bình thường" is not dissatisfied
    excluded = answer(r[5], questionnaire, A1=1, A2=1, A3=1)  # dissatisfied, but excluded
    db.session.add(Exclusion(response_id=excluded.id, reason="thử", excluded_by_id=admin.id))
    answer(r[6], questionnaire, A1=0, A2=0, B1=None)  # no opinion: rated nothing
    pakn_about(r[7], Topic.DELAY, received_at=datetime(2025, 4, 20, 3, 0))  # sent in April
    pakn_about(r[8], Topic.FACILITIES)  # the premises: not reception, handling or lateness
    answer(r[9], questionnaire, A1=1)  # dissatisfied, and a PAKN: counted once
    pakn_about(r[9], Topic.ATTITUDE)
    pakn_about(r[9], Topic.DELAY)
    pakn_about(r[10], Topic.DOCUMENTS_FEES)
    # r[11]: nothing. Midnight at the period's edges, Vietnam time:
    issue(ward, datetime(2025, 3, 1, 0, 30))  # 28/2 17:30 UTC: in March
    pakn_about(issue(ward, datetime(2025, 3, 31, 23, 59)), Topic.PROCEDURE)  # the rule itself
    before = issue(ward, datetime(2025, 2, 28, 23, 30))  # February
    answer(before, questionnaire, A1=1, A2=1)
    pakn_about(issue(ward, datetime(2025, 4, 1, 0, 1)), Topic.DELAY)  # April

    other = {i: issue(tree["26737"], day + timedelta(days=i)) for i in range(3)}
    answer(other[0], questionnaire, A1=2, B1=2)
    answer(other[1], questionnaire, A1=4, B1=2, C1=5)  # 1 of 3: not dissatisfied
    issue(tree["760"], day)
    db.session.commit()
    return tree


def test_a_response_is_rated_dissatisfied_when_half_its_answers_are_1_or_2():
    assert rated_dissatisfied([1, 2, 4, 5])  # 2 of 4
    assert rated_dissatisfied([2, None, 0])  # 1 of 1: blank and no opinion left out
    assert not rated_dissatisfied([2, 4, 5])  # 1 of 3
    assert not rated_dissatisfied([3, 3, 3, 3])  # neutral throughout
    assert not rated_dissatisfied([0, 0, None])  # nothing rated
    assert not rated_dissatisfied([])
    assert rated_dissatisfied([1, 1, 1, 3, 4, 5])  # 3 of 6
    assert not rated_dissatisfied([1, 1, 3, 4, 5])  # 2 of 5


def rows_of(query, **request):
    _, rows = build_rows(Request(query, measures=(MEASURE,), **request))
    return {r["unit_code"]: r for r in rows}


def test_the_ratio_by_hand_per_unit_and_summed_up(dossiers):
    got = rows_of(MARCH)
    ward = got["26734"]
    assert (ward["n"], ward["estimate"]) == (13, round(9 / 13, 6))
    assert abs(ward["ci_low"] - 0.423693) < 1e-6 and abs(ward["ci_high"] - 0.873193) < 1e-6
    assert ward["flag"] == "few_answers"
    assert got["26737"]["n"] == 3 and got["26737"]["flag"] == "suppressed"
    assert got["26737"]["estimate"] is None
    for code in ("760", "79"):
        assert (got[code]["n"], got[code]["estimate"]) == (17, round(12 / 17, 6)), code
        assert abs(got[code]["ci_low"] - 0.468669) < 1e-6
        assert abs(got[code]["ci_high"] - 0.8672) < 1e-6
    # No receipts issued: no figure.
    assert got["26800"]["n"] == 0 and got["26800"]["estimate"] is None
    assert got["769"]["n"] == 0 and got["769"]["ci_low"] is None


def test_the_counts_behind_the_ratio(dossiers):
    ids = [dossiers[c].id for c in ("26734", "26737", "760", "26800")]
    from feedback.figures import procedure_satisfaction

    counts = procedure_satisfaction(ids, MARCH.first, MARCH.last)
    ward = counts[dossiers["26734"].id]
    # Rated: R2, R9 (R5 excluded); PAKN: R7, R9, R10 (R8 facilities, R13 procedure).
    assert (ward["n"], ward["rated_dissatisfied"], ward["with_pakn"]) == (13, 2, 3)
    assert ward["dissatisfied"] == 4
    assert counts[dossiers["26737"].id]["dissatisfied"] == 1
    assert counts[dossiers["26800"].id] == {"n": 0, "dissatisfied": 0, "rated_dissatisfied": 0,
                                            "with_pakn": 0, "ratio": None}  # fmt: skip


def test_a_receipt_counts_in_the_period_it_was_issued(dossiers):
    february = rows_of(FEBRUARY)["26734"]
    assert february["n"] == 1
    april = rows_of(Query(date(2025, 4, 1), date(2025, 4, 30)))["26734"]
    assert april["n"] == 1  # issued at 00:01 on 1/4, Vietnam time
    assert rows_of(MARCH, unit_code="760").keys() == {"760", "26734", "26737"}


def test_undoing_the_exclusion_counts_the_response_again(dossiers):
    exclusion = db.session.scalar(db.select(Exclusion))
    exclusion.undone_at = datetime(2025, 4, 1)
    db.session.commit()
    assert rows_of(MARCH)["26734"]["estimate"] == round(8 / 13, 6)


def test_verify_recomputes_it_and_agrees(dossiers):
    slow = verify.slow_procedure_satisfaction(MARCH)
    assert (slow["26734"].n, slow["26734"].estimate) == (13, 9 / 13)
    assert (slow["79"].n, slow["79"].estimate) == (17, 12 / 17)
    assert slow["26800"].n == 0 and slow["26800"].flag == "suppressed"
    problems, checked, _ = verify.differences(MARCH)
    assert problems == []
    assert checked == 6 * 27


def test_verify_catches_a_wrong_ratio(dossiers, runner, monkeypatch):
    counts = pakn.figures.procedure_satisfaction

    def one_fewer(unit_ids, first, last):
        result = counts(unit_ids, first, last)
        result[dossiers["26737"].id]["dissatisfied"] -= 1
        return result

    monkeypatch.setattr(pakn.figures, "procedure_satisfaction", one_fewer)
    result = runner.invoke(args=["analysis", "verify", "--from", "2025-03-01",
                                 "--to", "2025-03-31"])  # fmt: skip
    assert result.exit_code == 1
    assert "760 pakn:procedure_satisfaction estimate: fast 0.764" in result.output
    assert "79 pakn:procedure_satisfaction ci_low" in result.output
    assert "26734 pakn:procedure_satisfaction" not in result.output


def export(runner, tmp_path, name):
    out = tmp_path / name
    args = ["--from", "2025-03-01", "--to", "2025-03-31", "--measure", MEASURE, "--out", str(out)]
    result = runner.invoke(args=["analysis", "export", *args])
    assert result.exit_code == 0, result.output
    return out


def test_exports_and_the_api_read_back(dossiers, runner, client, tmp_path):
    raw = export(runner, tmp_path, "march.csv").read_text(encoding="utf-8-sig")
    rows = {r["unit_code"]: r for r in csv.DictReader(io.StringIO(raw))}
    assert rows["26734"]["measure"] == MEASURE
    assert (rows["26734"]["n"], rows["26734"]["estimate"]) == ("13", "0.692308")
    assert rows["26737"]["estimate"] == "" and rows["26737"]["flag"] == "suppressed"

    document = json.loads(export(runner, tmp_path, "march.json").read_text(encoding="utf-8"))
    by_unit = {r["unit_code"]: r for r in document["rows"]}
    assert by_unit["760"]["n"] == 17 and by_unit["760"]["estimate"] == 0.705882

    book = openpyxl.load_workbook(export(runner, tmp_path, "march.xlsx"))
    sheet = book["Phường"]
    header = [c.value for c in sheet[1]]
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert cells["26734"][header.index("measure")].value == MEASURE
    assert abs(cells["26734"][header.index("estimate")].value - 9 / 13) < 1e-6
    method = " ".join(str(c.value) for row in book["Phương pháp"].iter_rows() for c in row)
    assert "hài lòng về thủ tục hành chính" in method and "at least half" in method

    _record, secret = create_key("analysis", Scope.ANALYSIS)
    db.session.commit()
    body = client.get(f"/api/v1/indexes?from=2025-03-01&to=2025-03-31&measure={MEASURE}",
                      headers={"X-API-Key": secret}).json  # fmt: skip
    api = {r["unit_code"]: r for r in body["rows"]}
    assert api["79"]["estimate"] == 0.705882 and api["79"]["n"] == 17


def test_receipts_alone_bring_the_pakn_rows_by_default(tree, questionnaire):
    issue(tree["26734"], datetime(2025, 3, 3, 8, 0))
    db.session.commit()
    _, rows = build_rows(Request(MARCH))
    measures = {r["measure"] for r in rows if r["unit_code"] == "26734"}
    assert set(pakn.PAKN_MEASURES) <= measures
    ward = next(r for r in rows if (r["unit_code"], r["measure"]) == ("26734", MEASURE))
    assert ward["n"] == 1 and ward["flag"] == "suppressed"
