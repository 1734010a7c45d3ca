"""An account is found, and is unique, by its address in any letter case, accents and all, on
SQLite as on PostgreSQL: the folding is Python's (core.models.email_key), not the database's."""

import re
import unicodedata
from datetime import datetime

import pytest
from sqlalchemy import delete, func, select, text

from core import auth
from core.accounts import account_by_email
from core.extensions import db
from core.models import Role, User, email_key
from tests.conftest import FAST_HASH, PASSWORD, new_client, page_forms, signed_in

STORED = "NGUYỄN@ubnd.vn"
# What staff type at sign-in; the last with its accents as separate characters, as some
# keyboards send them.
TYPED = [
    "nguyễn@ubnd.vn",
    "Nguyễn@UBND.vn",
    "NGUYỄN@ubnd.vn",
    "nguyễN@Ubnd.Vn",
    unicodedata.normalize("NFD", "nguyễn@ubnd.vn"),
]
NEW_PASSWORD = "a long new password"
HOME = "192.0.2.1"  # the staff member's own address: the sign-in limits count by address


def sign_in(client, typed, password=PASSWORD):
    """Fill in and send the sign-in page's form, as a browser does."""
    (form,) = page_forms(client.get("/login").get_data(as_text=True))
    return client.post("/login", data=form["fields"] | {"email": typed, "password": password})


def users() -> list[tuple[str, str]]:
    db.session.expire_all()
    return db.session.execute(select(User.email, User.email_key).order_by(User.id)).all()


@pytest.fixture
def admin(app, tree):
    user = User(email="admin@x.vn", role=Role.ADMIN, password_hash=FAST_HASH)
    db.session.add(user)
    db.session.commit()
    return user


def test_the_key_folds_every_letter_and_not_the_database(app):
    assert email_key("NGUYỄN@ubnd.vn") == email_key("nguyễn@UBND.vn") == "nguyễn@ubnd.vn"
    assert email_key("ĐẶNG.THỊ.ÁNH@x.vn") == "đặng.thị.ánh@x.vn"
    assert email_key(unicodedata.normalize("NFD", "Ễ")) == "ễ"  # composed again
    # casefold(), not lower(): ẞ, ß and ss are one spelling; Turkish İ stays apart from i.
    assert email_key("STRAẞE@x.de") == email_key("straße@x.de") == "strasse@x.de"
    assert email_key("İ@x.tr") != email_key("i@x.tr")


def test_sqlite_lower_folds_only_ascii_so_the_old_query_missed_the_account(app, admin):
    """Why the key exists: on SQLite the query sign-in used before finds no account."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's lower(); this run is on PostgreSQL")
    assert db.session.scalar(text("SELECT lower('NGUYỄN@ubnd.vn')")) == "nguyỄn@ubnd.vn"
    db.session.add(User(email=STORED, role=Role.ADMIN, password_hash=FAST_HASH))
    db.session.commit()
    typed = "nguyễn@ubnd.vn"
    before = select(User).where(func.lower(User.email) == typed.lower())
    assert db.session.scalar(before) is None
    assert account_by_email(typed).email == STORED


def test_the_model_keeps_the_key_with_the_address(app):
    user = User(email=STORED, role=Role.ADMIN, password_hash=FAST_HASH)
    assert user.email_key == "nguyễn@ubnd.vn"
    user.email = "Trần@x.vn"
    assert user.email_key == "trần@x.vn"
    db.session.add(user)
    db.session.commit()
    assert users() == [("Trần@x.vn", "trần@x.vn")]


def test_an_account_made_on_the_command_line_signs_in_in_any_case(app, runner, admin):
    made = runner.invoke(args=["users", "create", STORED, "--role", "admin"], input=PASSWORD)
    assert made.exit_code == 0, made.output
    for typed in TYPED:
        client = new_client(app, "vi", HOME)
        assert sign_in(client, typed).status_code == 302, typed
        page = client.get("/staff/users").get_data(as_text=True)
        assert STORED in page  # shown as it was made

    again = runner.invoke(args=["users", "create", "nguyễn@ubnd.vn", "--role", "admin"],
                          input=PASSWORD)  # fmt: skip
    assert again.exit_code == 1
    assert "Error: an account for nguyễn@ubnd.vn already exists" in again.output
    assert users() == [("admin@x.vn", "admin@x.vn"), (STORED, "nguyễn@ubnd.vn")]

    # The other commands that name an account find it in any case too.
    changed = runner.invoke(args=["users", "password", "Nguyễn@UBND.vn"], input=NEW_PASSWORD)
    assert changed.exit_code == 0, changed.output
    assert f"New password set for {STORED}" in changed.output
    history = runner.invoke(args=["users", "history", "nguyễn@ubnd.vn"])
    assert history.exit_code == 0 and "\tpassword\t" in history.output, history.output
    assert sign_in(new_client(app, "vi", HOME), "nguyễn@ubnd.vn", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("vi", "Đã có tài khoản với địa chỉ thư điện tử này."),
        ("en", "An account with this e-mail already exists."),
    ],
)
def test_an_account_made_in_the_back_office_signs_in_in_any_case_and_is_unique(
    app, runner, admin, language, message
):
    client = signed_in(app, "admin@x.vn", language=language)

    def create(email):
        html = client.get("/staff/users/new").get_data(as_text=True)
        form = next(f for f in page_forms(html) if f["action"] == "/staff/users/new")
        data = form["fields"] | {"email": email, "role": "analyst"}
        return client.post("/staff/users/new", data=data)

    made = create(STORED)
    assert made.status_code == 303
    # Its owner chooses its password with the link its page shows once (mail is off).
    page = client.get(made.location).get_data(as_text=True)
    link = re.search(r'<code id="invitation-link">http://survey\.test([^<]+)</code>', page)[1]
    welcome = new_client(app, language, HOME)
    fields = page_forms(welcome.get(link).get_data(as_text=True))[0]["fields"]
    chosen = fields | {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert welcome.post(link, data=chosen).status_code == 303
    for typed in TYPED:
        client_in_language = new_client(app, language, HOME)
        assert sign_in(client_in_language, typed, NEW_PASSWORD).status_code == 302, typed

    before = users()
    for other in ("nguyễn@ubnd.vn", "Nguyễn@UBND.VN"):
        refused = create(other)
        assert refused.status_code == 422
        assert f'<p class="msg" id="e-email-1">{message}</p>' in refused.get_data(as_text=True)
    assert users() == before
    cli = runner.invoke(args=["users", "create", "nguyễn@ubnd.vn", "--role", "analyst"],
                        input=PASSWORD)  # fmt: skip
    assert cli.exit_code == 1 and "already exists" in cli.output
    assert users() == before


def test_the_sign_in_limits_count_every_spelling_as_one_account(app, admin, monkeypatch):
    monkeypatch.setattr(auth, "utcnow", lambda: datetime(2026, 3, 2, 1, 7, 30))  # mid-window
    app.config["LOGIN_PAIR_LIMIT"] = (3, 900)
    db.session.add(User(email=STORED, role=Role.ADMIN, password_hash=FAST_HASH))
    db.session.commit()
    stranger = new_client(app, "vi", "198.51.100.7")
    for typed in ("NGUYỄN@ubnd.vn", "nguyễn@ubnd.vn", "Nguyễn@Ubnd.vn"):
        assert sign_in(stranger, typed, "a wrong password").status_code == 200
    # Three failures on one account from this address: even the right password is refused.
    refused = sign_in(stranger, unicodedata.normalize("NFD", "nguyễn@UBND.vn"))
    assert refused.status_code == 200
    assert "Sai thư điện tử hoặc mật khẩu" in refused.get_data(as_text=True)
    assert auth.refused_for_now("nguyễn@ubnd.vn", "198.51.100.7")
    # The pair is refused, not the account: from the staff member's own address it signs in.
    assert sign_in(new_client(app, "vi", HOME), "nguyễn@ubnd.vn").status_code == 302


def accounts_in_order(runner) -> list[str]:
    listed = runner.invoke(args=["users", "list"])
    assert listed.exit_code == 0, listed.output
    return [line.split("\t")[0] for line in listed.output.splitlines()]


def test_accounts_are_listed_by_their_address_whatever_its_case(app, runner, admin, make_user):
    """SQLite's lower() put 'ĐÀO@' before 'đinh@', and 'đào@' after it."""
    orders = []
    for emails in (["ĐÀO@x.vn", "đinh@x.vn", "An@x.vn"], ["đào@x.vn", "ĐINH@x.vn", "an@x.vn"]):
        db.session.execute(delete(User).where(User.id != admin.id))
        db.session.commit()
        for email in emails:
            make_user(email, "analyst")
        listed = accounts_in_order(runner)
        page = signed_in(app, "admin@x.vn").get("/staff/users").get_data(as_text=True)
        on_page = sorted(listed, key=lambda email: page.index(f">{email}<"))
        assert on_page == listed
        orders.append([email_key(email) for email in listed])
    assert orders[0] == orders[1]
