"""The analyst pages in a real Chromium, served by gunicorn on the test database.

The functional tests (tests/analysis/test_pages.py) check every figure on these pages; here an
analyst signs in and uses them as a browser does: the filter form, the sort links, the links
between pages, a download, the print view, and axe-core on each page.
"""

import csv
import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from core.extensions import db
from tests.analysis.test_pages import figures, staff  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
SERIOUS = ("serious", "critical")


@pytest.fixture
def analyst_page(browser, live_server, live_server_dir, figures):  # noqa: F811
    """A page signed in as the analyst, in Vietnamese; fails the test on any 5xx answer."""
    context = browser.new_context(base_url=live_server, locale="vi-VN", **DESKTOP)
    context.set_default_timeout(10_000)
    errors = []
    context.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 500 else 0,
    )
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Thư điện tử").fill("analyst@x.vn")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
    yield page
    context.close()
    if errors:
        log = (live_server_dir / "gunicorn.log").read_text(errors="replace")[-4000:]
        pytest.fail("server errors:\n" + "\n".join(errors) + "\n\ngunicorn log:\n" + log)


def serious_violations(page: Page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][0]['target']}"
        for v in violations
        if v["impact"] in SERIOUS
    ]


def overall_cells(page: Page) -> dict[str, str]:
    """Return {unit code: the overall index's figure} of the table, in the order shown."""
    rows = {}
    for row in page.locator("table tbody tr").all():
        code = row.locator("th small").first.inner_text().strip()
        rows[code] = row.locator("td").nth(1).inner_text().split("\n")[0].strip()
    return rows


def test_an_analyst_chooses_a_year_sorts_and_follows_the_links(analyst_page):
    page = analyst_page
    page.get_by_role("link", name="Số liệu").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Chỉ số hài lòng theo đơn vị")

    # The form as an analyst fills it in: the year containing a day, then Show.
    page.get_by_role("combobox", name="Kỳ", exact=True).select_option(label="Năm")
    page.get_by_label("Kỳ chứa ngày").fill("2024-03-10")
    page.get_by_role("button", name="Xem").click()
    expect(page.get_by_text("Kỳ: 1/1/2024 – 31/12/2024.")).to_be_visible()
    shown = overall_cells(page)
    assert list(shown) == ["79", "760", "26734", "26737", "769", "26800"]
    # Bến Nghé 30 of 40 satisfied; Đa Kao has 5 answers, too few to show; Thảo Điền 16 of 20.
    assert (shown["26734"], shown["26737"], shown["26800"]) == ("75,00%", "—", "80,00%")
    assert serious_violations(page) == []

    # A column heading sorts on the server, hidden figures last, and a second click reverses.
    heading = page.get_by_role("columnheader", name="Chỉ số hài lòng chung")
    heading.get_by_role("link").click()
    expect(heading).to_have_attribute("aria-sort", "descending")
    # Thủ Đức and Thảo Điền (its one commune) tie at 16 of 20.
    order = list(overall_cells(page))
    assert set(order[:2]) == {"769", "26800"} and order[2:] == ["79", "760", "26734", "26737"]
    heading.get_by_role("link").click()
    expect(heading).to_have_attribute("aria-sort", "ascending")
    order = list(overall_cells(page))
    assert order[:3] == ["26734", "760", "79"] and set(order[3:5]) == {"769", "26800"}
    assert order[5] == "26737"
    # Sorting kept the year the form chose.
    expect(page.get_by_text("Kỳ: 1/1/2024 – 31/12/2024.")).to_be_visible()

    # The forest plot of the province's districts: a picture with a name, and its numbers.
    province = page.get_by_role("row").filter(has_text="Thành phố Hồ Chí Minh")
    province.get_by_role("link", name="biểu đồ khoảng tin cậy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Biểu đồ khoảng tin cậy")
    chart = page.get_by_role("img").first
    expect(chart).to_have_accessible_name(
        "Chỉ số hài lòng chung của các đơn vị thuộc Thành phố Hồ Chí Minh"
    )
    page.get_by_role("link", name="Số liệu của biểu đồ").click()
    expect(page.get_by_role("heading", name="Số liệu của biểu đồ")).to_be_in_viewport()
    expect(page.get_by_role("row").filter(has_text="Quận 1")).to_contain_text("77,78%")
    assert serious_violations(page) == []

    # The ranking of the same districts, then one unit's months.
    page.get_by_role("link", name="Xếp hạng").click()
    title = "Xếp hạng kèm khoảng tin cậy của thứ hạng"
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    # 35 of 45 against 16 of 20: too close to tell apart, so each may be first or second.
    for district in ("Quận 1", "Thành phố Thủ Đức"):
        expect(page.get_by_role("row").filter(has_text=district)).to_contain_text("1–2")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Bảng chỉ số").click()
    bến_nghé = page.get_by_role("row").filter(has_text="Phường Bến Nghé")
    bến_nghé.get_by_role("link", name="diễn biến").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Phường Bến Nghé")
    expect(page.get_by_role("row").filter(has_text="3/2024")).to_contain_text("75,00%")
    assert serious_violations(page) == []


def test_the_download_button_gives_the_table_shown(analyst_page):
    page = analyst_page
    page.goto("/staff/analysis/?preset=year&anchor=2024-03-10")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    text = download.value.path().read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    overall = {r["unit_code"]: r for r in rows if r["measure"] == "overall"}
    assert set(overall) == {"79", "760", "26734", "26737", "769", "26800"}
    assert float(overall["26734"]["estimate"]) == pytest.approx(30 / 40)
    assert (overall["26734"]["n"], overall["26800"]["n"]) == ("40", "20")
    assert overall["26737"]["estimate"] == ""  # suppressed in the file as on the page


def test_the_printed_page_keeps_the_figures_and_drops_the_controls(analyst_page):
    page = analyst_page
    page.goto("/staff/analysis/forest?unit=79&preset=year&anchor=2024-03-10")
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Xem")).to_be_hidden()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_hidden()
    expect(page.get_by_role("img").first).to_be_visible()
    expect(page.get_by_text("Kỳ: 1/1/2024 – 31/12/2024.")).to_be_visible()


def test_the_pages_read_in_english_when_switched(analyst_page):
    page = analyst_page
    page.goto("/staff/analysis/?preset=year&anchor=2024-03-10")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Satisfaction indexes by unit")
    assert overall_cells(page)["26734"] == "75.00%"
    assert serious_violations(page) == []


@pytest.mark.parametrize("width", [390, 1280])
def test_the_filters_fit_the_screen_whatever_the_names_in_their_lists(analyst_page, tree, width):
    # The index list holds each criterion's whole text and the unit list each unit's name: a
    # list as wide as its longest entry pushed the page past the screen's edge.
    tree["26800"].name = "Phường " + "Trung Tâm Hành Chính Công Liên Thông " * 4
    db.session.commit()
    page = analyst_page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/staff/analysis/forest?unit=79&preset=year&anchor=2024-03-10")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for name in ("unit", "measure"):
        box = page.locator(f"select[name={name}]").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width


def test_a_day_out_of_range_gets_the_servers_message(analyst_page):
    page = analyst_page
    page.goto("/staff/analysis/?from=2024-01-01&to=2024-12-31")
    day_from = page.get_by_label("Từ ngày")
    assert (day_from.get_attribute("min"), day_from.get_attribute("max")) == (
        "2000-01-01",
        "2100-12-31",
    )
    # The browser would stop the form with its own words; the server's say what to write.
    day_from.fill("1999-12-31")
    page.get_by_role("button", name="Xem").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Từ ngày: “1999-12-31” không phải là ngày trong khoảng từ 1/1/2000 đến 31/12/2100."
    )
    expect(day_from).to_have_value("1999-12-31")  # kept, to be corrected
