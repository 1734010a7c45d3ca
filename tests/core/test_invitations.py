"""A new account's invitation: made with the account, e-mailed by the real sender to a real SMTP
server (aiosmtpd) or shown once with mail off, used once through the real form, dead when
expired, replaced, or the account changed; the clock held where it counts."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import auth, password_reset
from core.accounts import create_account, set_active
from core.extensions import db
from core.models import NO_PASSWORD, AccountEvent, LinkPurpose, PasswordReset, Role, User
from core.reset_mailer import send_due
from tests.conftest import PASSWORD, login, new_client, page_forms, signed_in
from tests.core.reset_helpers import LINK, delivered_link

pytestmark = pytest.mark.usefixtures("in_english")

NEW_PASSWORD = "my very own passphrase"


def create(app, admin_language="en") -> tuple[object, User]:
    """Create handler lan@x.vn on the back office's page as the administrator; return the
    administrator's client and the account."""
    admin = signed_in(app, "admin@x.vn", language=admin_language)
    page = admin.get("/staff/users/new").get_data(as_text=True)
    fields = next(f for f in page_forms(page) if f["action"] == "/staff/users/new")["fields"]
    data = fields | {"email": "lan@x.vn", "role": "handler", "unit": "26734"}
    assert admin.post("/staff/users/new", data=data).status_code == 303
    return admin, db.session.scalar(select(User).where(User.email == "lan@x.vn"))


def shown_token(admin, user: User) -> str:
    """The token of the link the account's page shows its creator once, with mail off."""
    html = admin.get(f"/staff/users/{user.id}").get_data(as_text=True)
    [link] = re.findall(r'<code id="invitation-link">([^<]+)</code>', html)
    return LINK.fullmatch(link)[1]


def choose(client, token, password=NEW_PASSWORD, confirm=None):
    """Post the welcome page's form (or, with no form on the page, a valid CSRF token)."""
    url = f"/login/reset/{token}"
    page = client.get(url)
    forms = page_forms(page.get_data(as_text=True))
    fields = forms[0]["fields"] if page.status_code == 200 else {}
    if not fields:
        from tests.conftest import csrf_for

        fields = {"csrf_token": csrf_for(client)}
    return client.post(url, data=fields | {"password": password, "confirm": confirm or password})


def links() -> list[PasswordReset]:
    db.session.expire_all()
    return list(db.session.scalars(select(PasswordReset).order_by(PasswordReset.id)))


def history(user: User) -> list[tuple]:
    db.session.expire_all()
    query = select(AccountEvent).where(AccountEvent.user_id == user.id).order_by(AccountEvent.id)
    return [(e.action, e.actor and e.actor.email) for e in db.session.scalars(query)]


@pytest.mark.parametrize(
    "typed", ["", "x", PASSWORD, NO_PASSWORD, "!" + "A" * 32, "$", "scrypt:32768:8:1$$"]
)
def test_an_account_with_no_password_signs_in_with_none(app, reset_accounts, typed, monkeypatch):
    user = create_account("lan@x.vn", Role.HANDLER, None, None, actor=None)
    db.session.commit()
    assert not user.has_password and user.password_hash.startswith(NO_PASSWORD)
    checked = []
    real = auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    for attempt in (typed, user.password_hash):  # the stored value itself, typed
        assert user.check_password(attempt) is False
        assert auth.authenticate("lan@x.vn", attempt, "198.51.100.7") is None
    # The work of any failed sign-in: one slow check, of the hash an unknown address gets.
    assert checked == [auth._unusable_hash()] * 2
    assert auth.authenticate("nobody@x.vn", typed, "198.51.100.8") is None
    assert checked[-1] == auth._unusable_hash() and len(checked) == 3


def test_the_sign_in_page_refuses_it_as_any_wrong_password(app, client, reset_accounts):
    user = create_account("lan@x.vn", Role.HANDLER, None, None, actor=None)
    db.session.commit()
    for typed in (PASSWORD, user.password_hash):
        response = login(client, "lan@x.vn", typed)
        assert response.status_code == 200
        assert "Wrong e-mail or password" in response.get_data(as_text=True)


def test_each_account_with_no_password_has_a_value_and_a_mark_of_its_own(app, reset_accounts):
    one = create_account("a@x.vn", Role.ANALYST, None, None, actor=None)
    two = create_account("b@x.vn", Role.ANALYST, None, None, actor=None)
    db.session.commit()
    assert one.password_hash != two.password_hash
    assert one.session_mark() != two.session_mark()


@pytest.mark.parametrize(
    ("language", "subject", "until", "lines"),
    [
        ("en", "Your new staff account: choose your password", "9 Mar 2026, 8:07 AM",
         ["A staff account of Hài Lòng has been made for you, with this address (lan@x.vn).",
          "If you did not expect this account, ignore this e-mail"]),
        ("vi", "Tài khoản cán bộ mới: hãy chọn mật khẩu", "08:07 9/3/2026",
         ["Một tài khoản cán bộ của Hài Lòng đã được tạo cho bạn, với địa chỉ này (lan@x.vn).",
          "Nếu bạn không chờ đợi tài khoản này, vui lòng bỏ qua thư này"]),
    ],
)  # fmt: skip
def test_the_invitation_is_emailed_in_the_creators_language_and_works_once(
    app, client, mailbox, reset_accounts, reset_clock, language, subject, until, lines
):
    _admin, user = create(app, language)
    assert mailbox.messages == []  # nothing sent in the request: cron sends it
    [link] = links()
    assert link.purpose is LinkPurpose.INVITATION and link.locale == language
    assert link.expires_at == reset_clock.now + timedelta(days=7) and link.mail_token is not None

    token, message = delivered_link(mailbox, reset_clock.now + timedelta(seconds=40))
    assert message["To"] == "lan@x.vn" and message["Subject"] == subject
    assert message["Content-Language"] == language
    text = " ".join(message.get_body(("plain",)).get_content().split())
    assert until in text and all(line in text for line in lines)
    [link] = links()
    assert link.mail_token is None and link.sent_at is not None  # only the hash stays
    assert all(token not in str(getattr(link, c.key)) for c in link.__table__.columns)

    page = client.get(f"/login/reset/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Welcome: choose your password" in html
    assert "lan@x.vn" in html and "Reset" not in html
    assert page.headers["Referrer-Policy"] == "no-referrer"
    done = choose(client, token)
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    assert "Your password is set. Sign in with it." in client.get("/login").get_data(as_text=True)
    assert history(user) == [
        ("created", "admin@x.vn"), ("invited", "admin@x.vn"), ("invitation_accepted", "lan@x.vn")
    ]  # fmt: skip
    again = choose(client, token, "someone else's password")
    assert again.status_code == 410 and "An invitation's link works once" in again.get_data(
        as_text=True
    )
    assert login(client, "lan@x.vn", "someone else's password").status_code == 200
    assert login(client, "lan@x.vn", NEW_PASSWORD).status_code == 302


def test_the_link_works_for_invitation_days_then_not(
    app, client, mailbox, reset_accounts, reset_clock
):
    app.config["INVITATION_DAYS"] = 2
    _admin, user = create(app)
    token, _message = delivered_link(mailbox, reset_clock.now)
    reset_clock.advance(days=2, seconds=-1)
    assert client.get(f"/login/reset/{token}").status_code == 200
    reset_clock.advance(seconds=1)
    dead = choose(client, token)
    assert dead.status_code == 410 and "Ask whoever made your account" in dead.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert not db.session.get(User, user.id).has_password


def test_the_link_dies_when_the_account_is_deactivated_and_stays_dead(
    app, client, mailbox, reset_accounts, reset_clock
):
    _admin, user = create(app)
    token, _message = delivered_link(mailbox, reset_clock.now)
    set_active(user, False, actor=None)
    db.session.commit()
    assert choose(client, token).status_code == 410
    set_active(user, True, actor=None)
    db.session.commit()
    assert choose(client, token).status_code == 410
    assert not db.session.get(User, user.id).has_password and links()[0].used_at is None


def test_a_deactivation_before_the_e_mail_leaves_drops_it(
    app, mailbox, reset_accounts, reset_clock
):
    _admin, user = create(app)
    set_active(user, False, actor=None)
    db.session.commit()
    run = send_due(reset_clock.now)
    assert run.sent == 0 and run.dropped == 1 and mailbox.messages == []
    assert links()[0].mail_token is None


def test_the_link_outlives_a_change_of_role_but_not_a_newer_invitation_or_a_password_set(
    app, client, mailbox, reset_accounts, reset_clock
):
    admin, user = create(app)
    first, _message = delivered_link(mailbox, reset_clock.now)
    page = f"/staff/users/{user.id}"
    fields = next(f for f in page_forms(admin.get(page).get_data(as_text=True))
                  if f["action"] == page)["fields"]  # fmt: skip
    assert admin.post(page, data=fields | {"role": "analyst", "unit": ""}).status_code == 303
    assert client.get(f"/login/reset/{first}").status_code == 200  # the role is not the link's

    form = next(f for f in page_forms(admin.get(page).get_data(as_text=True))
                if f["action"] == f"{page}/invite")["fields"]  # fmt: skip
    resent = admin.post(f"{page}/invite", data=form)
    assert resent.status_code == 303
    assert "An e-mail invites lan@x.vn to choose a password" in admin.get(page).get_data(
        as_text=True
    )
    second, _message = delivered_link(mailbox, reset_clock.now)
    assert choose(client, first).status_code == 410  # the earlier one died with the new one

    fields = next(f for f in page_forms(admin.get(page).get_data(as_text=True))
                  if f["action"] == f"{page}/password")["fields"]  # fmt: skip
    data = fields | {"password": "set by the administrator", "confirm": "set by the administrator"}
    assert admin.post(f"{page}/password", data=data).status_code == 303
    assert choose(client, second).status_code == 410
    assert login(client, "lan@x.vn", "set by the administrator").status_code == 302


def test_with_mail_off_the_creator_is_shown_the_link_once_and_nothing_is_queued(
    app, client, reset_accounts, reset_clock
):
    assert not app.config["MAIL_SERVER"]
    admin, user = create(app)
    page = admin.get(f"/staff/users/{user.id}")
    html = page.get_data(as_text=True)
    [link] = re.findall(r'<code id="invitation-link">([^<]+)</code>', html)
    assert "Mail is off: give this link to lan@x.vn yourself" in html
    assert "flash invitation-link" not in html and page.headers["Cache-Control"] == "no-store"
    [row] = links()
    assert row.mail_token is None and row.next_attempt_at is None  # kept nowhere
    token = LINK.fullmatch(link)[1]
    assert row.token_hash == password_reset.token_hash(token)
    again = admin.get(f"/staff/users/{user.id}").get_data(as_text=True)
    assert token not in again and "Invitation link shown to its creator at" in again
    assert client.get("/login/reset").status_code == 404  # no reset without mail
    assert choose(client, token).status_code == 303
    assert login(client, "lan@x.vn", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("", "", "This field is required."),
        ("short", "short", "Write between 10 and 200 characters."),
        ("p" * 201, "p" * 201, "Write between 10 and 200 characters."),
        ("p" * 100_000, "p" * 100_000, None),  # over the request's size limit: 413
        (NEW_PASSWORD, "another passphrase", "The two passwords are not the same."),
        ("<script>alert(1)</script>", "<script>alert(1)</script>", None),
    ],
)
def test_a_refused_first_password_sets_nothing_and_keeps_the_link(
    app, client, reset_accounts, reset_clock, password, confirm, message
):
    admin, user = create(app)
    token = shown_token(admin, user)
    response = choose(client, token, password, confirm)
    html = response.get_data(as_text=True)
    if message is None and len(password) > 1000:
        assert response.status_code == 413
    elif message is None:  # 25 characters of markup: a password like any other
        assert response.status_code == 303
        return
    else:
        assert response.status_code == 422 and message in html
        assert not password or password not in html  # never sent back
    db.session.expire_all()
    assert not db.session.get(User, user.id).has_password and links()[0].used_at is None
    assert choose(client, token).status_code == 303  # the link still works


def test_the_welcome_page_speaks_vietnamese(app, reset_accounts, reset_clock):
    token = shown_token(*create(app, "vi"))
    person = new_client(app, "vi")
    page = person.get(f"/login/reset/{token}").get_data(as_text=True)
    assert "Chào mừng: hãy chọn mật khẩu" in page
    short = choose(person, token, "short", "short").get_data(as_text=True)
    assert "Nhập từ 10 đến 200 ký tự." in short
