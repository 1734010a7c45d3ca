"""A forgotten password in a real Chromium: from the sign-in page's link to
the e-mailed link (through a real SMTP server) to signing in with the new password; every page
of the way passes axe-core, and the link works once."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from core.reset_mailer import send_due
from tests.conftest import PASSWORD
from tests.core.reset_helpers import LINK
from tests.e2e.conftest import serving
from tests.e2e.test_survey_browser import assert_accessible

NEW_PASSWORD = "a new and long password"


@pytest.fixture(scope="module")
def mail_server(database_url, tmp_path_factory):
    """The app served with mail on: the sign-in page offers the link and the pages exist. Its
    e-mails are queued in the database, and the test sends them as cron would."""
    # The tests' app's secret key: a link keeps the account's keyed session mark.
    settings = {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_SECURITY": "none",
        "MAIL_FROM": "Hài Lòng <pakn@example.gov.vn>",
        "SECRET_KEY": "test-secret",
    }
    with serving(database_url, tmp_path_factory.mktemp("mail_server"), **settings) as url:
        yield url


@pytest.fixture
def page(browser, mail_server):
    # JavaScript on: axe-core's run hung on these pages in a context without it.
    context = browser.new_context(base_url=mail_server, locale="en-GB")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def sign_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_handler_resets_a_forgotten_password_with_the_e_mailed_link(
    page, mailbox, make_user, tree
):
    make_user("handler@x.vn", "handler", tree["26734"])
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    assert_accessible(page, "asking for a link")
    page.get_by_label("E-mail").fill("Handler@X.vn")
    page.get_by_role("button", name="Send the link").click()
    assert urlsplit(page.url).path == "/login"
    expect(page.get_by_role("status")).to_contain_text("If an active account uses this address")
    assert mailbox.messages == []  # the request only queued it

    assert send_due().sent == 1  # as cron's feedback mail or users mail would
    _sender, recipients, message, _envelope = mailbox.only()
    assert recipients == ["handler@x.vn"]
    [token] = LINK.findall(message.get_body(("plain",)).get_content().replace("\r\n", "\n"))
    link = f"/login/reset/{token}"

    answer = page.goto(link)
    assert answer.status == 200 and answer.headers["referrer-policy"] == "no-referrer"
    expect(page.get_by_text("For the account handler@x.vn.")).to_be_visible()
    assert_accessible(page, "choosing a new password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    assert urlsplit(page.url).path == "/login"
    expect(page.get_by_role("status")).to_contain_text("Sign in with the new password.")

    sign_in(page, "handler@x.vn", PASSWORD)  # the old one no longer works
    assert urlsplit(page.url).path == "/login"
    sign_in(page, "handler@x.vn", NEW_PASSWORD)
    assert urlsplit(page.url).path.startswith("/staff")

    again = page.goto(link)
    assert again.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    assert_accessible(page, "a used link")
    page.get_by_role("link", name="Ask for a new link").click()
    assert urlsplit(page.url).path == "/login/reset"
