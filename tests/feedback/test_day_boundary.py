"""One way from a Vietnam day to its stored UTC bounds (core.models.local_day_start): a moment at
23:59 and one at 00:00 in Vietnam (16:59 and 17:00 UTC) fall on the same days in the PAKN
queue's date filter, a case entered later from paper, the PAKN figures, the comments page and
the analysis's responses."""

import re
from datetime import date, datetime

from analysis.frame import day_number, load_frame
from core.extensions import db
from core.models import local_day_start
from feedback.figures import received
from survey.models import Response
from tests.conftest import login

EVE = datetime(2026, 3, 10, 16, 59)  # 23:59 on 10 March in Vietnam
MIDNIGHT = datetime(2026, 3, 10, 17, 0)  # 00:00 on 11 March in Vietnam
TENTH, ELEVENTH = date(2026, 3, 10), date(2026, 3, 11)


def test_a_vietnam_day_starts_at_17_00_utc_the_day_before():
    assert local_day_start(ELEVENTH) == MIDNIGHT
    assert local_day_start(TENTH) == datetime(2026, 3, 9, 17, 0)


def test_the_queue_filter_and_the_figures_agree_on_a_cases_day(client, staff, make_case, tree):
    eve, midnight = make_case(received_at=EVE), make_case(received_at=MIDNIGHT)
    paper = make_case(received_on=ELEVENTH)  # entered later: received that day, hour unknown
    assert paper.received_at == MIDNIGHT
    assert [c.received_on for c in (eve, midnight, paper)] == [TENTH, ELEVENTH, ELEVENTH]
    login(client, "admin@x.vn")
    unit = tree["26734"].id
    for day, cases in ((TENTH, [eve]), (ELEVENTH, [midnight, paper])):
        html = client.get(f"/staff/cases?tab=all&from={day}&to={day}").get_data(as_text=True)
        assert set(re.findall(r'href="/staff/cases/(\d+)"', html)) == {str(c.id) for c in cases}
        assert received([unit], day, day)[unit]["total"] == len(cases)


def test_the_comments_filter_and_the_analysis_agree_on_a_responses_day(
    client, staff, point, questionnaire
):
    for at, comment in ((EVE, "Trước nửa đêm"), (MIDNIGHT, "Đúng nửa đêm")):
        db.session.add(
            Response(
                questionnaire_id=questionnaire.id, unit_id=point.unit_id, point_id=point.id,
                channel="static", submitted_at=at, comment=comment, hk=False, a1=5,
            )
        )  # fmt: skip
    db.session.commit()
    login(client, "admin@x.vn")
    for day, comment, other in ((TENTH, "Trước", "Đúng"), (ELEVENTH, "Đúng", "Trước")):
        html = client.get(f"/staff/comments?since={day}&until={day}").get_data(as_text=True)
        assert f"{comment} nửa đêm" in html and f"{other} nửa đêm" not in html
        frame = load_frame(day_number(day), day_number(day))
        assert frame.day.tolist() == [day_number(day)]
