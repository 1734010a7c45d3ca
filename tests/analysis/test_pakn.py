"""Decision 766's PAKN ratios beside the survey figures, summed up the unit tree."""

import math
import re
from datetime import date, datetime, timedelta

from analysis.indexes import MEASURES, Query
from analysis.pakn import PAKN_MEASURES
from analysis.tables import Request, build_rows
from core.extensions import db
from core.models import utcnow
from feedback.models import Channel, Kind, Topic
from feedback.services import apply_action, create_case, rate
from feedback.workflow import Action
from tests.conftest import signed_in
from tests.feedback.conftest import handle

Z = 1.959963984540054


def answered_case(unit, admin, satisfied):
    case = create_case(unit, kind=Kind.REPORT, topic=Topic.DELAY, channel=Channel.WEB,
                       content="Hồ sơ trễ hẹn ba ngày mà không được báo.")  # fmt: skip
    db.session.commit()
    for action, extra in ((Action.CLASSIFY, {"outcome": "competent"}), (Action.ASSIGN, {}),
                          (Action.ANSWER, {"answer": "Đã xin lỗi và trả hồ sơ."})):  # fmt: skip
        apply_action(case, action, admin, case.version, **extra)
        db.session.commit()
    if satisfied is not None:
        rate(case, satisfied)
    return case


def wilson(x, n, z=1.959963984540054):
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def rows_by(rows):
    return {(r["unit_code"], r["measure"]): r for r in rows}


def test_pakn_ratios_per_unit_and_summed_up(tree, make_user, questionnaire):
    admin = make_user("admin@x.vn", "admin")
    for i in range(12):
        answered_case(tree["26734"], admin, satisfied=i >= 2)  # two said "not satisfied"
    for _ in range(3):
        answered_case(tree["26737"], admin, satisfied=None)
    db.session.commit()
    today = (utcnow() + timedelta(hours=7)).date()
    _, rows = build_rows(Request(Query(date(today.year - 1, 1, 1), today)))
    got = rows_by(rows)
    # Unit after unit: its survey measures, then its PAKN measures.
    per_unit = len(MEASURES) + len(PAKN_MEASURES)
    assert [r["measure"] for r in rows] == [*MEASURES, *PAKN_MEASURES] * (len(rows) // per_unit)
    codes = [r["unit_code"] for r in rows]
    assert [len(set(codes[i : i + per_unit])) for i in range(0, len(rows), per_unit)] == [1] * (
        len(rows) // per_unit
    )
    assert len(set(codes)) == len(rows) // per_unit

    commune = got[("26734", "pakn:handling_satisfaction")]
    assert commune["n"] == 12 and commune["estimate"] == round(10 / 12, 6)
    low, high = wilson(10, 12)
    assert abs(commune["ci_low"] - low) < 1e-6 and abs(commune["ci_high"] - high) < 1e-6
    assert commune["flag"] == "few_answers"
    assert got[("26734", "pakn:handled_on_time")]["estimate"] == 1.0

    district = got[("760", "pakn:handling_satisfaction")]
    assert district["n"] == 15 and district["estimate"] == round(13 / 15, 6)
    assert got[("760", "pakn:received")]["n"] == 15
    assert got[("760", "pakn:received")]["estimate"] is None
    assert got[("26737", "pakn:handling_satisfaction")]["flag"] == "suppressed"
    assert got[("26737", "pakn:handling_satisfaction")]["estimate"] is None
    assert got[("79", "pakn:received")]["n"] == 15
    assert got[("26800", "pakn:received")]["n"] == 0


def test_no_pakn_rows_without_cases_unless_asked(tree, questionnaire):
    query = Query(date(2024, 1, 1), date(2024, 12, 31))
    _, rows = build_rows(Request(query))
    assert not any(r["measure"].startswith("pakn:") for r in rows)
    _, rows = build_rows(Request(query, measures=("pakn:received",)))
    assert {r["measure"] for r in rows} == {"pakn:received"} and all(r["n"] == 0 for r in rows)


def answered_on(unit, admin, day: date, satisfied: bool):
    """A case received at 9:00 on day and answered at 10:00 (Vietnam time), then rated."""
    at = datetime(day.year, day.month, day.day, 2)  # 09:00 in Hà Nội, as UTC
    case = create_case(unit, kind=Kind.REPORT, topic=Topic.DELAY, channel=Channel.WEB,
                       content="Hồ sơ trễ hẹn.", received_at=at)  # fmt: skip
    db.session.commit()
    handle(case, admin, "Đã xin lỗi và trả hồ sơ.", now=at + timedelta(hours=1))
    rate(case, satisfied)
    db.session.commit()


def test_pakn_ratios_compare_with_the_earlier_period(tree, make_user, questionnaire):
    admin = make_user("admin@x.vn", "admin")
    for i in range(10):  # February: 5 of 10 satisfied
        answered_on(tree["26734"], admin, date(2024, 2, 5 + i), satisfied=i < 5)
    for i in range(12):  # March: 10 of 12
        answered_on(tree["26734"], admin, date(2024, 3, 4 + i), satisfied=i >= 2)
    request = Request(Query(date(2024, 3, 1), date(2024, 3, 31)), compare="previous",
                      measures=PAKN_MEASURES)  # fmt: skip
    got = rows_by(build_rows(request)[1])
    # 10/12 - 5/10 = 0.3333, V = 0.5·0.5/10 + (10/12)(2/12)/12 = 0.036574: ±0.3748, which
    # holds zero: no significant change. The district holds only this ward's cases.
    change, half = 10 / 12 - 0.5, Z * math.sqrt(0.25 / 10 + (10 / 12) * (2 / 12) / 12)
    for code in ("26734", "760", "79"):
        row = got[(code, "pakn:handling_satisfaction")]
        assert row["estimate"] == round(10 / 12, 6) and row["previous_estimate"] == 0.5, code
        assert row["change"] == round(change, 6)
        assert row["change_ci_low"] == round(change - half, 6)
        assert row["change_ci_high"] == round(change + half, 6)
        assert row["significant"] is False
        # Every case was answered the next hour, in both months: 1.0 against 1.0, no change.
        on_time = got[(code, "pakn:handled_on_time")]
        assert (on_time["previous_estimate"], on_time["change"]) == (1.0, 0.0)
        assert on_time["significant"] is False
        # A count has no estimate, so no change either.
        assert got[(code, "pakn:received")]["change"] is None
    # A ward without cases in either month has nothing to compare.
    assert got[("26737", "pakn:handling_satisfaction")]["change"] is None


def pakn_table(page: str) -> dict[str, list[str]]:
    """The analysis page's PAKN table: each unit code's cells, as text without tags."""
    part = page.split('id="pakn"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", part, re.S):
        code = re.search(r"<small>(\w+)</small>", row)
        if code:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            rows[code[1]] = [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]
    return rows


def test_the_analysis_page_shows_the_pakn_ratios_per_unit(app, tree, make_user, questionnaire):
    admin = make_user("admin@x.vn", "admin", slow=False)
    for i in range(12):
        answered_case(tree["26734"], admin, satisfied=i >= 2)  # two said "not satisfied"
    db.session.commit()
    client = signed_in(app, "admin@x.vn")
    today = (utcnow() + timedelta(hours=7)).date()
    page = client.get(f"/staff/analysis/?from={today.year - 1}-01-01&to={today}")
    assert page.status_code == 200
    rows = pakn_table(page.get_data(as_text=True))
    low, high = wilson(10, 12)
    # On time 12/12 (answered the day they came), satisfaction 10/12, no dossiers, 12 received.
    on_time_low, _ = wilson(12, 12)
    assert rows["26734"] == [
        f"100.00% {on_time_low:.2%}–100.00% n = 12 few answers",
        f"83.33% {low:.2%}–{high:.2%} n = 12 few answers",
        "— n = 0",
        "12",
    ]
    assert rows["79"] == rows["760"] == rows["26734"]  # summed up the tree
    assert rows["26737"] == ["— n = 0", "— n = 0", "— n = 0", "0"]


def test_no_pakn_table_on_the_analysis_page_without_cases_or_receipts(
    app, tree, make_user, questionnaire
):
    make_user("admin@x.vn", "admin", slow=False)
    page = signed_in(app, "admin@x.vn").get("/staff/analysis/").get_data(as_text=True)
    assert "Satisfaction indexes by unit" in page and 'id="pakn"' not in page
