"""A form the server refused puts the keyboard where the mistake is, with scripts off: the page
opens on the summary of its mistakes, whose links take the focus to each field; and the repeated
links of a table say which row they are for."""

import pytest
from playwright.sync_api import Page, expect

from core.models import Role
from tests.conftest import PASSWORD, add_staff

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(new_context):
    """A desktop page, Vietnamese, with JavaScript off."""
    return new_context(javascript=False, locale="vi-VN")


def follow_the_summary(page: Page, first_field: str) -> None:
    """The page opens on the summary; Tab reaches its first link, Enter the field it names (a
    group of radios takes no focus itself: the next Tab reaches its first radio)."""
    expect(page.locator("#errors")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#errors a").first).to_be_focused()
    page.keyboard.press("Enter")
    field = page.locator(f"#{first_field}")
    if field.evaluate("e => e.tagName") == "FIELDSET":
        page.keyboard.press("Tab")
        field = field.locator("input").first
    expect(field).to_be_focused()


def test_a_citizen_refused_is_taken_to_the_mistake_without_scripts(page, point):
    page.goto(f"/pakn/new?point={point.token}")
    page.locator("input[name=kind][value=report]").check()
    page.locator("#topic").select_option("delay")
    page.locator("#content").fill("Cán bộ hẹn lại nhiều lần.")
    page.locator("#email").fill("x@")  # not an address, and no consent given for it
    page.locator("#pakn button[type=submit]").click()
    follow_the_summary(page, "email")
    expect(page.locator("#email")).to_have_value("x@")


def test_staff_refused_are_taken_to_the_mistake_without_scripts(page, tree, point):
    add_staff(tree, {"admin": ("admin@x.vn", Role.ADMIN, None)})
    page.goto("/login")
    page.locator("#email").fill("admin@x.vn")
    page.locator("#password").fill("not the password")
    page.locator("main button[type=submit]").click()
    expect(page.locator("p.flash.error")).to_be_focused()

    page.locator("#password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.goto("/staff/cases/new")
    page.locator("#topic").select_option("delay")
    page.locator("#content").fill("Cán bộ hẹn lại nhiều lần.")
    page.locator("#intake button[type=submit]").click()  # the kind not chosen
    follow_the_summary(page, "kind")

    page.goto("/staff/users/new")
    page.locator("#email").fill("không phải địa chỉ")
    page.locator("#role").select_option("analyst")
    page.locator("main form button[type=submit]").click()
    follow_the_summary(page, "email")


def test_the_links_on_each_row_name_their_point(page, tree, point):
    add_staff(tree, {"admin": ("admin@x.vn", Role.ADMIN, None)})
    page.goto("/login")
    page.locator("#email").fill("admin@x.vn")
    page.locator("#password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.goto("/staff/")
    row = page.locator(f"#point-{point.token}")
    link = row.get_by_role("link", name="Quầy 1").first
    expect(link).to_have_accessible_name(link.get_attribute("aria-label"))
    assert "Quầy 1" in link.get_attribute("aria-label")
    # The header's Sign out reads as the links beside it, not as a bare word.
    sign_out = page.locator("header button[type=submit]")
    style = sign_out.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert style == "underline"
