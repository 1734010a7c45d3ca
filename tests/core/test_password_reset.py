"""Self-service password reset: from the sign-in page to an e-mailed link to a new password,
with a real SMTP server (aiosmtpd), the real forms and CSRF on; the clock held where it counts."""

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import AccountEvent, User
from core.reset_mailer import send_due
from tests.conftest import PASSWORD, login, signed_in
from tests.core.reset_helpers import ASK, NEW_PASSWORD, ask, choose, delivered_link, rows

pytestmark = pytest.mark.usefixtures("in_english")

ANSWER = (
    "If an active account uses this address, an e-mail with a link is on its way; "
    "the link works once, for 30 minutes."
)


def test_the_whole_way_from_the_sign_in_page_to_signing_in_with_the_new_password(
    client, app, mailbox, reset_accounts, reset_clock
):
    handler = reset_accounts["handler"]
    login_page = client.get("/login").get_data(as_text=True)
    assert f'href="{ASK}">Forgot your password?</a>' in login_page

    answer = ask(client, "Handler@X.vn ")  # as typed: any case, a space from the keyboard
    assert answer.status_code == 303 and answer.headers["Location"] == "/login"
    assert mailbox.messages == []  # nothing sent in the request: cron sends it
    assert ANSWER in client.get("/login").get_data(as_text=True)

    [row] = rows()
    assert row.user_id == handler.id and row.locale == "en" and row.used_at is None
    assert row.expires_at == reset_clock.now + timedelta(minutes=30)
    token, message = delivered_link(mailbox, reset_clock.now + timedelta(seconds=50))
    assert message["To"] == "handler@x.vn" and message["Subject"] == "Reset your password"
    assert message["Content-Language"] == "en"
    text = message.get_body(("plain",)).get_content()
    assert "The link works once, until 2 Mar 2026, 8:37 AM (Vietnam time)." in text
    assert "If you did not ask for it, ignore this e-mail" in text
    assert len(token) == 43
    [row] = rows()
    # Only the hash stays once the e-mail has left: no column holds the token.
    assert row.mail_token is None and row.sent_at is not None
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(getattr(row, c.key)) for c in row.__table__.columns)

    page = client.get(f"{ASK}/{token}")
    assert page.status_code == 200 and "For the account handler@x.vn." in page.get_data(
        as_text=True
    )
    done = choose(client, token)
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    assert "Sign in with the new password." in client.get("/login").get_data(as_text=True)
    assert rows()[0].used_at == reset_clock.now

    assert login(client, "handler@x.vn", PASSWORD).status_code == 200  # the old one: refused
    assert login(client, "handler@x.vn", NEW_PASSWORD).status_code == 302
    assert client.get("/staff/account/password").status_code == 200


def test_every_address_gets_the_same_answer_and_only_an_active_account_a_link(
    client, app, mailbox, reset_accounts, reset_clock
):
    answers = []
    for n, email in enumerate(("handler@x.vn", "gone@x.vn", "nobody@x.vn")):
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{n + 1}"
        response = ask(client, email)
        page = client.get("/login").get_data(as_text=True)
        csrf_free = re.sub(r'name="csrf_token" value="[^"]+"', "", page)
        answers.append((response.status_code, response.headers["Location"], csrf_free))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 303 and ANSWER in answers[0][2]
    assert [r.user.email for r in rows()] == ["handler@x.vn"]
    assert send_due(reset_clock.now).sent == 1
    assert [recipients for _s, recipients, _m, _e in mailbox.messages] == [["handler@x.vn"]]


def test_requests_are_limited_per_address_asked_for_whether_an_account_or_not(
    client, app, mailbox, reset_accounts, reset_clock
):
    for email in ("handler@x.vn", "nobody@x.vn"):
        for n in range(3):  # from three clients: the address's own limit
            client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
            assert ask(client, email).status_code == 303
        client.environ_base["REMOTE_ADDR"] = "198.51.100.9"
        refused = ask(client, email)
        assert refused.status_code == 429
        assert "Too many requests for a link. Please wait a while and try again." in (
            refused.get_data(as_text=True)
        )
    assert len(rows()) == 3  # the handler's three; the refused request queued nothing
    reset_clock.advance(hours=2)
    assert ask(client, "handler@x.vn").status_code == 303
    assert len(rows()) == 4


def test_requests_are_limited_per_client_address(client, app, mailbox, reset_accounts, reset_clock):
    client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    for n in range(10):
        assert ask(client, f"someone{n}@x.vn").status_code == 303
    assert ask(client, "handler@x.vn").status_code == 429
    assert rows() == []
    client.environ_base["REMOTE_ADDR"] = "192.0.2.8"  # another client is not held back
    assert ask(client, "handler@x.vn").status_code == 303
    assert len(rows()) == 1


def test_a_new_password_forgives_the_failures_that_locked_the_account_here(
    client, app, mailbox, reset_accounts, reset_clock, monkeypatch
):
    from core import auth

    monkeypatch.setattr(auth, "utcnow", lambda: reset_clock.now)
    for _n in range(5):
        login(client, "handler@x.vn", "not the password")
    assert login(client, "handler@x.vn", PASSWORD).status_code == 200  # locked from here
    ask(client, "handler@x.vn")
    token, _message = delivered_link(mailbox, reset_clock.now)
    assert choose(client, token).status_code == 303
    assert login(client, "handler@x.vn", NEW_PASSWORD).status_code == 302


def test_a_link_expires(client, app, mailbox, reset_accounts, reset_clock):
    ask(client, "handler@x.vn")
    token, _message = delivered_link(mailbox, reset_clock.now)
    reset_clock.advance(minutes=29, seconds=59)
    assert client.get(f"{ASK}/{token}").status_code == 200
    reset_clock.advance(seconds=1)
    page = client.get(f"{ASK}/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 410 and "This link does not work" in html
    assert f'href="{ASK}">Ask for a new link</a>' in html
    assert choose(client, token).status_code == 410
    assert login(client, "handler@x.vn", PASSWORD).status_code == 302  # nothing changed
    assert rows()[0].used_at is None


def test_a_link_works_once(client, app, mailbox, reset_accounts, reset_clock):
    ask(client, "handler@x.vn")
    token, _message = delivered_link(mailbox, reset_clock.now)
    assert choose(client, token).status_code == 303
    assert client.get(f"{ASK}/{token}").status_code == 410
    assert choose(client, token, "yet another password").status_code == 410
    assert login(client, "handler@x.vn", "yet another password").status_code == 200
    assert login(client, "handler@x.vn", NEW_PASSWORD).status_code == 302


def test_a_new_password_set_by_an_administrator_kills_the_link(
    client, app, mailbox, reset_accounts, reset_clock
):
    ask(client, "handler@x.vn")
    token, _message = delivered_link(mailbox, reset_clock.now)
    admin = signed_in(app, "admin@x.vn")
    user_page = f"/staff/users/{reset_accounts['handler'].id}"
    html = admin.get(user_page).get_data(as_text=True)
    fields = {"csrf_token": html.split('name="csrf_token" value="')[1].split('"')[0]}
    new = {"password": "from the admin 1", "confirm": "from the admin 1"}
    given = admin.post(f"{user_page}/password", data=fields | new)
    assert given.status_code == 303
    assert client.get(f"{ASK}/{token}").status_code == 410
    assert choose(client, token).status_code == 410
    assert login(client, "handler@x.vn", "from the admin 1").status_code == 302


def test_a_deactivated_account_s_link_dies_and_its_mail_is_not_sent(
    client, app, mailbox, reset_accounts, reset_clock
):
    ask(client, "handler@x.vn")
    first, _message = delivered_link(mailbox, reset_clock.now)
    ask(client, "handler@x.vn")  # a second link, its e-mail not sent yet
    result = app.test_cli_runner().invoke(args=["users", "deactivate", "handler@x.vn"])
    assert result.exit_code == 0, result.output
    assert client.get(f"{ASK}/{first}").status_code == 410
    run = send_due(reset_clock.now + timedelta(minutes=2))
    assert (run.sent, run.dropped) == (0, 1) and mailbox.messages == []
    assert [r.mail_token for r in rows()] == [None, None]


def test_the_new_password_ends_every_session_and_is_in_the_history(
    client, app, mailbox, reset_accounts, reset_clock
):
    elsewhere = signed_in(app, "handler@x.vn")
    assert elsewhere.get("/staff/account/password").status_code == 200
    ask(client, "handler@x.vn")
    token, _message = delivered_link(mailbox, reset_clock.now)
    assert choose(client, token).status_code == 303
    gone = elsewhere.get("/staff/account/password")
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/login")

    handler = db.session.get(User, reset_accounts["handler"].id)
    [event] = db.session.scalars(select(AccountEvent).where(AccountEvent.user_id == handler.id))
    assert (event.action, event.actor_id, event.detail) == ("password_reset", handler.id, None)
    admin = signed_in(app, "admin@x.vn")
    history = admin.get(f"/staff/users/{handler.id}").get_data(as_text=True)
    assert "Password reset with an e-mailed link" in history.split("Change history")[1]
    result = app.test_cli_runner().invoke(args=["users", "history", "handler@x.vn"])
    assert result.exit_code == 0
    assert result.output.split("\t")[1:4] == ["handler@x.vn", "password_reset", "-\n"]


def test_with_mail_off_there_is_no_link_and_no_page(client, app, reset_accounts):
    assert not app.config["MAIL_SERVER"]
    html = client.get("/login").get_data(as_text=True)
    assert "Forgot your password? Ask an administrator or your manager for a new one." in html
    assert ASK not in html
    assert client.get(ASK).status_code == 404
    assert client.get(f"{ASK}/{'a' * 43}").status_code == 404


def test_feedback_mail_from_cron_sends_the_links_too(client, app, mailbox, reset_accounts):
    """A site whose cron runs `feedback mail` alone, as before this feature, sends them."""
    assert ask(client, "handler@x.vn").status_code == 303
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["feedback", "mail", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"link {rows()[0].id}: to h" in dry.output and mailbox.messages == []

    result = runner.invoke(args=["feedback", "mail"])
    assert result.exit_code == 0, result.output
    assert "Sent 0 e-mails;" in result.output  # no citizen's
    assert "Sent 1 password-reset or invitation e-mail;" in result.output
    _sender, _recipients, message, _envelope = mailbox.only()
    assert message["To"] == "handler@x.vn" and message["Subject"] == "Reset your password"
    assert rows()[0].sent_at is not None and rows()[0].mail_token is None
    again = runner.invoke(args=["feedback", "mail"])
    assert "Sent 0 password-reset or invitation e-mails;" in again.output and mailbox.messages == []
