"""The accounts pages, through their real forms: create, change, new password, (de)activate."""

import re

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from core.extensions import db
from core.models import Role, User
from tests.conftest import PASSWORD, add_staff, login, page_forms, signed_in

NEW_PASSWORD = "a long new password"


@pytest.fixture
def staff(tree):
    accounts = add_staff(tree, {
        "admin": ("admin@x.vn", Role.ADMIN, None),
        "manager": ("manager@x.vn", Role.MANAGER, "760"),
        "handler": ("handler@x.vn", Role.HANDLER, "26734"),
    })  # fmt: skip
    return {role: user.id for role, user in accounts.items()}


def form_at(client, url, action=None) -> dict:
    """The fields of the page's form posting to action (default: the page's own URL)."""
    html = client.get(url).get_data(as_text=True)
    return next(f for f in page_forms(html) if f["action"] == (action or url))["fields"]


def accounts() -> list[tuple]:
    db.session.expire_all()
    return db.session.execute(
        select(User.email, User.role, User.unit_id, User.active, User.password_hash).order_by(
            User.id
        )
    ).all()


def test_an_admin_creates_an_account_whose_owner_chooses_its_password(app, staff):
    """With mail off (the suite's default), the link is shown once to the creator; tests/core/
    test_invitations.py follows it further, and the e-mail sent when mail is on."""
    client = signed_in(app, "admin@x.vn")
    data = form_at(client, "/staff/users/new")
    assert data["role"] == "" and data["unit"] == ""  # the browser's first choices: none
    assert "password" not in data  # nobody but the owner chooses it
    data |= {"email": "Lan.Nguyen@Example.VN", "role": "handler", "unit": "26737"}
    response = client.post("/staff/users/new", data=data)
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "Lan.Nguyen@example.vn"))
    assert user.role is Role.HANDLER and user.unit.code == "26737" and user.active
    assert not user.has_password and not user.check_password("")
    assert response.location == f"/staff/users/{user.id}"
    page = client.get(response.location)
    html = page.get_data(as_text=True)
    assert "Account Lan.Nguyen@example.vn created." in html and "26737 – Phường Đa Kao" in html
    [link] = re.findall(r'<code id="invitation-link">([^<]+)</code>', html)
    assert page.headers["Cache-Control"] == "no-store"
    assert link not in client.get(response.location).get_data(as_text=True)  # shown once
    owner = app.test_client()
    owner.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    path = link.removeprefix("http://survey.test")
    welcome = owner.get(path).get_data(as_text=True)
    assert "Welcome: choose your password" in welcome
    fields = page_forms(welcome)[0]["fields"] | {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert owner.post(path, data=fields).status_code == 303
    signed_in(app, "lan.nguyen@example.vn", NEW_PASSWORD)


def test_a_manager_creates_a_handler_of_a_commune_under_them(app, staff):
    client = signed_in(app, "manager@x.vn")
    html = client.get("/staff/users/new").get_data(as_text=True)
    role = html.split('<select id="role"')[1].split("</select>")[0]
    unit = html.split('<select id="unit"')[1].split("</select>")[0]
    assert role.count("<option") == 3 and 'value="handler"' in role and 'value="analyst"' in role
    assert 'value=""' not in unit and 'value="769"' not in unit and 'value="79"' not in unit
    data = form_at(client, "/staff/users/new") | {"email": "h2@x.vn", "unit": "26734"}
    data["role"] = "handler"
    assert client.post("/staff/users/new", data=data).status_code == 303
    created = db.session.scalar(select(User).where(User.email == "h2@x.vn"))
    assert created.role is Role.HANDLER and created.unit.code == "26734"


@pytest.mark.parametrize("creator", ["admin", "manager"])
def test_a_new_account_gets_no_role_its_creator_did_not_choose(app, staff, creator):
    """The role starts empty and is required: an administrator who filled in the address and
    the unit and overlooked the role would otherwise have made another administrator."""
    client = signed_in(app, f"{creator}@x.vn")
    html = client.get("/staff/users/new").get_data(as_text=True)
    role = html.split('<select id="role"')[1].split("</select>")[0]
    assert role.split(">", 1)[0].endswith(" required") and role.count(" selected") == 0
    assert role.split("<option")[1].startswith(' value="">')
    before = accounts()
    data = form_at(client, "/staff/users/new") | {"email": "forgot@x.vn", "unit": "26734"}
    response = client.post("/staff/users/new", data=data)
    assert response.status_code == 422 and accounts() == before
    assert '<p class="msg" id="e-role-1">This field is required.</p>' in response.text


VALID = {"email": "new@x.vn", "role": "handler", "unit": "26734"}
REFUSED = [
    ("admin", {"email": ""}, "email", "This field is required."),
    ("admin", {"email": "not-an-email"}, "email", "This is not an e-mail address."),
    ("admin", {"email": "a" * 10_000 + "@x.vn"}, "email", "Write at most 254 characters."),
    ("admin", {"email": "<script>alert(1)</script>@x.vn"}, "email",
     "This is not an e-mail address."),
    ("admin", {"email": "ADMIN@X.VN"}, "email", "An account with this e-mail already exists."),
    ("admin", {"role": "boss"}, "role", "Choose one of the answers shown."),
    ("admin", {"role": ""}, "role", "This field is required."),
    ("manager", {"role": ""}, "role", "This field is required."),
    ("admin", {"role": "manager", "unit": ""}, "unit", "A manager or a handler needs a unit."),
    ("admin", {"unit": "99999"}, "unit", "Choose one of the answers shown."),
    ("manager", {"role": "admin"}, "role", "Choose one of the answers shown."),
    ("manager", {"role": "manager"}, "role", "Choose one of the answers shown."),
    ("manager", {"unit": "26800"}, "unit", "Choose one of the answers shown."),
    ("manager", {"unit": "79"}, "unit", "Choose one of the answers shown."),
    ("manager", {"role": "analyst", "unit": ""}, "unit", "Choose one of the answers shown."),
]  # fmt: skip


@pytest.mark.parametrize(("actor", "change", "field", "message"), REFUSED)
def test_a_refused_account_is_shown_again_with_its_message_and_nothing_stored(
    app, staff, actor, change, field, message
):
    client = signed_in(app, f"{actor}@x.vn")
    before = accounts()
    data = form_at(client, "/staff/users/new") | VALID | change
    response = client.post("/staff/users/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert accounts() == before
    # The message stands next to its field, which says so to a screen reader.
    assert f'<p class="msg" id="e-{field}-1">{message}</p>' in html
    assert f'aria-describedby="e-{field}-1"' in html
    again = next(f for f in page_forms(html) if f["action"] == "/staff/users/new")["fields"]
    if len(data["email"]) <= 254:
        assert again["email"] == data["email"]  # the typed address is kept, as typed
    if "<script>" in data["email"]:
        assert "<script>" not in html and str(escape(data["email"])) in html
    if field != "role":
        assert again["role"] == data["role"]


def test_the_messages_are_in_the_users_language(app, staff):
    client = signed_in(app, "admin@x.vn", language="vi")
    data = form_at(client, "/staff/users/new") | VALID | {"email": ""}
    html = client.post("/staff/users/new", data=data).get_data(as_text=True)
    assert "Mục này là bắt buộc." in html and "This field is required." not in html


def test_a_post_without_the_csrf_token_is_refused(app, staff):
    client = signed_in(app, "admin@x.vn")
    before = accounts()
    handler = staff["handler"]
    posts = [
        ("/staff/users/new", VALID),
        (f"/staff/users/{handler}/deactivate", {}),
        (f"/staff/users/{handler}/password", VALID),
        (f"/staff/users/{handler}", {"role": "analyst", "unit": ""}),
        ("/staff/account/password", VALID | {"current": PASSWORD}),
    ]
    for url, data in posts:
        response = client.post(url, data=data)
        assert response.status_code == 400, url
        assert "This form has expired" in response.get_data(as_text=True)
    assert accounts() == before


def test_a_deactivated_account_is_signed_out_and_back_when_activated(app, staff):
    admin = signed_in(app, "admin@x.vn")
    handler = signed_in(app, "handler@x.vn")
    assert handler.get("/staff/cases").status_code == 200
    page = f"/staff/users/{staff['handler']}"
    data = form_at(admin, page, f"{page}/deactivate")
    response = admin.post(f"{page}/deactivate", data=data)
    assert response.status_code == 303
    assert "Account handler@x.vn deactivated." in admin.get(page).get_data(as_text=True)
    assert handler.get("/staff/cases").status_code == 302  # to the sign-in page
    assert login(app.test_client(), "handler@x.vn").status_code == 200  # refused
    data = form_at(admin, page, f"{page}/activate")
    assert admin.post(f"{page}/activate", data=data).status_code == 303
    signed_in(app, "handler@x.vn")


def test_a_new_password_ends_the_accounts_sessions(app, staff):
    manager = signed_in(app, "manager@x.vn")
    handler = signed_in(app, "handler@x.vn")
    page = f"/staff/users/{staff['handler']}"
    data = form_at(manager, page, f"{page}/password")
    assert data == {"csrf_token": data["csrf_token"], "password": "", "confirm": ""}
    differ = data | {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"}
    refused = manager.post(f"{page}/password", data=differ)
    assert refused.status_code == 422
    assert "The two passwords are not the same." in refused.get_data(as_text=True)
    assert handler.get("/staff/cases").status_code == 200  # nothing changed
    data |= {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert manager.post(f"{page}/password", data=data).status_code == 303
    assert handler.get("/staff/cases").status_code == 302
    assert login(app.test_client(), "handler@x.vn").status_code == 200  # the old one: refused
    signed_in(app, "handler@x.vn", NEW_PASSWORD)
    assert manager.get("/staff/users").status_code == 200  # the manager's own session goes on


def test_a_manager_moves_a_handler_within_their_scope_only(app, staff):
    client = signed_in(app, "manager@x.vn")
    page = f"/staff/users/{staff['handler']}"
    data = form_at(client, page)
    assert (data["role"], data["unit"]) == ("handler", "26734")
    for forged in ({"unit": "26800"}, {"unit": "79"}, {"role": "manager"}, {"role": "admin"}):
        before = accounts()
        response = client.post(page, data=data | forged)
        assert response.status_code == 422, forged
        assert "Choose one of the answers shown." in response.get_data(as_text=True)
        assert accounts() == before
    assert client.post(page, data=data | {"unit": "26737"}).status_code == 303
    assert db.session.get(User, staff["handler"]).unit.code == "26737"


def test_no_one_deactivates_themselves_or_changes_their_own_role(app, staff, make_user):
    make_user("admin2@x.vn", "admin")
    client = signed_in(app, "admin@x.vn")
    own = f"/staff/users/{staff['admin']}"
    html = client.get(own).get_data(as_text=True)
    assert f"{own}/deactivate" not in html and f"{own}/password" not in html
    before = accounts()
    data = form_at(client, own)
    response = client.post(f"{own}/deactivate", data={"csrf_token": data["csrf_token"]})
    assert response.status_code == 422
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    response = client.post(own, data=data | {"role": "manager", "unit": "760"})
    assert response.status_code == 422
    assert "You cannot change your own role." in response.get_data(as_text=True)
    response = client.post(f"{own}/password", data=data | {"password": NEW_PASSWORD,
                                                           "confirm": NEW_PASSWORD})  # fmt: skip
    assert response.status_code == 422
    assert "Change your own password on its page" in response.get_data(as_text=True)
    assert accounts() == before
    # Their own unit, an administrator may change.
    assert client.post(own, data=data | {"unit": "79"}).status_code == 303
    assert db.session.get(User, staff["admin"]).unit.code == "79"


def test_the_last_active_admin_stays(app, staff, runner, make_user):
    other = make_user("admin2@x.vn", "admin")
    client = signed_in(app, "admin2@x.vn")
    page = f"/staff/users/{staff['admin']}"
    data = form_at(client, page, f"{page}/deactivate")
    assert client.post(f"{page}/deactivate", data=data).status_code == 303
    # admin2 is now the last active admin: the command line refuses to stop it too.
    result = runner.invoke(args=["users", "deactivate", "admin2@x.vn"])
    assert result.exit_code == 1 and "admin2@x.vn is the last active admin" in result.output
    assert db.session.get(User, other.id).active
    assert runner.invoke(args=["users", "activate", "admin@x.vn"]).exit_code == 0
    assert runner.invoke(args=["users", "deactivate", "admin2@x.vn"]).exit_code == 0


def test_the_last_active_admin_keeps_the_role(app, staff):
    from core.accounts import LastAdmin, change_role_and_unit, set_active

    admin = db.session.get(User, staff["admin"])
    with pytest.raises(LastAdmin):
        change_role_and_unit(admin, Role.ANALYST, None, actor=None)
    with pytest.raises(LastAdmin):
        set_active(admin, False, actor=None)
    assert admin.role is Role.ADMIN and admin.active
    change_role_and_unit(admin, Role.ADMIN, db.session.get(User, staff["manager"]).unit, actor=None)
    assert admin.unit.code == "760"
    assert db.session.scalar(select(func.count()).where(User.role == Role.ADMIN)) == 1


def test_the_command_line_keeps_the_pages_password_length(runner, tree):
    """A password longer than sign-in reads (200 characters) could never be used."""
    for password, code in (("p" * 201, 1), ("p" * 200, 0)):
        result = runner.invoke(args=["users", "create", "a@x.vn", "--role", "admin"],
                               input=password + "\n")  # fmt: skip
        assert result.exit_code == code, result.output
    assert (
        "at most 200 characters"
        in runner.invoke(args=["users", "password", "a@x.vn"], input="p" * 201 + "\n").output
    )
