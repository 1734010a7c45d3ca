"""Staff intake in a real Chromium without JavaScript: the language switch keeps the letter."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.extensions import db
from core.models import User
from feedback.models import Case
from tests.conftest import PASSWORD

CONTENT = "Cán bộ hẹn lại ba lần, không nói rõ lý do."


@pytest.fixture
def page(new_context):
    """A desktop page, Vietnamese, with JavaScript off."""
    return new_context(javascript=False, locale="vi-VN")


def test_the_intake_switch_keeps_the_letter_and_the_account_remembers(page, make_user, tree):
    make_user("handler@x.vn", "handler", tree["26734"])
    page.goto("/login")
    page.locator("#email").fill("handler@x.vn")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto("/staff/cases/new")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.locator("#channel").select_option("paper")
    page.locator("#content").fill(CONTENT)
    page.locator("#name").fill("Jane Roe")
    page.locator("#email").fill("jane@example.org")
    page.locator("input[name=locale][value=en]").check()
    # The kind and the topic (required) not chosen yet: the switch must not stop at them.

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith("/staff/cases/new")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator("#content")).to_have_value(CONTENT)
    expect(page.locator("#name")).to_have_value("Jane Roe")
    expect(page.locator("#channel")).to_have_value("paper")
    expect(page.locator("input[name=locale][value=en]")).to_be_checked()
    assert db.session.scalars(select(Case)).all() == []
    db.session.expire_all()
    assert db.session.scalar(select(User.locale)) == "en"

    page.locator("input[name=kind][value=report]").check()
    page.locator("#topic").select_option("delay")
    page.locator("#consent").check()
    page.get_by_role("button", name="Save the PAKN").click()
    expect(page.get_by_role("status")).to_contain_text("The PAKN is entered.")
    [case] = db.session.scalars(select(Case)).all()
    assert (case.locale, case.channel, case.content) == ("en", "paper", CONTENT)
