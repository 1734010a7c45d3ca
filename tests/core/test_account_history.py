"""Who changed which account, and when: one history line per change, through the pages and the
command line, none for a refused change, never a password."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core.accounts import HISTORY_SIZE, LastAdmin, change_role_and_unit
from core.extensions import db
from core.models import AccountEvent, Role, User
from tests.conftest import PASSWORD, add_staff, csrf_for, page_forms, shown_time, signed_in

NEW_PASSWORD = "a long new password"


@pytest.fixture
def staff(tree):
    accounts = add_staff(tree, {
        "admin": ("admin@x.vn", Role.ADMIN, None),
        "admin2": ("admin2@x.vn", Role.ADMIN, None),
        "manager": ("manager@x.vn", Role.MANAGER, "760"),
        "handler": ("handler@x.vn", Role.HANDLER, "26734"),
        "far": ("far@x.vn", Role.HANDLER, "26800"),
    })  # fmt: skip
    return {role: user.id for role, user in accounts.items()}


def form_at(client, url, action) -> dict:
    html = client.get(url).get_data(as_text=True)
    return next(f for f in page_forms(html) if f["action"] == action)["fields"]


def events() -> list[tuple]:
    """Every history line, oldest first: account, actor (None: command line), action, detail."""
    db.session.expire_all()
    rows = db.session.scalars(select(AccountEvent).order_by(AccountEvent.id))
    return [(e.user.email, e.actor and e.actor.email, e.action, e.detail) for e in rows]


def assert_no_password(*texts: str) -> None:
    """The typed password, and the stored hash, appear in no history line nor in the texts."""
    hashes = list(db.session.scalars(select(User.password_hash)))
    lines = [" ".join(str(v) for v in e) for e in events()]
    for text in (*lines, *texts):
        assert NEW_PASSWORD not in text
        assert not any(h in text for h in hashes)


# actor, account, the form's action under the account's page, fields typed, action, detail
PAGE_CHANGES = [
    ("admin", "handler", "", {"role": "analyst", "unit": "760"}, "role_unit",
     "handler 26734 → analyst 760"),
    ("admin", "manager", "", {"role": "admin", "unit": ""}, "role_unit", "manager 760 → admin"),
    ("manager", "handler", "", {"unit": "26737"}, "role_unit", "handler 26734 → handler 26737"),
    ("admin", "handler", "/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
     "password", None),
    ("manager", "handler", "/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
     "password", None),
    ("manager", "handler", "/deactivate", {}, "deactivated", None),
    ("admin", "admin2", "/deactivate", {}, "deactivated", None),
    ("manager", "handler", "/sessions", {}, "sessions_ended", None),
]  # fmt: skip


@pytest.mark.parametrize(("actor", "account", "path", "typed", "action", "detail"), PAGE_CHANGES)
def test_each_change_on_the_page_records_one_line_with_who_made_it(
    app, staff, actor, account, path, typed, action, detail
):
    client = signed_in(app, f"{actor}@x.vn")
    page = f"/staff/users/{staff[account]}"
    data = form_at(client, page, page + path) | typed
    assert client.post(page + path, data=data).status_code == 303
    assert events() == [(f"{account}@x.vn", f"{actor}@x.vn", action, detail)]
    html = client.get(page).get_data(as_text=True)
    history = html.split("Change history")[1]
    assert f"<td>{actor}@x.vn</td>" in history
    assert detail is None or f"<small>{detail}</small>" in history
    assert_no_password(html)


def test_activating_is_recorded_after_deactivating_newest_first(app, staff):
    client = signed_in(app, "admin@x.vn")
    page = f"/staff/users/{staff['handler']}"
    for step in ("deactivate", "activate"):
        assert (
            client.post(f"{page}/{step}", data=form_at(client, page, f"{page}/{step}")).status_code
            == 303
        )
    assert [e[2] for e in events()] == ["deactivated", "activated"]
    history = client.get(page).get_data(as_text=True).split("Change history")[1]
    assert history.index("Account activated") < history.index("Account deactivated")


def test_creating_an_account_on_the_page_records_it(app, staff):
    client = signed_in(app, "manager@x.vn")
    data = form_at(client, "/staff/users/new", "/staff/users/new") | {
        "email": "new@x.vn", "role": "analyst", "unit": "26737",
    }  # fmt: skip
    response = client.post("/staff/users/new", data=data)
    assert response.status_code == 303
    assert events() == [
        ("new@x.vn", "manager@x.vn", "created", "analyst 26737"),
        ("new@x.vn", "manager@x.vn", "invited", None),
    ]
    html = client.get(response.location).get_data(as_text=True)
    assert "Account created" in html and "Invited to choose a password" in html
    assert_no_password(html)


def test_ones_own_password_and_sessions_are_recorded_as_ones_own(app, staff):
    client = signed_in(app, "handler@x.vn")
    own = "/staff/account/password"
    data = form_at(client, own, own) | {
        "current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD
    }  # fmt: skip
    assert client.post(own, data=data).status_code == 303
    sessions = form_at(client, own, "/staff/account/sessions")
    assert client.post("/staff/account/sessions", data=sessions).status_code == 303
    assert events() == [
        ("handler@x.vn", "handler@x.vn", "own_password", None),
        ("handler@x.vn", "handler@x.vn", "own_sessions_ended", None),
    ]
    assert_no_password(client.get(own).get_data(as_text=True))


def test_ending_ones_own_sessions_from_ones_account_page_is_recorded_as_ones_own(app, staff):
    client = signed_in(app, "admin@x.vn")
    url = f"/staff/users/{staff['admin']}/sessions"  # no button there, but the endpoint takes it
    assert client.post(url, data={"csrf_token": csrf_for(client)}).status_code == 303
    assert events() == [("admin@x.vn", "admin@x.vn", "own_sessions_ended", None)]


def test_refused_changes_on_the_pages_record_nothing(app, staff):
    admin, manager = signed_in(app, "admin@x.vn"), signed_in(app, "manager@x.vn")
    handler, far, admin2 = (f"/staff/users/{staff[k]}" for k in ("handler", "far", "admin2"))
    short = {"password": "short", "confirm": "short"}
    refused = [
        (manager, far, "/deactivate", {}, 403),  # outside the manager's scope
        (manager, admin2, "/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, 403),
        (manager, handler, "", {"role": "admin", "unit": ""}, 422),  # not a role they give
        (admin, handler, "", {"role": "boss", "unit": "26734"}, 422),
        (admin, handler, "/password", short, 422),
        (admin, handler, "/password", {"password": NEW_PASSWORD, "confirm": "other one!!"}, 422),
        (admin, f"/staff/users/{staff['admin']}", "/deactivate", {}, 422),  # oneself
        (admin, f"/staff/users/{staff['admin']}", "", {"role": "analyst", "unit": ""}, 422),
    ]
    for client, page, path, typed, status in refused:
        data = {"csrf_token": csrf_for(client)} | typed
        assert client.post(page + path, data=data).status_code == status, (page, path, typed)
    own = "/staff/account/password"
    wrong = form_at(admin, own, own) | {
        "current": "not the password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD
    }  # fmt: skip
    assert admin.post(own, data=wrong).status_code == 422
    taken = form_at(admin, "/staff/users/new", "/staff/users/new") | {
        "email": "HANDLER@x.vn", "role": "analyst", "unit": "",
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
    }  # fmt: skip
    assert admin.post("/staff/users/new", data=taken).status_code == 422
    assert events() == []


def test_the_last_admin_refused_records_nothing(app, staff):
    admin = db.session.get(User, staff["admin"])
    db.session.get(User, staff["admin2"]).active = False
    db.session.commit()
    with pytest.raises(LastAdmin):
        change_role_and_unit(admin, Role.ANALYST, None, actor=admin)
    db.session.commit()
    assert events() == []
    change_role_and_unit(admin, Role.ADMIN, None, actor=admin)  # no change: no line
    db.session.commit()
    assert events() == []


def test_the_history_is_shown_to_whoever_sees_the_account_newest_first_at_most_50(app, staff):
    handler = db.session.get(User, staff["handler"])
    admin = db.session.get(User, staff["admin"])
    start = datetime(2026, 3, 2, 1, 7)  # 8:07 in Vietnam
    db.session.add_all(
        AccountEvent(user=handler, actor=admin if i % 2 else None, action="sessions_ended",
                     detail=f"line {i:02}", at=start + timedelta(minutes=i))
        for i in range(HISTORY_SIZE + 5)
    )  # fmt: skip
    db.session.commit()
    page = f"/staff/users/{staff['handler']}"
    newest = start + timedelta(minutes=HISTORY_SIZE + 4)
    for email, language in (("admin@x.vn", "en"), ("manager@x.vn", "vi")):
        html = signed_in(app, email, language=language).get(page).get_data(as_text=True)
        assert html.count("<small>line ") == HISTORY_SIZE
        assert html.index("line 54") < html.index("line 53") and "line 04" not in html
        when = shown_time(newest, language)
        assert f"<td>{when}</td>" in html
        assert "<td>admin@x.vn</td>" in html
    en = signed_in(app, "admin@x.vn").get(page).get_data(as_text=True)
    assert "<td>command line</td>" in en
    assert signed_in(app, "handler@x.vn").get(page).status_code == 403
    assert signed_in(app, "manager@x.vn").get(f"/staff/users/{staff['far']}").status_code == 403


def test_the_command_line_records_its_changes_as_the_command_lines(app, staff, runner):
    steps = [
        (["users", "create", "new@x.vn", "--role", "handler", "--unit", "26734"], NEW_PASSWORD),
        (["users", "create", "boss@x.vn", "--role", "admin"], NEW_PASSWORD),
        (["users", "password", "handler@x.vn"], NEW_PASSWORD),
        (["users", "deactivate", "handler@x.vn"], None),
        (["users", "activate", "handler@x.vn"], None),
        (["users", "activate", "handler@x.vn"], None),  # active already: nothing changes
    ]
    for args, password in steps:
        result = runner.invoke(args=args, input=password and password + "\n")
        assert result.exit_code == 0, (args, result.output)
    assert events() == [
        ("new@x.vn", None, "created", "handler 26734"),
        ("boss@x.vn", None, "created", "admin"),
        ("handler@x.vn", None, "password", None),
        ("handler@x.vn", None, "deactivated", None),
        ("handler@x.vn", None, "activated", None),
    ]
    result = runner.invoke(args=["users", "history", "HANDLER@x.vn"])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines()]
    assert [line[1:] for line in lines] == [
        ["command line", "activated", "-"],
        ["command line", "deactivated", "-"],
        ["command line", "password", "-"],
    ]
    stamp = db.session.scalars(select(AccountEvent.at).order_by(AccountEvent.id.desc())).first()
    assert lines[0][0] == f"{stamp + timedelta(hours=7):%Y-%m-%d %H:%M:%S}"  # Vietnam time
    assert_no_password(result.output)


def test_users_history_names_the_actor_and_refuses_an_unknown_account(app, staff, runner):
    client = signed_in(app, "admin@x.vn")
    page = f"/staff/users/{staff['manager']}"
    data = form_at(client, page, page) | {"unit": "79"}
    assert client.post(page, data=data).status_code == 303
    result = runner.invoke(args=["users", "history", "manager@x.vn"])
    assert result.output.split("\t")[1:] == [
        "admin@x.vn",
        "role_unit",
        "manager 760 → manager 79\n",
    ]
    unknown = runner.invoke(args=["users", "history", "nobody@x.vn"])
    assert unknown.exit_code == 1 and "no account for 'nobody@x.vn'" in unknown.output
    help_ = runner.invoke(args=["users", "history", "--help"])
    assert help_.exit_code == 0 and "Show who changed an account" in help_.output


def test_refused_commands_record_nothing(app, staff, runner):
    db.session.get(User, staff["admin2"]).active = False
    db.session.commit()
    refused = [
        (["users", "create", "not-an-address", "--role", "admin"], NEW_PASSWORD),
        (["users", "create", "HANDLER@x.vn", "--role", "admin"], NEW_PASSWORD),
        (["users", "create", "h@x.vn", "--role", "handler"], NEW_PASSWORD),  # no unit
        (["users", "create", "h@x.vn", "--role", "admin"], "short"),
        (["users", "password", "handler@x.vn"], "short"),
        (["users", "password", "nobody@x.vn"], NEW_PASSWORD),
        (["users", "deactivate", "admin@x.vn"], None),  # the last active admin
    ]
    for args, password in refused:
        result = runner.invoke(args=args, input=password and password + "\n")
        assert result.exit_code == 1, (args, result.output)
    assert events() == []
