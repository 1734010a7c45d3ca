"""A closed unit in the figures: shown and ranked for a period only if it existed during some
part of it; its answers count in its ancestors' figures for the days it had them."""

import re
from datetime import date

from analysis.frame import load_frame
from analysis.indexes import Query
from analysis.tables import Request, build_rows
from core.extensions import db
from tests.analysis.test_pages import answers, load, page, staff, table_rows  # noqa: F401
from tests.conftest import login, signed_in

MARCH = Query(date(2024, 3, 1), date(2024, 3, 31))
APRIL = Query(date(2024, 4, 1), date(2024, 4, 30))


def overall(rows) -> dict[str, dict]:
    return {r["unit_code"]: r for r in rows if r["measure"] == "overall"}


def two_months(tree) -> None:
    """Bến Nghé and Đa Kao answer in March and in April; Đa Kao closes on 1/4/2024, its April
    answers typed in from paper afterwards (the survey page refuses them from that day)."""
    load(
        answers("26734", 30, "5", when="2024-03-10 10:00"),
        answers("26737", 30, "2", when="2024-03-10 10:00"),
        answers("26734", 30, "5", when="2024-04-10 10:00"),
        answers("26737", 30, "2", when="2024-04-10 10:00"),
    )
    tree["26737"].closed_on = date(2024, 4, 1)
    db.session.commit()


def test_a_unit_is_shown_and_ranked_only_in_the_periods_it_existed(staff):  # noqa: F811
    two_months(staff)
    march = overall(build_rows(Request(MARCH, ranks=True), load_frame())[1])
    assert march["26737"]["n"] == 30
    assert (march["26734"]["rank"], march["26737"]["rank"]) == (1, 2)
    assert march["26737"]["rank_among"] == 2
    april = overall(build_rows(Request(APRIL, ranks=True), load_frame())[1])
    assert "26737" not in april  # closed on the period's first day
    assert april["26734"]["rank"] is None  # alone among the units of Quận 1 that exist
    # Its answers stay in its district's figures for the days it had them.
    assert march["760"]["n"] == 60 and april["760"]["n"] == 60
    # A period that ends after the closing but starts before shows it.
    both = overall(build_rows(Request(Query(date(2024, 3, 1), date(2024, 4, 30))), load_frame())[1])
    assert both["26737"]["n"] == 60
    # Asked for by name, it is shown (with its subtree) whatever the period.
    alone = overall(build_rows(Request(APRIL, unit_code="26737"), load_frame())[1])
    assert set(alone) == {"26737"}


def test_the_table_and_ranking_pages_leave_out_a_unit_closed_before_the_period(client, staff):  # noqa: F811
    two_months(staff)
    login(client, "admin@x.vn")
    march = table_rows(page(client, "/staff/analysis/?from=2024-03-01&to=2024-03-31"))
    april = table_rows(page(client, "/staff/analysis/?from=2024-04-01&to=2024-04-30"))
    assert "26737" in march and "26737" not in april
    assert {"79", "760", "26734"} <= set(april)
    ranking = "/staff/analysis/ranking?unit=760&from={}&to={}"

    def ranked(first, last):
        """The ranking without the unit chooser, which offers every unit for any period."""
        return re.sub(
            r"<select.*?</select>", "", page(client, ranking.format(first, last)), flags=re.S
        )

    assert "Phường Đa Kao" in ranked("2024-03-01", "2024-03-31")
    assert "Phường Đa Kao" not in ranked("2024-04-01", "2024-04-30")


def chooser_options(html: str) -> dict[str, str]:
    """The unit chooser's options: {code: the text shown}."""
    chooser = html.split('<select name="unit">', 1)[1].split("</select>", 1)[0]
    found = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', chooser)
    return {code: " ".join(text.split()) for code, text in found}


def test_the_unit_chooser_marks_a_closed_unit_with_its_day(app, staff):  # noqa: F811
    staff["26737"].closed_on = date(2024, 4, 1)
    staff["26800"].closed_on = date(2099, 7, 1)  # closing later: marked already
    db.session.commit()
    for language, closed, later in [
        ("en", "Phường Đa Kao (26737, closed on 1 Apr 2024)", "(26800, closed on 1 Jul 2099)"),
        (
            "vi",
            "Phường Đa Kao (26737, ngừng hoạt động từ 1/4/2024)",
            "(26800, ngừng hoạt động từ 1/7/2099)",
        ),
    ]:
        client = signed_in(app, "admin@x.vn", language=language)
        for url in ("/staff/analysis/", "/staff/analysis/ranking", "/staff/analysis/forest"):
            options = chooser_options(page(client, url))
            assert options["26737"].endswith(closed), (url, options)
            assert options["26800"].endswith(later)
            assert options["26734"].endswith("Phường Bến Nghé (26734)")  # open: no mark


def test_the_unit_chooser_names_the_unit_a_closed_one_merged_into(app, staff):  # noqa: F811
    """Where its answers count in today's units; a successor outside the account's units is
    not named (the manager of district 760 cannot see 26800)."""
    staff["26737"].closed_on = date(2024, 4, 1)
    staff["26737"].merged_into = staff["26734"]
    staff["26734"].closed_on = date(2025, 1, 1)
    staff["26734"].merged_into = staff["26800"]
    db.session.commit()
    for language, into in [
        ("en", "(26737, merged into Phường Bến Nghé (26734) on 1 Apr 2024)"),
        ("vi", "(26737, sáp nhập vào Phường Bến Nghé (26734) từ 1/4/2024)"),
    ]:
        options = chooser_options(
            page(signed_in(app, "admin@x.vn", language=language), "/staff/analysis/")
        )
        assert options["26737"].endswith(into), options
    options = chooser_options(
        page(signed_in(app, "manager@x.vn", language="en"), "/staff/analysis/")
    )
    assert options["26734"].endswith("(26734, closed on 1 Jan 2025)"), options


def test_the_trend_says_a_month_after_the_closing_day_is_the_units_closing(app, staff):  # noqa: F811
    """Not "fewer than 10 answers", as if the counter had been quiet: the unit was gone."""
    staff["26737"].closed_on = date(2024, 3, 1)
    db.session.commit()
    client = signed_in(app, "admin@x.vn", language="en")
    html = page(client, "/staff/analysis/units/26737/trend?from=2024-01-01&to=2024-04-30")
    notes = re.findall(
        r"<tr><th scope=\"row\">([^<]+)</th>(?:<td>[^<]*</td>){3}<td>([^<]*)</td>", html
    )
    assert notes == [
        ("Jan 2024", "fewer than 10 answers: not shown"),
        ("Feb 2024", "fewer than 10 answers: not shown"),
        ("Mar 2024", "closed on 1 Mar 2024"),
        ("Apr 2024", "closed on 1 Mar 2024"),
    ], notes
