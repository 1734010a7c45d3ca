"""The analyst pages: who may see what, the figures shown, sorting, charts and bad filters."""

import csv
import html as html_lib
import io
import math
import re
import xml.etree.ElementTree as ET

import flask
import numpy as np
import pytest
from scipy import special, stats

from analysis import warm
from analysis.presenting import rank_sentence
from core.extensions import db
from core.models import Role, Unit, User
from survey.models import CRITERIA
from survey.response_insert import import_responses
from tests.conftest import FAST_HASH, add_units, login, page_forms

HEADER = "unit_code,submitted_at,channel," + ",".join(CRITERIA) + ",HK"
YEAR = "from=2024-01-01&to=2024-12-31"
QUARTER = "preset=quarter&anchor=2024-03-10"
SVG = "{http://www.w3.org/2000/svg}"


def answers(unit, count, value, when="2024-03-10 10:00", hk="no"):
    """Return CSV lines of respondents who gave every criterion the same answer."""
    return [f"{unit},{when},paper," + ",".join([value] * len(CRITERIA)) + f",{hk}"] * count


def load(*groups):
    import_responses("\n".join([HEADER, *(line for g in groups for line in g)]).encode())
    db.session.commit()
    # The warm frame is kept by highest id; ids restart once a test has emptied the table.
    warm._cache.clear()


def add_user(email, role, unit=None):
    db.session.add(User(email=email, role=Role(role), unit=unit, password_hash=FAST_HASH))
    db.session.commit()


@pytest.fixture
def staff(tree, questionnaire):
    add_user("admin@x.vn", "admin")
    add_user("manager@x.vn", "manager", tree["760"])
    add_user("handler@x.vn", "handler", tree["26734"])
    add_user("analyst@x.vn", "analyst")
    add_user("analyst760@x.vn", "analyst", tree["760"])
    return tree


@pytest.fixture
def figures(staff):
    """Bến Nghé 30/40 satisfied, Đa Kao 5/5 (suppressed), Thảo Điền 16/20 (few answers)."""
    load(
        answers("26734", 10, "5", hk="yes"),
        answers("26734", 20, "4"),
        answers("26734", 10, "2"),
        answers("26737", 5, "5"),
        answers("26800", 16, "4"),
        answers("26800", 4, "1"),
    )
    return staff


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def table_rows(html):
    """Return {unit code: [cell texts]} of the table of indexes, in the order shown."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        code = re.search(r"<small>(\w+)</small>", row).group(1)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows[code] = [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells[1:]]
    return rows


PAGES = [
    "/staff/analysis/?unit={code}&" + QUARTER,
    "/staff/analysis/forest?unit={code}&" + QUARTER,
    "/staff/analysis/forest.svg?unit={code}&" + QUARTER,
    "/staff/analysis/forest.png?unit={code}&" + QUARTER,
    "/staff/analysis/ranking?unit={code}&" + QUARTER,
    "/staff/analysis/ranking.svg?unit={code}&" + QUARTER,
    "/staff/analysis/ranking.png?unit={code}&" + QUARTER,
    "/staff/analysis/units/{code}/trend?" + QUARTER,
    "/staff/analysis/units/{code}/trend.svg?" + QUARTER,
    "/staff/analysis/units/{code}/trend.png?" + QUARTER,
    "/staff/analysis/export.csv?unit={code}&" + QUARTER,
    "/staff/analysis/export.xlsx?unit={code}&" + QUARTER,
    "/staff/analysis/export.json?unit={code}&" + QUARTER,
]
# who: (status inside the manager's district 760, status outside it, in district 769)
MATRIX = {
    None: (302, 302),
    "handler@x.vn": (403, 403),
    "analyst@x.vn": (200, 200),  # an analyst of no unit reads every unit
    "analyst760@x.vn": (200, 403),  # one given district 760, that district only
    "manager@x.vn": (200, 403),
    "admin@x.vn": (200, 200),
}


@pytest.mark.parametrize("email", MATRIX)
def test_every_page_checks_role_and_unit_scope(client, figures, email):
    if email:
        login(client, email)
    for url in PAGES:
        for code, expected in zip(("760", "769"), MATRIX[email], strict=True):
            response = client.get(url.format(code=code))
            assert response.status_code == expected, (url.format(code=code), email)
            if expected == 302:
                assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("email", ["manager@x.vn", "analyst760@x.vn"])
def test_a_manager_or_an_analyst_of_a_unit_sees_only_its_subtree_by_default(client, figures, email):
    login(client, email)
    assert set(table_rows(page(client, "/staff/analysis/?" + YEAR))) == {"760", "26734", "26737"}
    exported = client.get("/staff/analysis/export.csv?" + YEAR).get_data(as_text=True)
    codes = {row["unit_code"] for row in csv.DictReader(io.StringIO(exported.lstrip("\ufeff")))}
    assert codes == {"760", "26734", "26737"}


def level_choices(html: str) -> list[str]:
    chooser = re.search(r'<select name="level">(.*?)</select>', html, re.S).group(1)
    return re.findall(r"<option[^>]*>([^<]*)</option>", chooser)[1:]  # after "All levels"


def test_the_level_list_offers_the_levels_of_the_accounts_units(client, figures):
    """A district's manager is offered its own level and its communes', not the province's nor
    another district's (Thành phố), which could only give an empty table."""
    login(client, "manager@x.vn")
    assert level_choices(page(client, "/staff/analysis/?" + YEAR)) == ["Phường", "Quận"]
    admin = client.application.test_client()
    login(admin, "admin@x.vn")
    everything = level_choices(page(admin, "/staff/analysis/?" + YEAR))
    assert everything == sorted(["Phường", "Quận", "Thành phố", "Tỉnh"])


def test_a_manager_without_a_unit_is_refused(client, staff):
    add_user("lost@x.vn", "manager")
    login(client, "lost@x.vn")
    assert client.get("/staff/analysis/").status_code == 403


def test_table_shows_the_figures_in_vietnamese(client, figures):
    login(client, "analyst@x.vn")
    rows = table_rows(page(client, "/staff/analysis/?" + YEAR))
    assert list(rows) == ["79", "760", "26734", "26737", "769", "26800"]
    overall, *_elements, register = rows["26734"]
    assert overall.startswith("75,00% ") and "n = 40" in overall  # 30 of 40 satisfied
    assert register.startswith("25,00% ") and "n = 40" in register  # 10 of 40 asked
    assert rows["26737"][0] == "— n = 5"  # suppressed: fewer than 10 answers
    assert rows["26800"][0].startswith("80,00% ") and "ít phiếu" in rows["26800"][0]
    assert rows["760"][0].startswith("77,78% ")  # (30 + 5) / 45, weighted by respondents
    assert rows["79"][0].startswith("78,46% ") and "n = 65" in rows["79"][0]  # (35 + 16) / 65
    # Everyone answered all criteria alike, so V = p(1 - p) / (n - 1); logit interval, t(39).
    p, n = 0.75, 40
    half = stats.t.ppf(0.975, n - 1) * math.sqrt(p * (1 - p) / (n - 1)) / (p * (1 - p))
    low, high = (special.expit(special.logit(p) + s * half) for s in (-1, 1))
    interval = f"{low * 100:.2f}%–{high * 100:.2f}%".replace(".", ",")
    assert overall == f"75,00% {interval} n = 40"


def test_table_sorts_on_the_server_with_hidden_figures_last(client, figures):
    login(client, "analyst@x.vn")
    for direction in ("asc", "desc"):
        html = page(client, f"/staff/analysis/?{YEAR}&sort=overall&dir={direction}")
        rows = table_rows(html)
        assert list(rows)[-1] == "26737"
        values = [float(r[0].split("%")[0].replace(",", ".")) for r in list(rows.values())[:-1]]
        assert values == sorted(values, reverse=direction == "desc")
        assert f'aria-sort="{direction}ending"' in html
    rows = table_rows(page(client, f"/staff/analysis/?{YEAR}&sort=unit&dir=asc"))
    assert list(rows) == ["26734", "26737", "26800", "760", "79", "769"]


def test_table_links_carry_the_filters(client, figures):
    login(client, "analyst@x.vn")
    html = page(client, f"/staff/analysis/?{YEAR}&channel=paper&weighting=population")
    for fmt in ("csv", "xlsx", "json"):
        assert re.search(rf'href="/staff/analysis/export\.{fmt}\?[^"]*channel=paper', html)
    assert re.search(r'href="/staff/analysis/forest\?[^"]*weighting=population', html)


def test_a_parent_weighted_by_respondents_for_want_of_population_is_marked(client, figures):
    # Quận 1's wards have a population, Thủ Đức's Thảo Điền none; neither district has one.
    figures["26734"].population, figures["26737"].population = 30000, 10000
    db.session.commit()
    login(client, "analyst@x.vn")
    client.set_cookie("lang", "en")
    html = page(client, f"/staff/analysis/?{YEAR}&weighting=population")
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    heads = {
        re.search(r"<small>(\w+)</small>", row).group(1): row.split("</th>", 1)[0]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    }
    marked = {code for code, head in heads.items() if "weighted by respondents" in head}
    assert marked == {"769", "79"}
    assert "a unit under this one has answers but no population" in html
    html = page(client, f"/staff/analysis/?{YEAR}")
    assert "weighted by respondents" not in html


def test_each_units_trend_link_is_the_one_url_for_builds(client, figures, app):
    """The table builds the trend links once around the code; each must be url_for's own."""
    login(client, "analyst@x.vn")
    html = page(client, f"/staff/analysis/?{YEAR}&channel=paper&level=Ph%C6%B0%E1%BB%9Dng")
    links = re.findall(r'href="(/staff/analysis/units/[^"]*/trend\?[^"]*)"', html)
    codes = list(table_rows(html))
    assert len(links) == len(codes) > 0
    args = {"from": "2024-01-01", "to": "2024-12-31", "level": "Phường", "channel": ["paper"]}
    with app.test_request_context():
        expected = [flask.url_for("analysis_staff.trend", code=code, **args) for code in codes]
    assert [html_lib.unescape(link) for link in links] == expected
    heading = re.search(r"<h1>(.*?)</h1>", page(client, html_lib.unescape(links[0]))).group(1)
    assert heading.endswith(figures[codes[0]].name)


def svg_root(text):
    return ET.fromstring(text)  # noqa: S314 (the app's own output, parsed to check it)


def inline_svg(html):
    return svg_root(re.search(r"<svg .*?</svg>", html, re.S).group(0))


def grid_scale(root):
    ticks = [
        float(t.text.rstrip("%").replace(",", "."))
        for t in root.iter(SVG + "text")
        if t.get("class") == "tick"
    ]
    grid = [float(g.get("x1")) for g in root.iter(SVG + "line") if g.get("class") == "grid"]
    return lambda value: (
        grid[0] + (value - ticks[0]) * (grid[-1] - grid[0]) / (ticks[-1] - ticks[0])
    )


def test_forest_plot_has_a_point_per_unit_where_the_estimate_is(client, figures):
    login(client, "analyst@x.vn")
    svg = client.get("/staff/analysis/forest.svg?unit=79&" + YEAR)
    assert svg.mimetype == "image/svg+xml"
    root = svg_root(svg.data)
    x = grid_scale(root)
    points = [c for c in root.iter(SVG + "circle") if c.get("class") == "point"]
    assert sorted(float(p.get("cx")) for p in points) == pytest.approx(
        [x(7 / 9 * 100), x(80)], abs=0.05
    )  # district 760 at 35/45, district 769 at 16/20
    (reference,) = [r for r in root.iter(SVG + "line") if r.get("class") == "reference"]
    assert float(reference.get("x1")) == pytest.approx(x(51 / 65 * 100), abs=0.05)
    html = page(client, "/staff/analysis/forest?unit=760&" + YEAR)
    root = inline_svg(html)
    assert len([c for c in root.iter(SVG + "circle") if c.get("class") == "point"]) == 1
    assert "Phường Đa Kao" in html and "— (n = 5)" in html  # suppressed: named, not drawn


def test_hostile_unit_names_are_escaped_everywhere(client, figures):
    name = '<script>alert("x")</script>'
    add_units(Unit(code="26999", name=name, level="Phường", parent=figures["760"]))
    load(answers("26999", 12, "5"))
    login(client, "analyst@x.vn")
    for url in (
        "/staff/analysis/?",
        "/staff/analysis/forest?unit=760&",
        "/staff/analysis/ranking?unit=760&",
        "/staff/analysis/units/26999/trend?",
    ):
        html = page(client, url + YEAR)
        assert "<script>" not in html and "&lt;script&gt;" in html, url
    root = svg_root(client.get("/staff/analysis/forest.svg?unit=760&" + YEAR).data)
    assert name in ["".join(t.itertext()) for t in root.iter(SVG + "title")]


def test_trend_shows_each_month_and_leaves_gaps(client, figures):
    load(
        answers("26800", 10, "5", when="2024-01-15 09:00"),
        answers("26800", 3, "5", when="2024-02-15 09:00"),
    )
    login(client, "analyst@x.vn")
    html = page(client, "/staff/analysis/units/26800/trend?from=2024-01-01&to=2024-04-30")
    root = inline_svg(html)
    assert len([c for c in root.iter(SVG + "circle") if c.get("class") == "point"]) == 2
    assert len([t for t in root.iter(SVG + "text") if t.get("class") == "gap"]) == 2
    rows = re.findall(r"<tr><th scope=\"row\">([^<]+)</th><td>([^<]*)</td>", html)
    assert rows == [("1/2024", "100,00%"), ("2/2024", "—"), ("3/2024", "80,00%"), ("4/2024", "—")]
    assert "n = 3" in html


def test_trend_says_which_months_the_period_cuts(client, figures):
    """From 15 January to 10 March: January and March are partial, and their figures are for
    those days only; the table says the days, the chart marks them and says what * means."""
    load(
        answers("26800", 10, "5", when="2024-01-20 09:00"),
        answers("26800", 10, "4", when="2024-02-15 09:00"),
        answers("26800", 10, "1", when="2024-03-05 09:00"),
    )
    login(client, "analyst@x.vn")
    html = page(client, "/staff/analysis/units/26800/trend?from=2024-01-15&to=2024-03-10")
    rows = re.findall(r"<tr><th scope=\"row\">([^<]+)</th>", html)
    assert rows == ["15/1/2024\u2009–\u200931/1/2024", "2/2024", "1/3/2024\u2009–\u200910/3/2024"]
    axis = [t.text for t in inline_svg(html).iter(SVG + "text")]
    assert "1/2024*" in axis and "2/2024" in axis and "3/2024*" in axis
    assert "* chỉ một phần của tháng nằm trong kỳ" in axis
    whole = page(client, "/staff/analysis/units/26800/trend?from=2024-01-01&to=2024-03-31")
    assert "*" not in "".join(t.text or "" for t in inline_svg(whole).iter(SVG + "text"))
    # In English, the days as the other pages write them, not in the American order.
    client.set_cookie("lang", "en")
    html = page(client, "/staff/analysis/units/26800/trend?from=2024-01-15&to=2024-03-10")
    rows = re.findall(r"<tr><th scope=\"row\">([^<]+)</th>", html)
    assert rows == [
        "15 Jan 2024\u2009–\u200931 Jan 2024",
        "Feb 2024",
        "1 Mar 2024\u2009–\u200910 Mar 2024",
    ]
    # The chart's axis writes its months as the table and the other pages do.
    axis = [t.text for t in inline_svg(html).iter(SVG + "text")]
    assert "Jan 2024*" in axis and "Feb 2024" in axis and "Mar 2024*" in axis


def test_rank_sentence_says_how_uncertain_the_rank_is(app):
    with app.app_context(), app.test_request_context():
        assert rank_sentence(11, 12, 3, 12).startswith(
            "Xếp hạng 11/12, khoảng tin cậy của thứ hạng: 3–12."
        )
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        assert rank_sentence(11, 12, 3, 12) == (
            "Ranked 11 of 12; confidence interval of the rank: 3–12. "
            "The rank is uncertain: the true rank may be anywhere from 3 to 12."
        )
        assert "clear" in rank_sentence(1, 4, 1, 1)


def test_ranking_page_for_a_constructed_case(client, staff):
    district = Unit(code="900", name="Quận Mẫu", level="Quận", parent=staff["79"])
    communes = [
        Unit(code=f"900{i}", name=f"Phường {i}", level="Phường", parent=district)
        for i in range(1, 5)
    ]
    add_units(district, *communes)
    satisfied = {"9001": 190, "9002": 100, "9003": 98, "9004": 20}  # of 200 each
    load(*(answers(c, x, "5") + answers(c, 200 - x, "1") for c, x in satisfied.items()))
    login(client, "analyst@x.vn")
    html = page(client, "/staff/analysis/ranking?unit=900&" + YEAR)
    sentences = re.findall(r'<td class="sentence">([^<]+)</td>', html)
    assert [s.split(".")[0] for s in sentences] == [
        "Xếp hạng 1/4, khoảng tin cậy của thứ hạng: 1–1",
        "Xếp hạng 2/4, khoảng tin cậy của thứ hạng: 2–3",
        "Xếp hạng 3/4, khoảng tin cậy của thứ hạng: 2–3",
        "Xếp hạng 4/4, khoảng tin cậy của thứ hạng: 4–4",
    ]
    root = inline_svg(html)
    bars = [b for b in root.iter(SVG + "line") if b.get("class") == "rank-ci"]
    grid = sorted({float(g.get("x1")) for g in root.iter(SVG + "line") if g.get("class") == "grid"})
    assert [(float(b.get("x1")), float(b.get("x2"))) for b in bars] == [
        (grid[0], grid[0]),
        (grid[1], grid[2]),
        (grid[1], grid[2]),
        (grid[3], grid[3]),
    ]
    # The page offers the same chart as a file, for the report.
    link = re.search(r'href="(/staff/analysis/ranking\.svg\?[^"]+)"', html).group(1)
    svg = client.get(link.replace("&amp;", "&"))
    assert svg.mimetype == "image/svg+xml"
    assert 'filename="ranking-900.svg"' in svg.headers["Content-Disposition"]
    drawn = svg_root(svg.data)
    assert [b.get("x1") for b in drawn.iter(SVG + "line") if b.get("class") == "rank-ci"] == [
        b.get("x1") for b in bars
    ]
    assert client.get("/staff/analysis/ranking.svg?unit=NOPE&" + YEAR).status_code == 400


def test_the_ranking_table_says_which_figures_rest_on_few_answers(client, figures):
    # Quận 1 has 45 respondents; Thủ Đức 20, few answers: a rank a report should not quote
    # without that caveat.
    login(client, "analyst@x.vn")
    html = page(client, "/staff/analysis/ranking?unit=79&" + YEAR)
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {
        re.search(r"<small>(\w+)</small>", row).group(1): re.findall(r"<td[^>]*>(.*?)</td>", row)
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    }
    assert rows["769"][2:4] == ["20", "ít phiếu"]
    assert rows["760"][2:4] == ["45", ""]


BAD_FILTERS = [
    ("from=2024-13-45&to=2024-12-31", "không phải là ngày"),
    ("from=2024-06-01&to=2024-01-01", "Ngày kết thúc trước ngày bắt đầu"),
    ("unit=NOPE", "Không có đơn vị nào mang mã “NOPE”"),
    ("level=Galaxy", "“Galaxy” không nằm trong các lựa chọn"),
    ("preset=decade", "“decade” không nằm trong các lựa chọn"),
    ("weighting=<b>x</b>&compare=yesterday", "“&lt;b&gt;x&lt;/b&gt;”"),
    ("from=<script>alert(1)</script>", "“&lt;script&gt;alert(1)&lt;/script&gt;”"),
    ("channel=fax&unit=%3Cscript%3E", "“fax”"),
]


@pytest.mark.parametrize(("query", "message"), BAD_FILTERS)
def test_bad_filters_get_a_clear_message_not_an_error(client, figures, query, message):
    login(client, "analyst@x.vn")
    for url in ("/staff/analysis/?", "/staff/analysis/forest?", "/staff/analysis/ranking?"):
        response = client.get(url + query)
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert 'role="alert"' in html and message in html, url
        assert "<script>" not in html and "<b>x" not in html
    for url in (
        "/staff/analysis/forest.svg?",
        "/staff/analysis/forest.png?",
        "/staff/analysis/export.csv?",
    ):
        assert client.get(url + query).status_code == 400


def test_messages_follow_the_chosen_language(client, figures):
    login(client, "analyst@x.vn")
    client.set_cookie("lang", "en")
    html = client.get("/staff/analysis/?from=31/02/2024").get_data(as_text=True)
    assert "From: “31/02/2024” is not a date between 1 Jan 2000 and 31 Dec 2100." in html


def test_trend_of_an_unknown_unit_is_not_found(client, figures):
    login(client, "analyst@x.vn")
    assert client.get("/staff/analysis/units/NOPE/trend").status_code == 404
    assert client.get("/staff/analysis/units/760/trend?from=2000-01-01").status_code == 400


def test_change_from_a_year_earlier_is_said_in_words(client, figures):
    load(answers("26734", 40, "1", when="2023-03-10 10:00"))
    login(client, "analyst@x.vn")
    rows = table_rows(page(client, f"/staff/analysis/?{YEAR}&compare=year"))
    assert "+75,00 điểm phần trăm, tăng có ý nghĩa thống kê" in rows["26734"][0]
    assert "không có số liệu kỳ trước để so sánh" in rows["26800"][0]
    client.set_cookie("lang", "en")
    rows = table_rows(page(client, f"/staff/analysis/?{YEAR}&compare=year"))
    assert rows["26734"][0].startswith("75.00% ")
    assert "+75.00 percentage points, significant rise" in rows["26734"][0]


def test_a_hidden_figure_is_not_said_to_lack_an_earlier_one(client, figures):
    # Đa Kao: 20 answers a year earlier, a figure; 5 this year, hidden. The earlier figure
    # exists: what is missing is this year's, which "—" and n already say.
    load(answers("26737", 20, "4", when="2023-03-10 10:00"))
    login(client, "analyst@x.vn")
    rows = table_rows(page(client, f"/staff/analysis/?{YEAR}&compare=year"))
    assert rows["26737"][0] == "— n = 5"
    assert "không có số liệu kỳ trước để so sánh" in rows["26800"][0]


def test_pages_work_before_any_unit_exists(client, questionnaire):
    add_user("analyst@x.vn", "analyst")
    login(client, "analyst@x.vn")
    for url in ("/staff/analysis/", "/staff/analysis/forest", "/staff/analysis/ranking"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_percentages_and_counts_read_as_babel_writes_them(app, lang):
    from flask_babel import force_locale, format_decimal, format_percent, get_locale

    from analysis.presenting import count, pct, signs_of

    rng = np.random.default_rng(11)
    values = [round(float(v), 6) for v in rng.random(20_000)]
    values += [(2 * k + 1) / 20_000 for k in range(2_000)]  # halfway between two hundredths
    values += [0.0, 1.0, 0.000_05, 0.999_95, 1e-9, 1.5, -0.2]  # and outside [0, 1]
    counts = [int(v) for v in rng.integers(0, 10**9, 2_000)] + [0, 999, 1000, -5]
    with app.test_request_context(), force_locale(lang):
        assert [pct(v) for v in values] == [format_percent(v, "#,##0.00%") for v in values]
        assert [count(n) for n in counts] == [format_decimal(n) for n in counts]
        signs = signs_of(get_locale())  # as a table passes them, looked up once
        assert [pct(v, signs) for v in values] == [pct(v) for v in values]
        assert [count(n, signs) for n in counts] == [count(n) for n in counts]


def _export_changes(client, query):
    """Return {(unit, measure): (change, low, high)} read from the CSV export of the query."""
    response = client.get(f"/staff/analysis/export.csv?{query}")
    assert response.status_code == 200
    reader = csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
    return {
        (r["unit_code"], r["measure"]): tuple(
            float(r[k]) if r[k] else None for k in ("change", "change_ci_low", "change_ci_high")
        )
        for r in reader
    }


def test_the_table_shows_the_interval_of_each_change_as_the_export_has_it(client, figures):
    load(answers("26734", 40, "1", when="2023-03-10 10:00"))
    load(answers("26800", 20, "4", when="2023-03-10 10:00"))
    login(client, "analyst@x.vn")
    query = f"{YEAR}&compare=year"
    exported = _export_changes(client, query)
    # Bến Nghé, overall: 30/40 satisfied in 2024 (V = 0.75·0.25/39), 0/40 in 2023, whose
    # Wilson interval 0 to z²/(40 + z²) gives V = (high / z)²: 0.75 ± z·sqrt(V1 + V2).
    z = stats.norm.ppf(0.975)
    v_now, v_then = 0.75 * 0.25 / 39, (z * z / (40 + z * z) / z) ** 2
    half = z * math.sqrt(v_now + v_then)
    assert exported[("26734", "overall")][1] == pytest.approx(0.75 - half, abs=1e-6)
    assert exported[("26734", "overall")][2] == pytest.approx(0.75 + half, abs=1e-6)
    for lang, decimal in (("en", "."), ("vi", ",")):
        client.set_cookie("lang", lang)
        html = page(client, f"/staff/analysis/?{query}")
        header = re.findall(r'<th scope="col"[^>]*><a href="[^"]*sort=([^&"]+)', html)[2:]
        cells = re.findall(
            r'<tr>\s*<th scope="row"[^>]*>(?:[^<]|</?span[^>]*>)*<small>(\w+)</small>(.*?)</tr>',
            html,
            re.S,
        )
        seen = 0
        for code, row in cells:
            tds = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[1:]
            for measure, td in zip(header, tds, strict=True):
                measure = html_lib.unescape(measure).replace("%3A", ":")
                shown = re.search(r'<small class="interval">(.*?)</small>', td)
                change, low, high = exported[(code, measure)]
                if low is None or "<b>—</b>" in td:
                    assert shown is None, (code, measure, td)
                    continue
                seen += 1
                # Signed percentage points, two decimals, the locale's decimal sign.
                expected = [f"{v * 100:+.2f}".replace(".", decimal) for v in (low, high)]
                text = html_lib.unescape(shown.group(1))
                assert re.findall(r"[+-]\d+[.,]\d\d", text) == expected, (code, measure, text)
                if lang == "en":
                    assert text == (
                        f"95% confidence interval of the change: {expected[0]} to "
                        f"{expected[1]} percentage points"
                    )
        # Bến Nghé and Thảo Điền: overall, five elements, the household register; and their
        # district and province.
        assert seen >= 2 * 7


def submit_filters(client, html, **changes):
    """Submit the page's filters form as a browser does, with some fields changed."""
    form = next(f for f in page_forms(html) if "preset" in f["fields"])
    fields = form["fields"] | changes
    return page(client, form["action"] + "?" + "&".join(f"{k}={v}" for k, v in fields.items()))


def summary(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html.split('class="summary">', 1)[1]).split())


def dates_shown(html):
    fields = next(f for f in page_forms(html) if "preset" in f["fields"])["fields"]
    return fields["preset"], fields["from"], fields["to"]


@pytest.mark.parametrize("path", ["/staff/analysis/", "/staff/analysis/forest"])
def test_the_filters_show_the_period_of_the_figures_and_keep_dates_typed_after(
    client, figures, path
):
    # An analyst chooses a year, then types dates of their own and leaves the year selected:
    # each time the form shows the period its figures are for, and the latest choice wins.
    login(client, "analyst@x.vn")
    html = page(client, path + "?" + YEAR)
    html = submit_filters(client, html, preset="quarter", anchor="2024-03-10")
    assert summary(html).startswith("Kỳ: 1/1/2024 – 31/3/2024.")
    assert dates_shown(html) == ("quarter", "2024-01-01", "2024-03-31")
    html = submit_filters(client, html, **{"from": "2024-03-01", "to": "2024-03-20"})
    assert summary(html).startswith("Kỳ: 1/3/2024 – 20/3/2024.")
    assert dates_shown(html) == ("", "2024-03-01", "2024-03-20")
    # A link with a preset and dates (no form behind it) still means the preset.
    html = page(client, path + "?preset=quarter&anchor=2024-03-10&" + YEAR)
    assert dates_shown(html) == ("quarter", "2024-01-01", "2024-03-31")
    # Dates with a mistake stay as typed, to be corrected.
    html = client.get(path + "?from=31/02/2024&to=2024-12-31").get_data(as_text=True)
    assert dates_shown(html)[1:] == ("31/02/2024", "2024-12-31")


def test_a_forest_plot_whose_unit_is_withheld_speaks_of_no_dashed_line(client, figures):
    # May 2024: 5 answers in district 760, its own figure withheld, so no dashed line is drawn.
    load(answers("26737", 5, "4", when="2024-05-10 10:00"))
    login(client, "analyst@x.vn")
    client.set_cookie("lang", "en")
    may = "from=2024-05-01&to=2024-05-31"
    root = svg_root(client.get("/staff/analysis/forest.svg?unit=760&" + may).data)
    assert not [r for r in root.iter(SVG + "line") if r.get("class") == "reference"]
    text = " ".join(" ".join(e.itertext()) for e in root.iter())
    assert "dashed line" not in text and "fewer than 10 answers: not shown" in text
    html = page(client, "/staff/analysis/forest?unit=760&" + may)
    assert "dashed line" not in html
    reference = html.split('<tr class="reference">', 1)[1].split("</tr>", 1)[0]
    assert "<td>5</td><td>fewer than 10 answers: not shown</td>" in reference
    # With its figure, the unit is the dashed line, and the legend and description say so.
    root = svg_root(client.get("/staff/analysis/forest.svg?unit=760&" + YEAR).data)
    text = " ".join(" ".join(e.itertext()) for e in root.iter())
    assert "dashed line: Quận 1, 80.00%" in text and "the dashed line is Quận 1 (80.00%)" in text


@pytest.mark.parametrize(
    ("query", "compared"),
    [
        (YEAR + "&compare=year", "Compared with 1 Jan 2023 – 31 Dec 2023."),
        (QUARTER + "&compare=previous", "Compared with 1 Oct 2023 – 31 Dec 2023."),
        # Not whole months: as many days just before.
        (
            "from=2024-03-10&to=2024-03-29&compare=previous",
            "Compared with 19 Feb 2024 – 9 Mar 2024.",
        ),
    ],
)
def test_the_table_says_which_period_it_compares_with(client, figures, query, compared):
    login(client, "analyst@x.vn")
    client.set_cookie("lang", "en")
    assert compared in summary(page(client, "/staff/analysis/?" + query))
    assert "Compared with" not in summary(page(client, "/staff/analysis/?" + YEAR))


def test_a_refusal_addresses_the_staff_member_as_staff(client, figures):
    # Only signed-in staff are ever refused a page (403): they are "bạn", citizens "ông/bà".
    login(client, "handler@x.vn")
    response = client.get("/staff/analysis/")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Bạn không có quyền truy cập trang này." in html and "Ông/bà" not in html


def date_fields(html: str) -> tuple[dict, dict[str, dict]]:
    """Return the filter form's attributes and its date inputs' attributes, by name."""
    form = re.search(r'<form class="filters[^>]*>', html).group(0)
    inputs = re.findall(r'<input type="date"[^>]*>', html)
    fields = {}
    for tag in inputs:
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        fields[attrs["name"]] = attrs
    return {"novalidate": " novalidate" in form}, fields


@pytest.mark.parametrize(
    "url",
    ["/staff/analysis/?", "/staff/analysis/forest?unit=760&", "/staff/analysis/ranking?unit=760&",
     "/staff/analysis/units/760/trend?"],
)  # fmt: skip
def test_date_fields_offer_the_days_the_server_takes(client, figures, url):
    login(client, "analyst@x.vn")
    form, fields = date_fields(page(client, url + YEAR))
    assert set(fields) == {"anchor", "from", "to"}
    for field in fields.values():
        assert (field["min"], field["max"]) == ("2000-01-01", "2100-12-31")
    # The ends are taken, the days beyond them refused with the server's words, which the
    # browser does not stand in for (its own message would be in its own language).
    assert form["novalidate"]
    for ends in ("from=2000-01-01&to=2000-12-31", "from=2100-01-01&to=2100-12-31"):
        assert client.get(url + ends).status_code == 200, ends
    for beyond in ("from=1999-12-31&to=2024-12-31", "from=2024-01-01&to=2101-01-01"):
        response = client.get(url + beyond)
        assert response.status_code == 400
        assert "không phải là ngày trong khoảng từ 1/1/2000 đến 31/12/2100" in response.get_data(
            as_text=True
        )
