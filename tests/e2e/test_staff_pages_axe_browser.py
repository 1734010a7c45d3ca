"""Every back-office page, as each role sees it, on the demo province at a desktop's width in a
real Chromium: axe-core finds nothing on any of them, of any impact, the analysis pages and their
charts included, and the focus shows clearly on all a keyboard reaches."""

import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core.demo import load_demo_province
from core.extensions import db
from core.models import Role, User
from feedback.models import Case
from feedback.workflow import State
from survey.demo import DEMO_EMAIL
from tests.conftest import FAST_HASH, PASSWORD
from tests.e2e.focus import FAINT_FOCUS
from tests.e2e.test_survey_browser import describe
from tests.e2e.walk import staff_pages

DESKTOP = {"width": 1280, "height": 900}
ANALYST_EMAIL = "phantich@an-hoa.example.org"


def shape(path: str) -> str:
    """The page a URL shows, whatever its record: ids, tokens and codes replaced, the query
    dropped but for the queue's tab (each tab lists other cases)."""
    url = urlsplit(path)
    tab = re.search(r"(?:^|&)(tab=[a-z_]+)", url.query)
    return re.sub(r"/[A-Za-z0-9_-]{16,}|/\d+", "/N", url.path) + (f"?{tab[1]}" if tab else "")


@pytest.fixture
def demo_staff(app) -> dict[str, str]:
    """The demo province, with a password for an account of each role; their e-mails by role."""
    load_demo_province("http://127.0.0.1")
    accounts = {"admin": db.session.scalar(select(User).filter_by(email=DEMO_EMAIL))}
    accounts["manager"] = db.session.scalars(
        select(User).filter_by(role=Role.MANAGER).order_by(User.email)
    ).first()
    # A handler with a case in hand: the queue of a commune whose cases are all finished is empty.
    accounts["handler"] = db.session.scalars(
        select(User).join(Case, Case.handler_id == User.id).where(Case.state == State.IN_PROGRESS)
    ).first()
    accounts["analyst"] = User(email=ANALYST_EMAIL, role=Role.ANALYST)
    db.session.add(accounts["analyst"])
    for user in accounts.values():
        user.password_hash = FAST_HASH
    db.session.commit()
    return {role: user.email for role, user in accounts.items()}


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Thư điện tử").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()


def walk(page: Page, base_url: str) -> tuple[list[str], list[str]]:
    """Open every back-office page a link leads to from the first one (one of each shape) and
    run axe-core on it; return the paths visited and what axe-core found."""
    visited, found = [], []
    for path in staff_pages(page, base_url, urlsplit(page.url).path, shape):
        visited.append(path)
        # The forms folded in <details> (a case's moves, among others) are checked open.
        page.locator("details").evaluate_all("all => all.forEach(d => { d.open = true; })")
        violations = Axe().run(page).response["violations"]
        if violations:
            found.append(f"{path}:\n{describe(violations)}")
        page.keyboard.press("Tab")
        found += [f"{path}: {faint}" for faint in page.evaluate(FAINT_FOCUS)]
    return visited, found


def test_every_staff_page_of_every_role_passes_axe_core(browser, live_server, demo_staff):
    found, visited = [], {}
    for role, email in demo_staff.items():
        context = browser.new_context(base_url=live_server, locale="vi-VN", viewport=DESKTOP)
        context.set_default_timeout(10_000)
        page = context.new_page()
        sign_in(page, email)
        visited[role], violations = walk(page, live_server)
        found += [f"{role} at {v}" for v in violations]
        context.close()
    assert not found, "axe-core and the focus:\n" + "\n".join(found)
    # The walk reached each role's pages, not only the menu.
    expected = {
        "admin": ("/staff/cases/N", "/staff/calendar", "/staff/apikeys", "/staff/units/N/history",
                  "/staff/analysis/forest", "/staff/receipts", "/staff/paper"),
        "manager": ("/staff/cases/N", "/staff/users/N", "/staff/responses/import",
                    "/staff/analysis/ranking"),
        "handler": ("/staff/cases/N", "/staff/comments", "/staff/cases/new"),
        "analyst": ("/staff/analysis/", "/staff/analysis/forest", "/staff/analysis/units/N/trend"),
    }  # fmt: skip
    for role, pages in expected.items():
        shapes = {shape(p) for p in visited[role]}
        for expected_page in pages:
            assert expected_page in shapes, (role, expected_page, sorted(shapes))


# Each form of the back office sent empty (the browser's own checks off, as an old browser or a
# script would), and the pages that say what is wrong with an address: what comes back, with
# its messages beside the fields, passes axe-core too.
FORMS_SENT_EMPTY = [
    ("/staff/points/new", "Add the survey point"),
    ("/staff/points/{point}", "Save"),
    ("/staff/receipts", "Issue codes"),
    ("/staff/paper", "Record"),
    ("/staff/responses/import", "Import"),
    ("/staff/units/import", "Import"),
    ("/staff/users/new", "Create the account"),
    ("/staff/users/{user}", "Set the new password"),
    ("/staff/account/password", "Change the password"),
    ("/staff/calendar", "Save"),
    ("/staff/apikeys", "Create the key"),
    ("/staff/cases/new", "Save the PAKN"),
]
PAGES_SAYING_WHAT_IS_WRONG = [
    "/staff/users?unit=99999",
    "/staff/comments?unit=99999",
    "/staff/cases?unit=99999",
    "/staff/analysis/?from=2024-02-30&to=2024-01-01",
    "/staff/analysis/forest?from=2024-02-30",
]
SEND_EMPTY = """all => all.forEach(f => { f.noValidate = true;
    f.querySelectorAll("input[type=text], input[type=email], input[type=password], textarea")
     .forEach(field => { field.value = ""; }); })"""
SHOWN_WRONG = "[aria-invalid=true], [role=alert], .msg, .error"


def test_the_pages_that_say_what_is_wrong_pass_axe_core(new_context, make_user, tree, point):
    make_user("admin@x.vn", "admin")
    handler = make_user("handler@x.vn", "handler", tree["26734"])
    page = new_context(javascript=True)  # axe-core is a script: it runs only where scripts do
    page.goto("/login")
    page.locator("#email").fill("admin@x.vn")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    found = []
    for path, button in FORMS_SENT_EMPTY:
        path = path.format(point=point.token, user=handler.id)
        page.goto(path)
        page.locator("form").evaluate_all(SEND_EMPTY)
        page.get_by_role("button", name=button, exact=True).click()
        expect(page.locator(SHOWN_WRONG).first, path).to_be_visible()
        violations = Axe().run(page).response["violations"]
        if violations:
            found.append(f"{path} sent empty:\n{describe(violations)}")
    for path in PAGES_SAYING_WHAT_IS_WRONG:
        page.goto(path)
        expect(page.locator(SHOWN_WRONG).first, path).to_be_visible()
        violations = Axe().run(page).response["violations"]
        if violations:
            found.append(f"{path}:\n{describe(violations)}")
    assert not found, "axe-core:\n" + "\n".join(found)
