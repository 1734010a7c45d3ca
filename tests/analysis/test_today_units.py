"""Today's units: each answer of a unit merged into another counts as its last successor's,
only today's units are shown, and no answer counts twice at any level. Expected figures are
worked by hand from small data sets."""

import csv
import io
import json
from datetime import date

import pytest

from analysis.frame import load_frame
from analysis.indexes import Query
from analysis.tables import Request, build_rows
from core.extensions import db
from core.models import Unit
from tests.analysis.test_pages import answers, load, page, staff, table_rows  # noqa: F401
from tests.conftest import add_units, login, signed_in

MARCH_2024 = Query(date(2024, 3, 1), date(2024, 3, 31))
MARCH_2024_TODAY = Query(date(2024, 3, 1), date(2024, 3, 31), today_units=True)
MERGER_DAY = date(2025, 7, 1)


def overall(query: Query, **options) -> dict[str, tuple]:
    """{unit code: (n, estimate)} of the overall index, for the units the table shows."""
    rows = build_rows(Request(query, **options), load_frame())[1]
    return {r["unit_code"]: (r["n"], r["estimate"]) for r in rows if r["measure"] == "overall"}


@pytest.fixture
def merged(staff):  # noqa: F811
    """March 2024: Bến Nghé 10 all satisfied, Đa Kao 10 none, Quận 1's own counter 10
    satisfied, Thảo Điền 10 satisfied. On 1/7/2025 Bến Nghé and Đa Kao merge into the new
    Phường Sài Gòn (under the province), and Quận 1 is dissolved with no successor; Sài Gòn
    has 10 answers of its own in January 2026, all satisfied."""
    saigon = Unit(code="26740", name="Phường Sài Gòn", level="Phường", parent=staff["79"])
    add_units(saigon)
    staff["26740"] = saigon
    load(
        answers("26734", 10, "5"),
        answers("26737", 10, "2"),
        answers("760", 10, "4"),
        answers("26800", 10, "4"),
        answers("26740", 10, "5", when="2026-01-10 10:00"),
    )
    for code in ("760", "26734", "26737"):
        staff[code].closed_on = MERGER_DAY
    staff["26734"].merged_into = staff["26737"].merged_into = saigon
    db.session.commit()
    return staff


def test_the_successor_takes_its_predecessors_answers_and_nothing_counts_twice(merged):
    then = overall(MARCH_2024)
    assert then["26734"] == (10, 1.0) and then["26737"] == (10, 0.0)
    assert then["760"] == (30, 0.666667)  # its own 10 and its two wards' 20: 20 of 30
    assert then["26740"] == (0, None)  # open during the period, no answer then
    today = overall(MARCH_2024_TODAY)
    # The wards and the dissolved district are not today's units.
    assert set(today) == {"79", "769", "26800", "26740"}
    assert today["26740"] == (20, 0.5)  # 10 of Bến Nghé's 20 answers with Đa Kao's
    assert today["26800"] == then["26800"] == (10, 1.0)
    # The province counts every answer once, whichever the view: 10 + 10 + 10 + 10 = 40, 30
    # satisfied (the district's own 10 stay in it, under the province).
    assert today["79"] == then["79"] == (40, 0.75)
    # A criterion: the same counts, answer by answer.
    rows = build_rows(Request(MARCH_2024_TODAY, measures=("criterion:C1",)), load_frame())[1]
    c1 = {r["unit_code"]: (r["n"], r["estimate"]) for r in rows}
    assert c1["26740"] == (20, 0.5) and c1["79"] == (40, 0.75)


def test_a_chain_of_two_mergers_ends_at_the_last_unit(merged):
    later = Unit(code="26750", name="Phường Sài Gòn Mới", level="Phường", parent=merged["79"])
    add_units(later)
    merged["26740"].closed_on = date(2026, 6, 1)
    merged["26740"].merged_into = later
    db.session.commit()
    whole = Query(date(2024, 1, 1), date(2026, 5, 31), today_units=True)
    today = overall(whole)
    assert "26740" not in today and "26734" not in today
    # Bến Nghé's 10 satisfied, Đa Kao's 10 not, Sài Gòn's 10 satisfied: 20 of 30.
    assert today["26750"] == (30, 0.666667)
    assert today["79"] == (50, 0.8)  # with Quận 1's 10 and Thảo Điền's 10: 40 of 50
    assert overall(Query(whole.first, whole.last))["79"] == (50, 0.8)


def test_a_unit_whose_answers_span_the_merger_day(staff):  # noqa: F811
    """Bến Nghé answers until the evening before the merger (Vietnam time), Sài Gòn from the
    merger's morning: a month across the day gives Sài Gòn both, by the Vietnam day."""
    saigon = Unit(code="26740", name="Phường Sài Gòn", level="Phường", parent=staff["79"])
    add_units(saigon)
    load(
        answers("26734", 10, "5", when="2025-06-30 23:30"),  # 16:30 UTC, still 30 June
        answers("26740", 10, "1", when="2025-07-01 00:30"),  # 17:30 UTC on 30 June
    )
    staff["26734"].closed_on = MERGER_DAY
    staff["26734"].merged_into = saigon
    db.session.commit()
    june = Query(date(2025, 6, 1), date(2025, 6, 30))
    july = Query(date(2025, 7, 1), date(2025, 7, 31))
    assert overall(june)["26734"] == (10, 1.0) and "26740" in overall(june)
    assert overall(june)["26740"] == (0, None)
    assert overall(july)["26740"] == (10, 0.0) and "26734" not in overall(july)
    both = Query(date(2025, 6, 1), date(2025, 7, 31), today_units=True)
    assert overall(both)["26740"] == (20, 0.5)
    assert overall(Query(june.first, june.last, today_units=True))["26740"] == (10, 1.0)
    assert overall(Query(july.first, july.last, today_units=True))["26740"] == (10, 0.0)


def test_a_merger_still_to_come_changes_nothing_today(merged):
    """A unit that closes after today is one of today's units: its answers stay its own."""
    merged["26800"].closed_on = date.today().replace(year=date.today().year + 1)
    merged["26800"].merged_into = merged["26740"]
    db.session.commit()
    today = overall(MARCH_2024_TODAY)
    assert today["26800"] == (10, 1.0) and today["26740"] == (20, 0.5)


def test_a_unit_asked_for_takes_the_answers_from_outside_its_subtree(merged):
    """Sài Gòn's predecessors were under Quận 1, not under it: asked for alone, it still has
    their answers."""
    today = overall(MARCH_2024_TODAY, unit_code="26740")
    assert today == {"26740": (20, 0.5)}
    ranked = overall(MARCH_2024_TODAY, ranks=True)
    assert ranked["26740"] == (20, 0.5)


def test_the_export_the_api_and_verify_say_and_check_the_view(merged, runner, tmp_path, app):
    out = tmp_path / "today.csv"
    args = ["--from", "2024-03-01", "--to", "2024-03-31", "--today-units", "--out", str(out)]
    result = runner.invoke(args=["analysis", "export", *args])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert {r["units"] for r in rows} == {"today"}
    by_unit = {r["unit_code"]: r for r in rows if r["measure"] == "overall"}
    assert set(by_unit) == {"79", "769", "26800", "26740"} and by_unit["26740"]["n"] == "20"
    then = tmp_path / "then.json"
    result = runner.invoke(args=["analysis", "export", *args[:4], "--out", str(then)])
    assert result.exit_code == 0, result.output
    meta = json.loads(then.read_text(encoding="utf-8"))["meta"]
    assert meta["units"] == "then" and meta["filters"]["today_units"] is False
    xlsx = tmp_path / "today.xlsx"
    assert runner.invoke(args=["analysis", "export", *args[:5], "--out", str(xlsx)]).exit_code == 0
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx).worksheets[0]
    said = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["Đơn vị / Units", *method_units("today")] in said
    # The slow path, answer by answer, agrees with the folded sums.
    for extra in ([], ["--today-units"]):
        result = runner.invoke(args=["analysis", "verify", *args[:4], *extra])
        assert result.exit_code == 0 and "No differences." in result.output, result.output


def method_units(view: str) -> list[str]:
    from analysis import method

    return list(method.UNITS[view])


def test_the_pages_offer_the_view_and_show_it(app, merged):
    client = signed_in(app, "admin@x.vn")  # in English
    url = "/staff/analysis/?from=2024-03-01&to=2024-03-31"
    then = page(client, url)
    assert 'name="today_units" value="0" checked' in then
    assert {"760", "26734", "26737"} <= set(table_rows(then))
    today = page(client, url + "&today_units=1")
    assert 'name="today_units" value="1" checked' in today
    assert "today&#39;s units" in today
    rows = table_rows(today)
    assert set(rows) == {"79", "769", "26800", "26740"}
    # The downloads of the page carry the view.
    assert "export.csv?from=2024-03-01&amp;to=2024-03-31&amp;today_units=1" in today
    raw = client.get("/staff/analysis/export.csv?from=2024-03-01&to=2024-03-31&today_units=1")
    body = list(csv.DictReader(io.StringIO(raw.get_data(as_text=True).lstrip("\ufeff"))))
    assert {r["units"] for r in body} == {"today"}
    # The trend of the new ward has its predecessors' answers, in their month.
    trend = page(client, "/staff/analysis/units/26740/trend?from=2024-03-01&to=2024-03-31"
                 "&today_units=1")  # fmt: skip
    assert "n = 20" in trend
    assert "n = 20" not in page(client, "/staff/analysis/units/26740/trend?from=2024-03-01"
                                "&to=2024-03-31")  # fmt: skip


def test_the_api_and_the_pakn_figures_follow_the_view(client, merged):
    from datetime import datetime

    from feedback.models import Channel, Kind, Topic
    from feedback.services import create_case

    create_case(merged["26734"], kind=Kind.REPORT, topic=Topic.DELAY, channel=Channel.WEB,
                content="Hồ sơ trễ hẹn ba ngày mà không được báo.",
                received_at=datetime(2024, 3, 12, 3))  # fmt: skip
    db.session.commit()
    login(client, "admin@x.vn")
    url = "/api/v1/indexes?from=2024-03-01&to=2024-03-31&measure=overall&measure=pakn:received"
    then = client.get(url).json
    today = client.get(url + "&today_units=true").json
    assert then["meta"]["units"] == "then" and today["meta"]["units"] == "today"

    def figures(body):
        return {(r["unit_code"], r["measure"]): r["n"] for r in body["rows"]}

    assert figures(then)[("26734", "pakn:received")] == 1
    assert figures(then)[("26740", "pakn:received")] == 0
    assert (
        figures(today)[("26740", "pakn:received")] == 1
        and figures(today)[("26740", "overall")] == 20
    )
    assert figures(today)[("79", "pakn:received")] == figures(then)[("79", "pakn:received")] == 1
    assert ("26734", "pakn:received") not in figures(today)
    bad = client.get(url + "&today_units=maybe")
    assert bad.status_code == 400 and "today_units" in bad.get_data(as_text=True)


def test_a_new_commune_compared_with_its_area_a_year_earlier(staff):  # noqa: F811
    """January 2026 of the new ward against January 2025 of the wards it took over: Bến Nghé
    2 of 10 satisfied, Đa Kao 4 of 10, then Sài Gòn 9 of 10."""
    saigon = Unit(code="26740", name="Phường Sài Gòn", level="Phường", parent=staff["79"])
    add_units(saigon)
    load(
        answers("26734", 2, "5", when="2025-01-10 10:00"),
        answers("26734", 8, "2", when="2025-01-10 10:00"),
        answers("26737", 4, "4", when="2025-01-20 10:00"),
        answers("26737", 6, "1", when="2025-01-20 10:00"),
        answers("26740", 9, "5", when="2026-01-10 10:00"),
        answers("26740", 1, "3", when="2026-01-10 10:00"),
    )
    for code in ("26734", "26737"):
        staff[code].closed_on = MERGER_DAY
        staff[code].merged_into = saigon
    db.session.commit()
    january = Query(date(2026, 1, 1), date(2026, 1, 31), today_units=True)
    rows = build_rows(Request(january, compare="year"), load_frame())[1]
    row = next(r for r in rows if r["unit_code"] == "26740" and r["measure"] == "overall")
    assert (row["n"], row["estimate"], row["previous_estimate"]) == (10, 0.9, 0.3)
    assert row["change"] == 0.6 and row["significant"] is True
    # Without the option, the new ward had no answer a year earlier.
    rows = build_rows(Request(Query(january.first, january.last), compare="year"), load_frame())[1]
    row = next(r for r in rows if r["unit_code"] == "26740" and r["measure"] == "overall")
    assert row["previous_estimate"] is None
