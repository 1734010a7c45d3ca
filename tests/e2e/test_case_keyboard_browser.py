"""A PAKN case taken through its workflow with the keyboard alone, in a real Chromium: Tab to each
move, Enter or Space to open it, the fields typed in, Enter or Space on its button; the focus is
always visible where it lands, and the page with a move open passes axe-core."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from core.extensions import db
from feedback import services
from feedback.models import Case, Channel, Kind, Topic
from tests.conftest import PASSWORD
from tests.e2e.focus import FOCUS_CONTRAST, FOCUS_SHOWN
from tests.e2e.test_survey_browser import assert_accessible

PRESSES_AT_MOST = 60


@pytest.fixture
def page(browser, live_server, make_user, tree):
    """A manager of the district signed in with the keyboard, in English."""
    make_user("manager@x.vn", "manager", tree["760"])
    context = browser.new_context(base_url=live_server, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login")
    tab_to(page, page.locator("#email"))
    page.keyboard.type("manager@x.vn")
    tab_to(page, page.locator("#password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    yield page
    context.close()


def new_case(unit) -> int:
    case = services.create_case(unit, kind=Kind.REPORT, topic=Topic.DELAY, channel=Channel.WEB,
                                content="Cán bộ hẹn lại nhiều lần.")  # fmt: skip
    db.session.commit()
    return case.id


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until the target has the focus, and see that the focus shows."""
    for _ in range(PRESSES_AT_MOST):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            assert target.evaluate(FOCUS_SHOWN), f"no visible focus on {target}"
            return
    pytest.fail(f"{PRESSES_AT_MOST} presses of Tab never reached {target}")


def open_move(page: Page, name: str, key: str = "Enter") -> Locator:
    """Tab to the move's summary and open it with the key; return its form."""
    summary = page.locator("details.act > summary").filter(has_text=re.compile(f"^{name}$"))
    move = summary.locator("..")
    tab_to(page, summary)
    page.keyboard.press(key)
    expect(move).to_have_attribute("open", "")
    return move.locator("form")


def send(page: Page, form: Locator, name: str, key: str = "Enter") -> None:
    """Tab to the form's button and press the key on it; the page then says it is saved."""
    tab_to(page, form.get_by_role("button", name=name))
    page.keyboard.press(key)
    expect(page.get_by_role("status")).to_contain_text("Saved.")


def state_of(case_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Case, case_id).state


def test_classify_assign_answer_and_publish_with_the_keyboard(page, tree):
    case_id = new_case(tree["26734"])
    page.goto(f"/staff/cases/{case_id}")

    form = open_move(page, "Classify")
    assert_accessible(page, "the case with its classification open")
    tab_to(page, form.get_by_label("Outcome"))
    page.keyboard.type("Within")  # a closed list chooses the option its label starts with
    expect(form.get_by_label("Outcome")).to_have_value("competent")
    send(page, form, "Classify")
    assert state_of(case_id) == "classified"

    send(page, open_move(page, "Assign", key="Space"), "Assign", key="Space")
    assert state_of(case_id) == "in_progress"

    form = open_move(page, "Answer")
    tab_to(page, form.locator("textarea[name=answer]"))
    page.keyboard.type("Đã xử lý xong hồ sơ.")
    send(page, form, "Answer")
    assert state_of(case_id) == "answered"

    form = open_move(page, "Publish")
    assert_accessible(page, "the case with its publication open")
    send(page, form, "Publish")  # the summary and the answer come filled in
    assert state_of(case_id) == "published"


def test_classify_outside_and_forward_with_the_keyboard(page, tree):
    case_id = new_case(tree["26734"])
    page.goto(f"/staff/cases/{case_id}")
    form = open_move(page, "Classify", key="Space")
    tab_to(page, form.get_by_label("Outcome"))
    page.keyboard.type("Outside")
    send(page, form, "Classify", key="Space")
    assert state_of(case_id) == "classified"

    form = open_move(page, "Forward to an outside agency")
    assert_accessible(page, "the case with its forwarding open")
    tab_to(page, form.locator("input[name=agency]"))
    page.keyboard.type("Sở Tư pháp")
    send(page, form, "Forward to an outside agency")
    assert state_of(case_id) == "forwarded"


def test_every_stop_of_the_tab_order_shows_its_focus_clearly(page, tree):
    case_id = new_case(tree["26734"])
    for path in (f"/staff/cases/{case_id}", "/staff/cases"):
        page.goto(path)
        faint, stops = [], 0
        while stops < PRESSES_AT_MOST:
            page.keyboard.press("Tab")
            focused = page.locator(":focus")
            if not focused.count():
                break  # past the last stop: the focus went back to the browser
            stops += 1
            what = focused.evaluate("e => e.outerHTML.slice(0, 80)")
            assert focused.evaluate(FOCUS_SHOWN), f"{path}: no visible focus on {what}"
            contrast = focused.evaluate(FOCUS_CONTRAST)
            if contrast < 3:
                faint.append(f"{what}: {contrast:.2f}:1")
        assert stops > 10, (path, stops)
        assert not faint, f"{path}: focus rings too faint:\n" + "\n".join(faint)


def test_the_first_press_of_tab_offers_to_skip_the_menu(page, tree):
    case_id = new_case(tree["26734"])
    page.goto(f"/staff/cases/{case_id}")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # hidden until then, shown once it has the focus
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the next stop is in the page's content, past the menu
    assert page.evaluate("document.activeElement.closest('main') !== null")
