"""Survey points in a real Chromium without JavaScript: a manager adds one, and retires it only
once the box is ticked; both pages pass axe-core."""

from playwright.sync_api import expect
from sqlalchemy import select

from core.extensions import db
from survey.models import SurveyPoint
from tests.conftest import PASSWORD
from tests.e2e.test_survey_browser import assert_accessible


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_manager_adds_a_point_and_retires_it_after_ticking_the_box(new_context, make_user, tree):
    make_user("manager@x.vn", "manager", tree["760"])
    page = new_context(javascript=False)
    sign_in(page, "manager@x.vn")
    page.goto("/staff/")
    page.get_by_role("link", name="New survey point").click()
    page.locator("#unit").select_option("26737")
    page.locator("#label").fill("Quầy 2 – Tư pháp")
    page.get_by_role("button", name="Add the survey point").click()
    expect(page.get_by_role("status")).to_contain_text("Survey point Quầy 2 – Tư pháp added")
    point = db.session.scalar(select(SurveyPoint))
    row = page.locator(f"#point-{point.token}")
    expect(row.get_by_role("link", name="A4 PDF")).to_be_visible()

    row.get_by_role("link", name="Rename or retire").click()
    retire = page.get_by_role("button", name="Retire this survey point")
    retire.click()  # the box unticked: the browser does not send the form
    assert page.url.endswith(f"/staff/points/{point.token}")
    db.session.expire_all()
    assert db.session.get(SurveyPoint, point.id).active
    page.get_by_role("checkbox").check()
    retire.click()
    expect(page.get_by_role("status")).to_contain_text("Quầy 2 – Tư pháp is retired")
    db.session.expire_all()
    assert not db.session.get(SurveyPoint, point.id).active
    page.goto(f"/s/{point.token}")
    expect(page.get_by_role("alert")).to_contain_text("no longer in use")


def test_the_points_pages_pass_axe_core(new_context, make_user, tree, point):
    make_user("manager@x.vn", "manager", tree["760"])
    page = new_context(javascript=True)  # axe-core is a script: it runs only where scripts do
    sign_in(page, "manager@x.vn")
    for url in ("/staff/", "/staff/points/new", f"/staff/points/{point.token}"):
        page.goto(url)
        assert_accessible(page, url)
