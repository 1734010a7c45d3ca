"""The language of an invitation made on the command line (`users create --invite --language`,
`users invite --language`): the e-mail, sent by the real sender to a real SMTP server, is written
in it, and the account keeps it for its pages once signed in."""

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import User
from tests.conftest import login, new_client
from tests.core.reset_helpers import delivered_link
from tests.core.test_invitations import NEW_PASSWORD, choose, links

WORDS = {
    "en": (
        "Your new staff account: choose your password",
        "A staff account of Hài Lòng has been made for you, with this address (lan@x.vn).",
    ),
    "vi": (
        "Tài khoản cán bộ mới: hãy chọn mật khẩu",
        "Một tài khoản cán bộ của Hài Lòng đã được tạo cho bạn, với địa chỉ này (lan@x.vn).",
    ),
}
OTHER = {"en": "vi", "vi": "en"}


def lan() -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == "lan@x.vn"))


def assert_written_in(message, language: str) -> None:
    subject, intro = WORDS[language]
    text = " ".join(message.get_body(("plain",)).get_content().split())
    assert message["Subject"] == subject and message["Content-Language"] == language
    assert intro in text and WORDS[OTHER[language]][1] not in text
    # A staff member is greeted as the back office speaks to them, not as a citizen ("ông/bà").
    assert text.startswith({"en": "Hello, ", "vi": "Xin chào, "}[language]), text[:40]
    assert "ông/bà" not in text


@pytest.mark.parametrize("language", ["en", "vi"])
def test_users_create_invite_mails_it_in_the_chosen_language_which_the_account_keeps(
    app, mailbox, reset_accounts, reset_clock, language
):
    runner = app.test_cli_runner()
    args = ["users", "create", "lan@x.vn", "--role", "analyst", "--invite", "--language", language]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "The invitation is queued" in result.output
    assert lan().locale == language and links()[0].locale == language
    token, message = delivered_link(mailbox, reset_clock.now)
    assert_written_in(message, language)
    # Its owner's browser asks for the other language; the account's own wins once signed in.
    person = new_client(app, OTHER[language])
    assert choose(person, token).status_code == 303
    assert login(person, "lan@x.vn", NEW_PASSWORD).status_code == 302
    page = person.get("/staff/account/password").get_data(as_text=True)
    assert f'<html lang="{language}">' in page


def test_users_invite_in_another_language_replaces_the_accounts_and_later_ones_keep_it(
    app, mailbox, reset_accounts, reset_clock
):
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=["users", "create", "lan@x.vn", "--role", "analyst", "--invite", "--language", "en"]
    )
    assert made.exit_code == 0, made.output
    again = runner.invoke(args=["users", "invite", "lan@x.vn", "--language", "vi"])
    assert again.exit_code == 0 and "Invited lan@x.vn." in again.output
    assert lan().locale == "vi"
    _token, message = delivered_link(mailbox, reset_clock.now)  # the first link died: not sent
    assert_written_in(message, "vi")
    mailbox.messages.clear()
    assert runner.invoke(args=["users", "invite", "lan@x.vn"]).exit_code == 0
    _token, message = delivered_link(mailbox, reset_clock.now)
    assert_written_in(message, "vi")
    assert [link.locale for link in links()] == ["en", "vi", "vi"]


def test_users_create_with_a_language_and_a_password_keeps_the_language(app, reset_accounts):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "lan@x.vn", "--role", "analyst", "--language", "en"],
        input="a typed password\n",
    )
    assert result.exit_code == 0, result.output
    assert lan().locale == "en" and lan().has_password and links() == []


@pytest.mark.parametrize(
    "args",
    [
        ["users", "create", "lan@x.vn", "--role", "analyst", "--invite", "--language", "fr"],
        ["users", "invite", "handler@x.vn", "--language", "VI"],
    ],
)
def test_a_language_the_site_does_not_speak_is_refused_and_nothing_written(
    app, reset_accounts, args
):
    before = db.session.scalars(select(User.email).order_by(User.id)).all()
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 2 and "Invalid value for '--language'" in result.output
    assert "'vi', 'en'" in result.output or "vi, en" in result.output
    assert db.session.scalars(select(User.email).order_by(User.id)).all() == before
    assert links() == [] and reset_accounts["handler"].locale is None
