"""Invitations from the command line (`users create --invite`, `users invite`), where the
account's page says each one stands, and the resend button refused where it makes no sense."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.accounts import create_account, end_sessions, set_active
from core.extensions import db
from core.models import AccountEvent, PasswordReset, Role, User, utcnow
from core.reset_mailer import send_due
from tests.conftest import RequestClient, csrf_for, login, page_forms, signed_in
from tests.core.reset_helpers import LINK
from tests.core.test_invitations import NEW_PASSWORD, choose, links


def invited(email="lan@x.vn") -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_users_create_invite_with_mail_off_prints_the_link_that_works_once(
    app, client, reset_accounts, reset_clock
):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "Lan@X.vn", "--role", "handler", "--unit", "26734", "--invite"]
    )
    assert result.exit_code == 0, result.output
    assert "Created handler Lan@x.vn for 26734" in result.output
    assert "Mail is off: give the person this link; it works once, for 7 days" in result.output
    [token] = LINK.findall(result.output)
    user = invited("Lan@x.vn")
    assert not user.has_password and links()[0].locale == "vi" and links()[0].mail_token is None
    assert choose(client, token).status_code == 303
    assert login(client, "lan@x.vn", NEW_PASSWORD).status_code == 302
    listed = runner.invoke(args=["users", "list"]).output
    assert "Lan@x.vn\thandler\t26734\tactive\t" in listed


def test_users_create_invite_with_mail_on_queues_it_for_users_mail(app, mailbox, reset_accounts):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "lan@x.vn", "--role", "analyst", "--invite"])
    assert result.exit_code == 0, result.output
    assert "The invitation is queued: `users mail` (cron) e-mails it" in result.output
    assert not LINK.search(result.output) and mailbox.messages == []
    assert "lan@x.vn\tanalyst\t-\tinvited\t" in runner.invoke(args=["users", "list"]).output
    sent = runner.invoke(args=["users", "mail"])
    assert "Sent 1 password-reset or invitation e-mail;" in sent.output
    _sender, _to, message, _envelope = mailbox.only()
    assert message["Subject"] == "Tài khoản cán bộ mới: hãy chọn mật khẩu"  # the default language
    events = db.session.scalars(select(AccountEvent).order_by(AccountEvent.id)).all()
    assert [(e.action, e.actor_id) for e in events] == [("created", None), ("invited", None)]


def test_users_create_without_invite_still_reads_the_password(app, reset_accounts):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "lan@x.vn", "--role", "analyst"], input="a typed password\n"
    )
    assert result.exit_code == 0, result.output
    user = invited()
    assert user.has_password and user.check_password("a typed password") and links() == []


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (
            ["users", "create", "lan@x.vn", "--role", "handler", "--invite"],
            "a handler needs --unit",
        ),
        (["users", "create", "handler@x.vn", "--role", "analyst", "--invite"], "already exists"),
        (["users", "create", "not an address", "--role", "analyst", "--invite"], "not a valid"),
        (["users", "invite", "handler@x.vn"], "handler@x.vn has a password already"),
        (["users", "invite", "gone@x.vn"], "has a password already"),
        (["users", "invite", "nobody@x.vn"], "no account for 'nobody@x.vn'"),
    ],
)
def test_the_commands_refuse_what_makes_no_sense_and_write_nothing(
    app, reset_accounts, args, problem
):
    before = (db.session.scalars(select(User.password_hash)).all(), links())
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1 and problem in result.output
    assert (db.session.scalars(select(User.password_hash)).all(), links()) == before


def test_users_invite_sends_another_and_the_first_link_dies(
    app, client, reset_accounts, reset_clock
):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["users", "create", "lan@x.vn", "--role", "analyst", "--invite"])
    second = runner.invoke(args=["users", "invite", "LAN@x.vn"])
    assert second.exit_code == 0 and "Invited lan@x.vn." in second.output
    assert choose(client, LINK.findall(first.output)[0]).status_code == 410
    assert choose(client, LINK.findall(second.output)[0]).status_code == 303
    set_active(invited(), False, actor=None)
    db.session.commit()
    deactivated = runner.invoke(args=["users", "invite", "lan@x.vn"])
    assert deactivated.exit_code == 1 and "has a password already" in deactivated.output


def page_of(admin, user) -> str:
    return admin.get(f"/staff/users/{user.id}").get_data(as_text=True)


def test_the_account_page_says_where_the_invitation_stands(
    app, mailbox, reset_accounts, reset_clock
):
    admin = signed_in(app, "admin@x.vn")
    demo = create_account("canbo@x.vn", Role.ANALYST, None, None, actor=None)
    db.session.commit()
    html = page_of(admin, demo)
    assert "<dd>no password yet</dd>" in html and "No invitation yet" in html
    assert "no password yet" in admin.get("/staff/users").get_data(as_text=True)
    form = next(f for f in page_forms(html) if f["action"].endswith("/invite"))["fields"]
    assert admin.post(f"/staff/users/{demo.id}/invite", data=form).status_code == 303
    assert "waiting to be e-mailed; its link works until" in page_of(admin, demo)
    send_due(reset_clock.now)
    assert "Invitation e-mailed at" in page_of(admin, demo)
    end_sessions(invited("canbo@x.vn"), actor=None)
    db.session.commit()
    assert "no longer works: the account was deactivated or its sessions ended" in page_of(
        admin, demo
    )
    reset_clock.advance(days=8)
    assert "expired unused at" in page_of(admin, demo)
    mailbox.refuse.add("canbo@x.vn")
    admin.post(f"/staff/users/{demo.id}/invite", data={"csrf_token": csrf_for(admin)})
    send_due(reset_clock.now)
    assert "could not be e-mailed: 550" in page_of(admin, demo)


def test_the_resend_is_refused_for_an_account_with_a_password_or_deactivated(
    app, reset_accounts, reset_clock
):
    admin = signed_in(app, "admin@x.vn")
    for who, message in (("handler", "This account has a password already."),
                         ("gone", "This account has a password already.")):  # fmt: skip
        user = reset_accounts[who]
        response = admin.post(
            f"/staff/users/{user.id}/invite", data={"csrf_token": csrf_for(admin)}
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and f'<p class="msg" id="e-invite-1">{message}' in html
    lan = create_account("lan@x.vn", Role.ANALYST, None, None, actor=None)
    db.session.commit()
    set_active(lan, False, actor=None)
    db.session.commit()
    refused = admin.post(f"/staff/users/{lan.id}/invite", data={"csrf_token": csrf_for(admin)})
    assert refused.status_code == 422 and "Activate the account first." in refused.get_data(
        as_text=True
    )
    unsigned = admin.post(f"/staff/users/{lan.id}/invite", data={})
    assert unsigned.status_code in (400, 422) and links() == []
    assert db.session.scalar(select(PasswordReset.id)) is None


def test_the_link_shown_expires_in_the_configured_days(app, reset_accounts, reset_clock):
    app.config["INVITATION_DAYS"] = 3
    result = app.test_cli_runner().invoke(
        args=["users", "create", "lan@x.vn", "--role", "analyst", "--invite"]
    )
    assert "it works once, for 3 days" in result.output
    assert links()[0].expires_at == reset_clock.now + timedelta(days=3)
    assert re.search(r"/login/reset/[\w-]{43}$", result.output.strip())


def test_an_invited_account_may_ask_for_a_reset_link_as_the_address_is_its_owners(
    app, mailbox, reset_accounts
):
    """Its owner proves the address the same way; the history says how the password came."""
    from tests.core.reset_helpers import ask, delivered_link
    from tests.core.reset_helpers import choose as choose_reset

    lan = create_account("lan@x.vn", Role.ANALYST, None, None, actor=None)
    db.session.commit()
    app.test_client_class = RequestClient
    person = app.test_client()
    assert ask(person, "lan@x.vn").status_code == 303
    token, _message = delivered_link(mailbox, utcnow())
    assert choose_reset(person, token, NEW_PASSWORD).status_code == 303
    assert login(person, "lan@x.vn", NEW_PASSWORD).status_code == 302
    actions = db.session.scalars(
        select(AccountEvent.action).where(AccountEvent.user_id == lan.id).order_by(AccountEvent.id)
    )
    assert list(actions) == ["created", "password_reset"]
