"""A new account in a real Chromium, with mail off: an administrator creates it and is shown its
invitation's link once; the new person opens it, chooses a password and signs in with it. Every
page of the way passes axe-core (a script: JavaScript is on), and the link works once."""

from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.e2e.test_points_browser import sign_in
from tests.e2e.test_survey_browser import assert_accessible

NEW_PASSWORD = "chosen by nobody else"


def test_an_invited_person_chooses_their_own_password(new_context, make_user, tree):
    make_user("admin@x.vn", "admin")
    admin = new_context(javascript=True)
    sign_in(admin, "admin@x.vn")
    admin.goto("/staff/users/new")
    expect(admin.get_by_label("New password")).to_have_count(0)
    assert_accessible(admin, "the new-account page")
    admin.locator("#email").fill("lan@x.vn")
    admin.locator("#role").select_option("handler")
    admin.locator("#unit").select_option("26737")
    admin.get_by_role("button", name="Create the account").click()
    expect(admin.get_by_text("Mail is off: give this link to lan@x.vn yourself")).to_be_visible()
    link = admin.locator("#invitation-link").inner_text()
    assert_accessible(admin, "the account's page with its invitation's link")
    admin.reload()
    expect(admin.locator("#invitation-link")).to_have_count(0)  # shown once
    expect(admin.get_by_text("Invitation link shown to its creator at")).to_be_visible()

    person = new_context(javascript=True)
    sign_in(person, "lan@x.vn")  # no password opens it yet
    assert urlsplit(person.url).path == "/login"
    person.goto(link)
    expect(person.get_by_role("heading", level=1)).to_have_text("Welcome: choose your password")
    assert_accessible(person, "the welcome page")
    person.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    person.get_by_label("New password again").fill(NEW_PASSWORD)
    person.get_by_role("button", name="Set my password").click()
    expect(person.get_by_role("status")).to_contain_text("Your password is set.")
    person.locator("#email").fill("lan@x.vn")
    person.locator("#password").fill(NEW_PASSWORD)
    person.get_by_role("button", name="Sign in").click()
    assert urlsplit(person.url).path.startswith("/staff")

    again = person.goto(link)
    assert again.status == 410
    expect(person.get_by_text("Ask whoever made your account")).to_be_visible()
    admin.reload()
    expect(admin.get_by_text("Invitation accepted: first password chosen")).to_be_visible()
