"""The back office on a 360-pixel phone, in a real Chromium, on the demo province: a handler or
a manager at a commune checks the queue on their phone. No page may scroll sideways (a wide
table scrolls in its own box), the header's menu wraps, and axe-core finds nothing serious."""

import re
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import expect

from core.extensions import db
from core.models import User
from survey.demo import DEMO_EMAIL, load_demo
from tests.conftest import PASSWORD
from tests.e2e.test_survey_browser import assert_accessible

WIDTH = 360
# Downloads, the printed and the counter's full-screen pages, and what signs out or switches.
NOT_A_PAGE = re.compile(r"logout|/lang/|/display|/print|poster|fmt=|\.(pdf|png|svg|csv|xlsx|json)")
PAGES_AT_MOST = 60
# The visible fields and buttons lower than 24 CSS pixels, WCAG 2.2's least target size
# (2.5.8); check boxes and radio buttons are tapped through their labels.
SMALL_CONTROLS = """() => [...document.querySelectorAll("input, select, textarea, button")]
    .filter(e => !["hidden", "checkbox", "radio"].includes(e.type) && e.offsetParent !== null)
    .map(e => [e, e.getBoundingClientRect().height]).filter(([e, height]) => height < 24)
    .map(([e, height]) => `${e.tagName.toLowerCase()} ${e.name || e.type}: ${height} px`)"""


def shape(path: str) -> str:
    """The page a URL shows, whatever its record: ids and tokens replaced, query dropped."""
    return re.sub(r"/[A-Za-z0-9_-]{16,}|/\d+", "/N", urlsplit(path).path)


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

    queue, seen, wide, small, visited = ["/staff/"], set(), [], [], []
    while queue and len(visited) < PAGES_AT_MOST:
        path = queue.pop(0)
        if shape(path) in seen:
            continue
        seen.add(shape(path))
        answer = page.goto(path)
        assert answer.status < 400, f"{path}: {answer.status}"
        visited.append(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            wide.append(f"{path}: {width} px")
        small += [f"{path}: {c}" for c in page.evaluate(SMALL_CONTROLS)]
        assert_accessible(page, path)
        for href in page.locator("a[href]").evaluate_all("links => links.map(a => a.href)"):
            url = urlsplit(urljoin(live_server + path, href))
            target = url.path + (f"?{url.query}" if url.query else "")
            if url.path.startswith("/staff/") and not NOT_A_PAGE.search(target):
                queue.append(target)
    context.close()
    assert not wide, "pages wider than the phone:\n" + "\n".join(wide)
    assert not small, "fields too small to tap:\n" + "\n".join(small)
    # The walk reached the pages a phone shows tables on, not only the menu.
    for expected in ("/staff/cases", "/staff/users", "/staff/comments", "/staff/analysis/",
                     "/staff/units", "/staff/units/import"):  # fmt: skip
        assert any(urlsplit(p).path == expected for p in visited), (expected, visited)
    for expected in ("/staff/points/N/responses", "/staff/cases/N", "/staff/users/N",
                     "/staff/units/N/history"):  # fmt: skip
        assert any(shape(p) == expected for p in visited), (expected, visited)
