"""Changing one's own password: the current one first, counted with sign-in's limits."""

import pytest

from core import auth
from core.extensions import db
from core.models import User
from tests.conftest import PASSWORD, login, page_forms, signed_in

NEW_PASSWORD = "a long new password"
URL = "/staff/account/password"


@pytest.fixture
def clock(monkeypatch):
    """Sign-in's limits at a fixed moment, mid-window (as tests/core/test_sign_in_limits.py)."""
    from datetime import datetime

    monkeypatch.setattr(auth, "utcnow", lambda: datetime(2026, 3, 2, 1, 7, 30))


def form(client) -> dict:
    html = client.get(URL).get_data(as_text=True)
    return next(f for f in page_forms(html) if f["action"] == URL)["fields"]


def change(client, current, new=NEW_PASSWORD, confirm=None):
    data = form(client) | {"current": current, "password": new, "confirm": confirm or new}
    return client.post(URL, data=data)


@pytest.mark.parametrize("role", ["admin", "manager", "handler", "analyst"])
def test_the_session_goes_on_and_the_others_end(app, tree, make_user, role, clock):
    user = make_user(f"{role}@x.vn", role, tree["26734"] if role != "admin" else None)
    here, elsewhere = signed_in(app, user.email), signed_in(app, user.email)
    home = here.get("/login").location  # the first page of the role's menu
    response = change(here, PASSWORD)
    assert response.status_code == 303 and response.location == URL
    page = here.get(URL).get_data(as_text=True)
    assert "Your password is changed. Your other sessions have ended." in page
    assert here.get(home).status_code == 200
    assert elsewhere.get(home).status_code == 302  # to the sign-in page
    assert login(app.test_client(), user.email).status_code == 200  # the old one: refused
    signed_in(app, user.email, NEW_PASSWORD)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash.startswith("scrypt:")


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field", "message"),
    [
        ("", NEW_PASSWORD, None, "current", "This field is required."),
        ("wrong password", NEW_PASSWORD, None, "current", "This is not your current password."),
        ("x" * 10_000, NEW_PASSWORD, None, "current", "Write at most 200 characters."),
        (PASSWORD, "short", None, "password", "Write between 10 and 200 characters."),
        (PASSWORD, NEW_PASSWORD, "<b>other</b> password", "confirm",
         "The two passwords are not the same."),
        (PASSWORD, "", "", "password", "This field is required."),
    ],
)  # fmt: skip
def test_a_refused_change_says_why_and_changes_nothing(app, tree, make_user, clock, current, new,
                                                       confirm, field, message):  # fmt: skip
    user = make_user("h@x.vn", "handler", tree["26734"])
    before = user.password_hash
    client = signed_in(app, "h@x.vn")
    response = change(client, current, new, confirm)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="msg" id="e-{field}-1">{message}</p>' in html
    fields = next(f for f in page_forms(html) if f["action"] == URL)["fields"]
    assert fields["current"] == fields["password"] == fields["confirm"] == ""
    assert PASSWORD not in html and NEW_PASSWORD not in html
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == before
    assert client.get("/staff/cases").status_code == 200  # still signed in


def test_wrong_current_passwords_count_with_the_sign_in_limits(app, tree, make_user, clock):
    make_user("h@x.vn", "handler", tree["26734"])
    client = signed_in(app, "h@x.vn")
    limit, _seconds = app.config["LOGIN_PAIR_LIMIT"]
    for _ in range(limit):
        assert change(client, "wrong password").status_code == 422
    refused = change(client, PASSWORD)  # the right one, now refused without reading it
    assert refused.status_code == 429
    assert "Too many wrong passwords." in refused.get_data(as_text=True)
    assert login(app.test_client(), "h@x.vn").status_code == 200  # sign-in here: refused too
    assert client.get("/staff/cases").status_code == 200  # the session goes on
    other_desk = app.test_client()
    other_desk.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert login(other_desk, "h@x.vn").status_code == 302  # not a stranger's lock on the user
