"""The back office on a 360-pixel phone, in a real Chromium, on the demo province: a handler or
a manager at a commune checks the queue on their phone. No page may scroll sideways (a wide
table scrolls in its own box), the header's menu wraps, and axe-core finds nothing serious."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from core.extensions import db
from core.models import User
from survey.demo import DEMO_EMAIL, load_demo
from tests.conftest import PASSWORD
from tests.e2e.test_survey_browser import assert_accessible
from tests.e2e.walk import path_shape, staff_pages

WIDTH = 360
# The visible fields and buttons lower than 24 CSS pixels, WCAG 2.2's least target size
# (2.5.8); check boxes and radio buttons are tapped through their labels.
SMALL_CONTROLS = """() => [...document.querySelectorAll("input, select, textarea, button")]
    .filter(e => !["hidden", "checkbox", "radio"].includes(e.type) && e.offsetParent !== null)
    .map(e => [e, e.getBoundingClientRect().height]).filter(([e, height]) => height < 24)
    .map(([e, height]) => `${e.tagName.toLowerCase()} ${e.name || e.type}: ${height} px`)"""


@pytest.fixture
def demo_admin(app):
    load_demo("http://127.0.0.1")
    admin = db.session.query(User).filter_by(email=DEMO_EMAIL).one()
    admin.set_password(PASSWORD)
    db.session.commit()
    return DEMO_EMAIL


def test_no_back_office_page_scrolls_sideways_on_a_phone(browser, live_server, demo_admin):
    context = browser.new_context(
        base_url=live_server, locale="vi-VN", viewport={"width": WIDTH, "height": 740}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Thư điện tử").fill(demo_admin)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()

    wide, small, visited = [], [], []
    for path in staff_pages(page, live_server, "/staff/"):
        visited.append(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            wide.append(f"{path}: {width} px")
        small += [f"{path}: {c}" for c in page.evaluate(SMALL_CONTROLS)]
        assert_accessible(page, path)
    context.close()
    assert not wide, "pages wider than the phone:\n" + "\n".join(wide)
    assert not small, "fields too small to tap:\n" + "\n".join(small)
    # The walk reached the pages a phone shows tables on, not only the menu.
    for expected in ("/staff/cases", "/staff/users", "/staff/comments", "/staff/analysis/",
                     "/staff/units", "/staff/units/import"):  # fmt: skip
        assert any(urlsplit(p).path == expected for p in visited), (expected, visited)
    for expected in ("/staff/points/N/responses", "/staff/cases/N", "/staff/users/N",
                     "/staff/units/N/history"):  # fmt: skip
        assert any(path_shape(p) == expected for p in visited), (expected, visited)
