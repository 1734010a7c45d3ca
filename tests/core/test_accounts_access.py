"""Who reaches which account on /staff/users: role × (inside, outside the scope) × action.

Admins manage every account; a manager of district 760 sees the accounts of 760 and its communes
and manages only their handlers and analysts; handlers and analysts have no access.
"""

import pytest
from sqlalchemy import func, select

from core import invitations
from core.extensions import db
from core.models import Role, User
from tests.conftest import add_staff, client_of, csrf_for

ACTORS = ["admin", "manager", "handler", "analyst", None]  # None: signed out
NEW_PASSWORD = "another long password"

# target: (role, unit code), the manager's scope being 760 and the units under it.
TARGETS = {
    "handler inside": (Role.HANDLER, "26737"),
    "analyst inside": (Role.ANALYST, "760"),
    "manager inside": (Role.MANAGER, "26734"),
    "handler outside": (Role.HANDLER, "26800"),
    "manager outside": (Role.MANAGER, "769"),
    "other admin": (Role.ADMIN, None),
}
MANAGER_SEES = {"handler inside", "analyst inside", "manager inside"}
MANAGER_MANAGES = {"handler inside", "analyst inside"}


@pytest.fixture
def world(tree):
    """The actors, and one account of each target kind (e-mail: its name, dashed)."""
    actors = {
        "admin": ("admin@x.vn", Role.ADMIN, None),
        "manager": ("manager@x.vn", Role.MANAGER, "760"),
        "handler": ("handler@x.vn", Role.HANDLER, "26734"),
        "analyst": ("analyst@x.vn", Role.ANALYST, None),
    }
    targets = {
        name: (f"{name.replace(' ', '-')}@x.vn", role, code)
        for name, (role, code) in TARGETS.items()
    }
    made = add_staff(tree, actors | targets)
    return {name: made[name].id for name in targets}


def state(user_id) -> tuple:
    """What the actions can change on an account, read afresh from the database."""
    db.session.expire_all()
    user = db.session.get(User, user_id)
    return user.role, user.unit_id, user.active, user.password_hash, user.session_version


def allowed(actor, target, action) -> bool:
    if actor == "admin":
        return True
    if actor == "manager":
        return target in (MANAGER_SEES if action == "view" else MANAGER_MANAGES)
    return False


ACTIONS = ["view", "role", "password", "deactivate", "activate", "sessions", "invite"]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("actor", ACTORS)
def test_who_may_do_what_to_which_account(app, world, actor, target, action):
    user_id = world[target]
    if action == "activate":
        db.session.get(User, user_id).active = False
        db.session.commit()
    if action == "invite":  # an account with no password yet, as the back office makes them
        db.session.get(User, user_id).clear_password()
        db.session.commit()
    client = client_of(app, actor)
    before = state(user_id)
    url = f"/staff/users/{user_id}"
    if action == "view":
        response = client.get(url)
    else:
        data = {"csrf_token": csrf_for(client)}
        if action == "role":
            data |= {"role": "analyst", "unit": "26737"}
        else:
            url += f"/{action}"
        if action == "password":
            data |= {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        response = client.post(url, data=data)
    after = state(user_id)
    if actor is None:
        assert response.status_code == 302 and response.location.startswith("/login")
    elif not allowed(actor, target, action):
        assert response.status_code == 403
    elif action == "view":
        assert response.status_code == 200
        assert f"<h1>{target.replace(' ', '-')}@x.vn</h1>" in response.get_data(as_text=True)
    else:
        assert response.status_code == 303, response.get_data(as_text=True)
    changed = actor is not None and action != "view" and allowed(actor, target, action)
    assert (after != before) == changed
    if changed:
        role, unit_id, active, _hash, version = after
        user = db.session.get(User, user_id)
        assert {
            "role": role is Role.ANALYST and user.unit.code == "26737",
            "password": user.check_password(NEW_PASSWORD),
            "deactivate": active is False,
            "activate": active is True,
            "sessions": version == before[-1] + 1,
            "invite": not user.has_password and invitations.latest(user) is not None,
        }[action]
    elif action == "invite":
        assert invitations.latest(db.session.get(User, user_id)) is None


def test_an_unknown_account_is_missing_and_a_forged_id_refused(app, world):
    client = client_of(app, "manager")
    assert client.get("/staff/users/999999").status_code == 404
    for forged in ("0", "-1", "abc", "9" * 30, "1.5"):
        assert client.get(f"/staff/users/{forged}").status_code == 404, forged
    outside = world["handler outside"]
    response = client.post(
        f"/staff/users/{outside}/password",
        data={"csrf_token": csrf_for(client), "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 403
    assert not db.session.get(User, outside).check_password(NEW_PASSWORD)


def listed(client, query="") -> list[str]:
    html = client.get(f"/staff/users{query}").get_data(as_text=True)
    table = html.split("<tbody>")[1].split("</tbody>")[0]
    return [line.split('">')[1].split("<")[0] for line in table.split("<tr><td><a href=")[1:]]


@pytest.mark.parametrize("actor", ACTORS)
def test_the_list_shows_the_accounts_in_scope(app, world, actor):
    client = client_of(app, actor)
    response = client.get("/staff/users")
    if actor is None:
        assert response.status_code == 302
        return
    if actor in ("handler", "analyst"):
        assert response.status_code == 403
        return
    assert response.status_code == 200
    everyone = db.session.scalars(select(User.email).order_by(User.email)).all()
    inside = sorted(
        ["manager@x.vn", "handler@x.vn"]
        + [f"{name.replace(' ', '-')}@x.vn" for name in MANAGER_SEES]
    )
    assert sorted(listed(client)) == (everyone if actor == "admin" else inside)


def test_the_list_filters_by_unit_and_role_within_the_scope(app, world):
    admin, manager = client_of(app, "admin"), client_of(app, "manager")
    assert listed(admin, "?unit=769") == ["handler-outside@x.vn", "manager-outside@x.vn"]
    assert listed(admin, "?role=admin") == ["admin@x.vn", "other-admin@x.vn"]
    assert listed(manager, "?unit=26734&role=manager") == ["manager-inside@x.vn"]
    assert listed(manager, "?role=admin") == []
    assert listed(manager, "?role=boss") == listed(manager)  # an unknown role: no filter
    assert manager.get("/staff/users?unit=769").status_code == 403
    assert manager.get("/staff/users?unit=79").status_code == 403  # above the scope
    assert manager.get("/staff/users?unit=nope").status_code == 404
    assert manager.get("/staff/users?unit=" + "7" * 10_000).status_code == 404


def test_a_unit_code_no_unit_has_is_said_on_the_list_with_the_filter_kept(app, world):
    """A typo in the filter leaves the staff member on the accounts page, with the code they
    typed to correct, as the units page does; not on the public 'page does not exist'."""
    for actor in ("admin", "manager"):
        response = client_of(app, actor).get("/staff/users?unit=2673&role=handler")
        html = response.get_data(as_text=True)
        assert response.status_code == 404
        assert '<p class="msg" role="alert">No unit has the code 2673.</p>' in html
        assert 'name="unit" value="2673"' in html and 'value="handler" selected' in html
        assert 'href="/staff/users/new"' in html and "@x.vn" not in html.split("</form>", 2)[2]


def test_the_list_is_paged(app, tree, make_user):
    make_user("admin@x.vn", "admin")
    db.session.add_all(
        User(email=f"h{i:03}@x.vn", role=Role.HANDLER, unit=tree["26734"], password_hash="x")
        for i in range(60)
    )
    db.session.commit()
    client = client_of(app, "admin")
    first, second = listed(client), listed(client, "?page=2")
    assert len(first) == 50 and first[0] == "admin@x.vn"
    assert second == [f"h{i:03}@x.vn" for i in range(49, 60)]
    page = client.get("/staff/users?role=handler").get_data(as_text=True)
    assert 'href="/staff/users?page=2&amp;role=handler"' in page
    assert listed(client, "?page=3") == []
    assert db.session.scalar(select(func.count()).select_from(User)) == 61


@pytest.mark.parametrize("actor", ["admin", "manager", "handler", "analyst"])
def test_the_menu_offers_accounts_to_managing_roles_and_a_password_page_to_all(app, world, actor):
    client = client_of(app, actor)
    page = client.get("/staff/account/password")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'href="/staff/account/password"' in html
    assert ('href="/staff/users"' in html) == (actor in ("admin", "manager"))


def session_versions() -> dict[str, int]:
    return dict(db.session.execute(select(User.email, User.session_version)).all())


@pytest.mark.parametrize("actor", ACTORS)
def test_everyone_signed_in_ends_their_own_other_sessions(app, world, actor):
    client = client_of(app, actor)
    before = session_versions()
    response = client.post("/staff/account/sessions", data={"csrf_token": csrf_for(client)})
    after = session_versions()
    if actor is None:
        assert response.status_code == 302 and response.location.startswith("/login")
        assert after == before
        return
    assert response.status_code == 303
    assert after == before | {f"{actor}@x.vn": 1}  # theirs only
    assert client.get("/staff/account/password").status_code == 200  # this session goes on


def test_signed_out_the_password_page_leads_to_sign_in(client):
    response = client.get("/staff/account/password")
    assert response.status_code == 302 and response.location.startswith("/login")


@pytest.mark.parametrize("role", ["handler", "analyst", "manager"])
@pytest.mark.parametrize("where", ["inside", "outside"])
@pytest.mark.parametrize("actor", ACTORS)
def test_who_may_create_which_account_where(app, world, actor, where, role):
    client = client_of(app, actor)
    code = "26737" if where == "inside" else "26800"
    data = {"csrf_token": csrf_for(client), "email": "new@x.vn", "role": role, "unit": code,
            "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}  # fmt: skip
    response = client.post("/staff/users/new", data=data)
    created = db.session.scalar(select(User).where(User.email == "new@x.vn"))
    if actor is None:
        assert response.status_code == 302 and response.location.startswith("/login")
    elif actor in ("handler", "analyst"):
        assert response.status_code == 403
    elif actor == "admin" or (where == "inside" and role != "manager"):
        assert response.status_code == 303
        assert created.role == role and created.unit.code == code
        return
    else:  # a manager: a unit or a role it may not give is not among the choices
        assert response.status_code == 422
    assert created is None


def test_the_list_counts_its_accounts_in_the_pages_language(app, tree, make_user):
    make_user("admin@x.vn", "admin")
    client = client_of(app, "admin")
    client.set_cookie("lang", "en")
    assert '<p class="note">1 account</p>' in client.get("/staff/users").get_data(as_text=True)
    db.session.add_all(
        User(email=f"h{i:04}@x.vn", role=Role.HANDLER, unit=tree["26734"], password_hash="x")
        for i in range(1233)
    )
    db.session.commit()
    assert '<p class="note">1,234 accounts</p>' in client.get("/staff/users").get_data(as_text=True)
    client.set_cookie("lang", "vi")
    page = client.get("/staff/users").get_data(as_text=True)
    assert '<p class="note">1.234 tài khoản</p>' in page
