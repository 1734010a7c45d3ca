"""Decision 766's PAKN ratios beside the survey figures, summed up the unit tree."""

import math
from datetime import date, timedelta

from analysis.indexes import MEASURES, Query
from analysis.pakn import PAKN_MEASURES
from analysis.tables import Request, build_rows
from core.extensions import db
from core.models import utcnow
from feedback.models import Channel, Kind, Topic
from feedback.services import apply_action, create_case, rate
from feedback.workflow import Action


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
