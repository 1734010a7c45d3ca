"""A staff member's language: chosen with the switch, kept on the account, used at sign-in."""

from sqlalchemy import select

from core.extensions import db
from core.models import User
from tests.conftest import login

ENGLISH_NAV = "Sign out"
VIETNAMESE_NAV = "Đăng xuất"


def account_locale(email: str) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(User.locale).where(User.email == email))


def test_the_switch_link_is_kept_on_the_account_and_used_at_the_next_sign_in(
    client, app, make_user
):
    make_user("a@x.vn", "admin")
    first = client
    login(first, "a@x.vn")
    assert VIETNAMESE_NAV in first.get("/staff/").get_data(as_text=True)
    assert account_locale("a@x.vn") is None  # nothing chosen yet

    switched = first.get("/lang/en?next=/staff/")
    assert switched.status_code == 302 and switched.headers["Location"] == "/staff/"
    assert account_locale("a@x.vn") == "en"

    # Another browser, which asks for Vietnamese and has no cookie: English once signed in.
    other = app.test_client()  # the suite's client class: each request in its own context
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "vi"
    assert '<html lang="vi">' in other.get("/login").get_data(as_text=True)
    login(other, "a@x.vn")
    html = other.get("/staff/").get_data(as_text=True)
    assert '<html lang="en">' in html and ENGLISH_NAV in html
    assert other.get_cookie("lang") is None  # the account decided, not a cookie

    # Signed in, the account's choice goes before an older cookie of this browser.
    other.set_cookie("lang", "vi")
    assert '<html lang="en">' in other.get("/staff/").get_data(as_text=True)


def test_a_forms_switch_button_still_wins_and_is_kept_on_the_account(client, make_user, tree):
    make_user("h@x.vn", "handler", tree["26734"])
    login(client, "h@x.vn")
    client.get("/lang/en")
    assert account_locale("h@x.vn") == "en"
    # The PAKN form, half filled in, switched with its button.
    page = client.post(
        "/pakn/new?unit=26734", data={"content": "Chờ lâu.", "switch_language": "vi"}
    )
    assert page.status_code == 200
    assert '<html lang="vi">' in page.get_data(as_text=True)
    assert account_locale("h@x.vn") == "vi"
    assert '<html lang="vi">' in client.get("/staff/").get_data(as_text=True)


def test_an_unknown_language_is_refused_and_changes_nothing(client, make_user, tree):
    make_user("h@x.vn", "handler", tree["26734"])
    login(client, "h@x.vn")
    client.get("/lang/en")
    refused = client.get("/lang/fr?next=/staff/")
    assert refused.status_code == 404
    assert "This language is not offered: choose Tiếng Việt or English." in refused.get_data(
        as_text=True
    )
    assert account_locale("h@x.vn") == "en" and client.get_cookie("lang").value == "en"


def test_switching_signed_out_touches_no_account(client, make_user, tree):
    make_user("h@x.vn", "handler", tree["26734"])
    assert client.get("/lang/en").status_code == 302
    assert client.get_cookie("lang").value == "en"
    assert account_locale("h@x.vn") is None


def test_the_language_chosen_before_signing_in_becomes_the_accounts_choice(client, app, make_user):
    make_user("a@x.vn", "admin")
    client.get("/lang/en?next=/login")  # the switch on the sign-in page: only a cookie yet
    assert account_locale("a@x.vn") is None
    login(client, "a@x.vn")
    assert account_locale("a@x.vn") == "en"

    # Once chosen, another browser's cookie at sign-in changes nothing.
    other = app.test_client()
    other.set_cookie("lang", "vi")
    login(other, "a@x.vn")
    assert account_locale("a@x.vn") == "en"
    assert '<html lang="en">' in other.get("/staff/").get_data(as_text=True)


def test_signing_in_without_a_language_cookie_leaves_the_account_unchosen(client, make_user):
    make_user("a@x.vn", "admin")
    client.set_cookie("lang", "fr")  # not offered: ignored, as everywhere
    login(client, "a@x.vn")
    assert account_locale("a@x.vn") is None
