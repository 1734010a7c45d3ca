"""Ending an account's sessions for good (deactivation, its page, one's own page), and the
last sign-in shown on the accounts pages and by `users list`."""

import hashlib
import hmac
from datetime import datetime

import pytest

from core import auth
from core.extensions import db
from core.models import User
from tests.conftest import login, page_forms, signed_in

OWN_PAGE = "/staff/account/password"


@pytest.fixture
def clock(monkeypatch):
    """Sign-in at a fixed moment: 1:07 UTC, 8:07 in Vietnam."""
    monkeypatch.setattr(auth, "utcnow", lambda: datetime(2026, 3, 2, 1, 7, 30))


@pytest.fixture
def staff(tree, make_user):
    make_user("admin@x.vn", "admin")
    make_user("manager@x.vn", "manager", tree["760"])
    make_user("handler@x.vn", "handler", tree["26734"])
    make_user("other-admin@x.vn", "admin")
    return {u.email: u.id for u in db.session.scalars(db.select(User))}


def post_button(client, page, action):
    """Press the button of the page's form that posts to action, as a browser would."""
    html = client.get(page).get_data(as_text=True)
    fields = next(f for f in page_forms(html) if f["action"] == action)["fields"]
    return client.post(action, data=fields)


def is_signed_in(client) -> bool:
    return client.get("/staff/cases").status_code == 200


def test_version_0_marks_a_session_as_before_so_the_release_signs_nobody_out(app, staff):
    user = db.session.get(User, staff["handler@x.vn"])
    before = hmac.new(b"test-secret", user.password_hash.encode(), hashlib.sha256).hexdigest()
    assert user.session_version == 0 and user.get_id() == f"{user.id}.{before[:20]}"
    user.session_version = 1
    assert user.get_id() != f"{user.id}.{before[:20]}"


def test_sign_out_everywhere_ends_the_other_sessions_and_keeps_this_one(app, staff):
    here, elsewhere = signed_in(app, "handler@x.vn"), signed_in(app, "handler@x.vn")
    response = post_button(here, OWN_PAGE, "/staff/account/sessions")
    assert response.status_code == 303 and response.location == OWN_PAGE
    assert "You are signed out of every other device." in here.get(OWN_PAGE).get_data(as_text=True)
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere)
    again = signed_in(app, "handler@x.vn")  # the same password
    assert is_signed_in(again) and is_signed_in(here)


def test_an_admin_ends_an_accounts_sessions_and_keeps_their_own(app, staff):
    admin = signed_in(app, "admin@x.vn")
    desk, phone = signed_in(app, "handler@x.vn"), signed_in(app, "handler@x.vn")
    page = f"/staff/users/{staff['handler@x.vn']}"
    response = post_button(admin, page, f"{page}/sessions")
    assert response.status_code == 303 and response.location == page
    assert "Every session of handler@x.vn has ended." in admin.get(page).get_data(as_text=True)
    assert not is_signed_in(desk) and not is_signed_in(phone)
    assert is_signed_in(admin)
    assert is_signed_in(signed_in(app, "handler@x.vn"))  # it signs in again as before


def test_on_their_own_accounts_page_an_admin_keeps_this_session(app, staff):
    here, elsewhere = signed_in(app, "admin@x.vn"), signed_in(app, "admin@x.vn")
    own = f"/staff/users/{staff['admin@x.vn']}"
    assert f'action="{own}/sessions"' not in here.get(own).get_data(as_text=True)
    csrf = page_forms(here.get(OWN_PAGE).get_data(as_text=True))[-1]["fields"]["csrf_token"]
    assert here.post(f"{own}/sessions", data={"csrf_token": csrf}).status_code == 303
    assert is_signed_in(here) and not is_signed_in(elsewhere)


@pytest.mark.parametrize("url", ["/staff/account/sessions", "/staff/users/{id}/sessions"])
def test_ending_sessions_without_the_csrf_token_is_refused(app, staff, url):
    admin, handler = signed_in(app, "admin@x.vn"), signed_in(app, "handler@x.vn")
    target = staff["handler@x.vn"]
    client = admin if "{id}" in url else handler
    response = client.post(url.format(id=target))
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert is_signed_in(handler) and is_signed_in(admin)
    assert db.session.get(User, target).session_version == 0


def test_a_session_ended_by_deactivation_stays_ended_when_the_account_is_back(app, staff):
    admin, handler = signed_in(app, "admin@x.vn"), signed_in(app, "handler@x.vn")
    page = f"/staff/users/{staff['handler@x.vn']}"
    assert post_button(admin, page, f"{page}/deactivate").status_code == 303
    assert not is_signed_in(handler)
    assert post_button(admin, page, f"{page}/activate").status_code == 303
    assert not is_signed_in(handler)  # not back with the account
    assert is_signed_in(signed_in(app, "handler@x.vn"))


def test_an_account_stopped_without_a_new_version_loses_its_sessions_when_activated(
    app, staff, runner
):
    """As one stopped before sessions had versions, or by a server of the release before."""
    handler = signed_in(app, "handler@x.vn")
    user = db.session.get(User, staff["handler@x.vn"])
    user.active = False
    db.session.commit()
    assert not is_signed_in(handler)
    assert runner.invoke(args=["users", "activate", "handler@x.vn"]).exit_code == 0
    assert not is_signed_in(handler)


def test_activating_an_active_account_leaves_its_sessions(app, staff, runner):
    handler = signed_in(app, "handler@x.vn")
    assert runner.invoke(args=["users", "activate", "handler@x.vn"]).exit_code == 0
    assert is_signed_in(handler)


def test_a_new_password_counts_a_new_version_too(app, staff, runner):
    result = runner.invoke(args=["users", "password", "handler@x.vn"], input="a new password\n")
    assert result.exit_code == 0, result.output
    assert db.session.get(User, staff["handler@x.vn"]).session_version == 1


def test_a_manager_ends_a_handlers_sessions_but_not_an_admins(app, staff):
    manager = signed_in(app, "manager@x.vn")
    handler, admin = signed_in(app, "handler@x.vn"), signed_in(app, "admin@x.vn")
    page = f"/staff/users/{staff['handler@x.vn']}"
    assert post_button(manager, page, f"{page}/sessions").status_code == 303
    assert not is_signed_in(handler)
    csrf = page_forms(manager.get(page).get_data(as_text=True))[-1]["fields"]["csrf_token"]
    admin_page = f"/staff/users/{staff['admin@x.vn']}"
    assert manager.post(f"{admin_page}/sessions", data={"csrf_token": csrf}).status_code == 403
    assert is_signed_in(admin)
    # A handler reaches no account's sessions, not even their own this way.
    handler = signed_in(app, "handler@x.vn")
    csrf = page_forms(handler.get(OWN_PAGE).get_data(as_text=True))[-1]["fields"]["csrf_token"]
    own = f"/staff/users/{staff['handler@x.vn']}/sessions"
    assert handler.post(own, data={"csrf_token": csrf}).status_code == 403
    assert is_signed_in(handler)


def row_of(html: str, email: str) -> str:
    return html.split(f">{email}</a>")[1].split("</tr>")[0]


@pytest.mark.parametrize(
    ("language", "shown"), [("en", "2 Mar 2026, 8:07 AM"), ("vi", "08:07 2/3/2026")]
)
def test_the_last_sign_in_is_shown_in_the_pages_language(app, staff, clock, language, shown):
    client = signed_in(app, "admin@x.vn", language=language)
    users = client.get("/staff/users").get_data(as_text=True)
    assert f"<td>{shown}</td>" in row_of(users, "admin@x.vn")
    page = client.get(f"/staff/users/{staff['admin@x.vn']}").get_data(as_text=True)
    assert f"<dd>{shown}</dd>" in page


def test_an_account_never_signed_in_says_so(app, staff):
    client = signed_in(app, "admin@x.vn")
    users = client.get("/staff/users").get_data(as_text=True)
    assert "<td>never</td>" in row_of(users, "handler@x.vn")
    assert "<td>never</td>" not in row_of(users, "admin@x.vn")
    page = client.get(f"/staff/users/{staff['handler@x.vn']}").get_data(as_text=True)
    assert "<dt>Last sign-in</dt><dd>never</dd>" in page


def test_only_a_sign_in_that_succeeds_is_recorded(app, staff, clock, runner):
    client = app.test_client()
    assert login(client, "handler@x.vn", "wrong password").status_code == 200
    assert db.session.get(User, staff["handler@x.vn"]).last_login_at is None
    assert login(client, "handler@x.vn").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, staff["handler@x.vn"]).last_login_at == datetime(
        2026, 3, 2, 1, 7, 30
    )
    lines = runner.invoke(args=["users", "list"]).output.splitlines()
    assert [line.split("\t")[::5] for line in lines] == [
        ["admin@x.vn", "never"],
        ["handler@x.vn", "2026-03-02 08:07"],  # in Vietnam time
        ["manager@x.vn", "never"],
        ["other-admin@x.vn", "never"],
    ]


def test_users_list_gives_the_day_an_account_was_created_in_vietnam(app, staff, runner):
    db.session.get(User, staff["handler@x.vn"]).created_at = datetime(2026, 3, 1, 17, 30)
    db.session.commit()  # 00:30 on 2 March in Vietnam
    lines = runner.invoke(args=["users", "list"]).output.splitlines()
    (handler,) = [line.split("\t") for line in lines if line.startswith("handler@")]
    assert handler[4] == "2026-03-02"
