"""Password reset: hostile or wrong input is refused with a message or a 4xx and changes nothing;
the link's pages keep the link to themselves; the page's language is the e-mail's."""

from datetime import timedelta

import pytest

from core.reset_mailer import send_due
from tests.conftest import PASSWORD, RequestClient, login
from tests.core.reset_helpers import ASK, ask, choose, delivered_link, form_of, rows

pytestmark = pytest.mark.usefixtures("in_english")


@pytest.fixture
def token(client, mailbox, reset_accounts, reset_clock):
    """A good link of the handler's, as its e-mail delivered it."""
    ask(client, "handler@x.vn")
    return delivered_link(mailbox, reset_clock.now)[0]


def unchanged(client) -> bool:
    """The handler's password is still the suite's, and no link was used."""
    return login(client, "handler@x.vn", PASSWORD).status_code == 302 and all(
        r.used_at is None for r in rows()
    )


@pytest.mark.parametrize(("typed", "message"), [
    ("handler@x.vn" + "x" * 10_000, "Write at most 254 characters."),
    ("handler@x.vn\r\nBcc: a@b.vn", "This is not an e-mail address."),
    ("handler@x.vn\u202e", "This is not an e-mail address."),
    ("", "This field is required."),
])  # fmt: skip
def test_an_address_that_is_none_is_refused_and_nothing_queued(
    client, mailbox, reset_accounts, reset_clock, typed, message
):
    refused = ask(client, typed)
    assert refused.status_code == 422
    assert message in refused.get_data(as_text=True)
    assert rows() == []


def test_a_nul_a_missing_csrf_token_a_wrong_method_or_a_huge_body_is_a_4xx(
    client, mailbox, reset_accounts, reset_clock
):
    assert ask(client, "handler@x.vn\x00").status_code == 400
    assert client.post(ASK, data={"email": "handler@x.vn"}).status_code == 400  # no CSRF
    assert client.put(ASK, data={"email": "handler@x.vn"}).status_code == 405
    assert client.delete(ASK).status_code == 405
    huge = {"csrf_token": "x", "email": "a" * 70_000}
    assert client.post(ASK, data=huge).status_code == 413
    assert rows() == []


@pytest.mark.parametrize("wrong", ["x" * 5000, "a" * 42, "a" * 44, "%21" * 43, "a" * 42 + "="])
def test_a_malformed_or_unknown_link_is_a_clear_404(client, token, wrong):
    for response in (client.get(f"{ASK}/{wrong}"), choose(client, wrong)):
        html = response.get_data(as_text=True)
        assert response.status_code == 404 and "This link does not work" in html
        assert "Ask for a new link" in html
    assert client.get(f"{ASK}/{'A' * 43}").status_code == 404  # the right shape, made by none
    assert unchanged(client)


def test_the_link_s_page_refuses_a_wrong_method_or_no_csrf_and_changes_nothing(client, token):
    url = f"{ASK}/{token}"
    assert client.delete(url).status_code == 405
    assert client.put(url, data={"password": "x" * 12, "confirm": "x" * 12}).status_code == 405
    fresh = RequestClient(client.application)  # no session: no CSRF token
    assert fresh.post(url, data={"password": "x" * 12, "confirm": "x" * 12}).status_code == 400
    assert client.get(url).status_code == 200 and unchanged(client)


@pytest.mark.parametrize(("password", "confirm", "message"), [
    ("short one", "short one", "Write between 10 and 200 characters."),
    ("x" * 201, "x" * 201, "Write between 10 and 200 characters."),
    ("a long new password", "another long one", "The two passwords are not the same."),
    ("", "", "This field is required."),
])  # fmt: skip
def test_a_refused_password_says_why_and_the_link_still_works(
    client, token, password, confirm, message
):
    refused = choose(client, token, password, confirm)
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    assert password not in refused.get_data(as_text=True) or not password
    assert unchanged(client) and client.get(f"{ASK}/{token}").status_code == 200


def test_the_link_s_pages_send_no_referrer_and_are_not_cached(client, token):
    for url, status in ((ASK, 200), (f"{ASK}/{token}", 200), (f"{ASK}/{'A' * 43}", 404)):
        response = client.get(url)
        assert response.status_code == status
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/login").headers["Referrer-Policy"] == "same-origin"


def test_a_link_asked_for_in_vietnamese_comes_in_vietnamese(app, mailbox, reset_accounts,
                                                             reset_clock):  # fmt: skip
    app.test_client_class = RequestClient
    browser = app.test_client()  # no language asked for: Vietnamese, the default
    page = browser.get(ASK).get_data(as_text=True)
    assert '<html lang="vi">' in page
    browser.post(ASK, data=form_of(page, ASK) | {"email": "handler@x.vn"})
    assert rows()[0].locale == "vi"
    _token, message = delivered_link(mailbox, reset_clock.now)
    assert message["Content-Language"] == "vi"
    text = message.get_body(("plain",)).get_content()
    assert "08:37 2/3/2026" in text  # Vietnam's time, the Vietnamese date, as pages write it


def test_the_vietnamese_pages_and_e_mail_say_it_in_vietnamese(app, mailbox, reset_accounts,
                                                              reset_clock):  # fmt: skip
    app.test_client_class = RequestClient
    browser = app.test_client()
    assert ">Quên mật khẩu?</a>" in browser.get("/login").get_data(as_text=True)
    page = browser.get(ASK).get_data(as_text=True)
    assert "Đặt lại mật khẩu" in page and "Gửi đường liên kết" in page
    assert "Send the link" not in page
    browser.post(ASK, data=form_of(page, ASK) | {"email": "handler@x.vn"})
    _token, message = delivered_link(mailbox, reset_clock.now)
    assert message["Subject"] == "Đặt lại mật khẩu"
    text = message.get_body(("plain",)).get_content()
    assert "Đường liên kết chỉ dùng được một lần, đến 08:37 2/3/2026 (giờ Việt Nam)." in text
    assert "The link works once" not in text and "ignore this e-mail" not in text


def test_the_sender_waits_out_a_server_that_cannot_be_reached(
    app, client, mailbox, reset_accounts, reset_clock
):
    ask(client, "handler@x.vn")
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 1  # nothing listens there
    run = send_due(reset_clock.now)
    assert run.unreachable and run.retrying == 1
    [row] = rows()
    assert row.mail_token is not None and row.last_error.startswith("unreachable:")
    app.config["MAIL_PORT"] = port
    assert send_due(reset_clock.now + timedelta(seconds=30)).sent == 0  # not due yet
    assert send_due(reset_clock.now + timedelta(minutes=1)).sent == 1
    assert rows()[0].mail_token is None


def test_an_address_refused_for_good_is_given_up_and_the_token_cleared(
    client, mailbox, reset_accounts, reset_clock
):
    ask(client, "handler@x.vn")
    mailbox.refuse.add("handler@x.vn")
    run = send_due(reset_clock.now)
    assert run.sent == 0 and len(run.given_up) == 1 and "h…@x.vn" in run.given_up[0]
    [row] = rows()
    assert row.mail_token is None and row.sent_at is None and row.last_error.startswith("550")


def test_users_mail_sends_says_what_it_did_and_forgets_old_links(
    app, client, mailbox, reset_accounts, reset_clock, monkeypatch
):
    from core import reset_mailer

    runner = app.test_cli_runner()
    ask(client, "handler@x.vn")
    monkeypatch.setattr(reset_mailer, "utcnow", lambda: reset_clock.now)
    dry = runner.invoke(args=["users", "mail", "--dry-run"])
    assert dry.exit_code == 0 and mailbox.messages == []
    assert f"link {rows()[0].id}: to h…@x.vn" in dry.output
    done = runner.invoke(args=["users", "mail"])
    assert done.exit_code == 0, done.output
    assert "Sent 1 password-reset or invitation e-mail; 0 to try again" in done.output
    assert len(mailbox.messages) == 1
    monkeypatch.setattr(reset_mailer, "utcnow", lambda: reset_clock.now + timedelta(days=8))
    later = runner.invoke(args=["users", "mail"])
    assert "1 old link deleted" in later.output and rows() == []
    app.config["MAIL_SERVER"] = ""
    off = runner.invoke(args=["users", "mail"])
    assert off.exit_code == 0 and "Mail is off" in off.output


def test_of_two_requests_at_once_with_one_link_only_the_first_sets_a_password(
    app, client, token, reset_clock
):
    """The second holds the link as it read it, unused; the conditional UPDATE refuses it."""
    from sqlalchemy import update

    from core import password_reset
    from core.extensions import db
    from core.models import PasswordReset

    _state, stale = password_reset.find(token)
    assert stale.used_at is None
    with db.engine.begin() as conn:  # the other request, committed first
        conn.execute(update(PasswordReset).values(used_at=reset_clock.now))
    assert password_reset.use(stale, "the second one's password") is False
    db.session.rollback()
    assert login(client, "handler@x.vn", "the second one's password").status_code == 200
