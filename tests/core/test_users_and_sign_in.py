"""Staff accounts from the CLI, and sign-in (its limits: test_sign_in_limits.py)."""

import re
import time

from sqlalchemy import select

from core.extensions import db
from core.models import Role, User
from tests.conftest import PASSWORD, csrf_token, login, new_client, page_forms


def test_users_create_reads_password_from_stdin(runner, tree):
    result = runner.invoke(
        args=["users", "create", "Chi.Tran@Example.vn", "--role", "manager", "--unit", "760"],
        input="a long password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert user.email == "Chi.Tran@example.vn"
    assert user.role is Role.MANAGER and user.unit.code == "760"
    assert user.password_hash.startswith("scrypt:") and user.check_password("a long password")


def test_users_create_errors(runner, tree):
    cases = [
        (["not-an-email", "--role", "admin"], "a long password\n", "not a valid e-mail"),
        (["a@example.vn", "--role", "manager"], "a long password\n", "needs --unit"),
        (["a@example.vn", "--role", "handler", "--unit", "nope"], "a long password\n", "no unit"),
        (["a@example.vn", "--role", "admin"], "short\n", "at least 10"),
        (["a@example.vn", "--role", "boss"], "a long password\n", "Invalid value for '--role'"),
    ]
    for args, stdin, message in cases:
        result = runner.invoke(args=["users", "create", *args], input=stdin)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    assert db.session.scalar(select(User)) is None
    runner.invoke(
        args=["users", "create", "a@example.vn", "--role", "admin"], input="x" * 12 + "\n"
    )
    again = runner.invoke(
        args=["users", "create", "a@example.vn", "--role", "admin"], input="x" * 12 + "\n"
    )
    assert again.exit_code != 0 and "already exists" in again.output
    # Sign-in reads an address in any case, so another case is the same account.
    other_case = runner.invoke(
        args=["users", "create", "A@Example.VN", "--role", "admin"], input="x" * 12 + "\n"
    )
    assert other_case.exit_code != 0 and "already exists" in other_case.output
    assert len(db.session.scalars(select(User)).all()) == 1


def test_users_create_checks_the_account_before_asking_for_the_password(runner, tree):
    # Nothing on stdin: a bad unit is named, not hidden behind the prompt's "Aborted!".
    bad_unit = runner.invoke(args=["users", "create", "a@example.vn", "--role", "handler",
                                   "--unit", "nope"])  # fmt: skip
    assert bad_unit.exit_code == 1 and "no unit with code nope" in bad_unit.output
    assert "Password" not in bad_unit.output
    no_password = runner.invoke(args=["users", "create", "a@example.vn", "--role", "admin"])
    assert no_password.exit_code == 1 and "no password" in no_password.output
    assert db.session.scalar(select(User)) is None


def test_sign_in_and_out(client, make_user, tree):
    make_user("admin@example.vn", "admin")
    response = login(client, "ADMIN@example.vn")
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 200
    page = client.get("/staff/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert client.get("/staff/").status_code == 302


def test_the_space_a_phone_adds_after_the_address_is_ignored(client, make_user):
    make_user("admin@example.vn", "admin")
    response = login(client, "  admin@example.vn ")
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 200


def test_login_without_csrf_token_is_refused(client, make_user):
    make_user("h@example.vn", "admin")
    response = client.post("/login", data={"email": "h@example.vn", "password": PASSWORD})
    assert response.status_code == 400
    assert "hết hạn" in response.get_data(as_text=True)


def test_login_redirect_stays_on_site(client, make_user):
    make_user("h@example.vn", "admin")
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": "h@example.vn", "password": PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert response.headers["Location"] == "/"


def test_each_role_lands_on_its_first_page_with_its_menu(client, make_user, tree):
    make_user("analyst@example.vn", "analyst")
    response = login(client, "analyst@example.vn")
    assert response.headers["Location"] == "/staff/analysis/"
    html = client.get("/staff/analysis/").get_data(as_text=True)
    assert "/staff/analysis/" in html and 'href="/staff/"' not in html
    make_user("handler@example.vn", "handler", tree["26734"])
    other = client.application.test_client()
    assert login(other, "handler@example.vn").headers["Location"] == "/staff/"
    menu = other.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/analysis/"' not in menu and 'href="/staff/calendar"' not in menu


def test_a_refusal_takes_as_long_for_an_address_with_no_account(client, make_user):
    """Refusing an unknown address at once would tell a stranger which addresses have accounts."""
    make_user("known@example.vn", "admin", slow=True)  # a real scrypt hash, as the CLI makes

    def refusal_seconds(email):
        page = client.get("/login").get_data(as_text=True)
        data = {"email": email, "password": "wrong password", "csrf_token": csrf_token(page)}
        start = time.perf_counter()
        response = client.post("/login", data=data)
        assert response.status_code == 200  # refused, the form shown again
        return time.perf_counter() - start

    known = min(refusal_seconds("known@example.vn") for _ in range(3))
    unknown = min(refusal_seconds(f"nobody{i}@example.vn") for i in range(3))
    # The hash is most of either answer (tens of ms); without it, an unknown address takes ~1 ms.
    assert unknown > known / 4, (known, unknown)


def test_users_list_shows_each_account_its_unit_and_state(runner, make_user, tree):
    make_user("b@x.vn", "handler", tree["26734"])
    make_user("a@x.vn", "manager", tree["760"])
    make_user("c@x.vn", "analyst")
    assert runner.invoke(args=["users", "deactivate", "B@x.vn"]).exit_code == 0
    lines = runner.invoke(args=["users", "list"]).output.splitlines()
    assert [line.split("\t")[:4] for line in lines] == [
        ["a@x.vn", "manager", "760", "active"],
        ["b@x.vn", "handler", "26734", "deactivated"],
        ["c@x.vn", "analyst", "-", "active"],
    ]
    district = runner.invoke(args=["users", "list", "--unit", "760"]).output.splitlines()
    assert [line.split("\t")[0] for line in district] == ["a@x.vn", "b@x.vn"]
    assert runner.invoke(args=["users", "list", "--unit", "nope"]).exit_code == 1


def test_a_deactivated_account_cannot_sign_in_and_its_session_ends(client, runner, make_user,
                                                                   tree, app):  # fmt: skip
    make_user("h@x.vn", "handler", tree["26734"])
    assert login(client, "h@x.vn").status_code == 302
    assert client.get("/staff/cases").status_code == 200
    result = runner.invoke(args=["users", "deactivate", "h@x.vn"])
    assert result.exit_code == 0 and "Deactivated h@x.vn" in result.output
    assert client.get("/staff/cases").status_code == 302  # to the sign-in page
    assert login(client, "h@x.vn").status_code == 200  # refused
    assert runner.invoke(args=["users", "activate", "h@x.vn"]).exit_code == 0
    assert client.get("/staff/cases").status_code == 302  # not back with the account
    assert login(client, "h@x.vn").status_code == 302
    assert client.get("/staff/cases").status_code == 200
    for command in ("activate", "deactivate", "password"):
        unknown = runner.invoke(args=["users", command, "nobody@x.vn"], input="x" * 12 + "\n")
        assert unknown.exit_code == 1 and "no account for 'nobody@x.vn'" in unknown.output


def test_a_new_password_ends_the_sessions_signed_in_with_the_old(client, runner, make_user,
                                                                 tree, app):  # fmt: skip
    make_user("h@x.vn", "handler", tree["26734"])
    other = app.test_client()
    assert login(client, "h@x.vn").status_code == 302 and login(other, "h@x.vn").status_code == 302
    short = runner.invoke(args=["users", "password", "h@x.vn"], input="short\n")
    assert short.exit_code == 1 and "at least 10" in short.output
    assert client.get("/staff/cases").status_code == 200  # nothing changed
    result = runner.invoke(args=["users", "password", "H@x.vn"], input="a new long password\n")
    assert result.exit_code == 0, result.output
    assert client.get("/staff/cases").status_code == 302
    assert other.get("/staff/cases").status_code == 302
    assert login(client, "h@x.vn").status_code == 200  # the old password: refused
    assert login(client, "h@x.vn", "a new long password").status_code == 302
    assert client.get("/staff/cases").status_code == 200


def test_a_session_cookie_naming_only_an_id_signs_no_one_in(client, make_user, tree):
    # As sessions were before they carried the password's mark, or as a forger might write one.
    user = make_user("a@x.vn", "admin")
    for forged in (str(user.id), f"{user.id}.", f"{user.id}.{'0' * 20}", "9" * 40, "١", ""):
        with client.session_transaction() as session:
            session["_user_id"] = forged
            session["_fresh"] = True
        assert client.get("/staff/cases").status_code == 302, forged


def test_an_address_with_accents_signs_in_through_the_page_as_a_browser_sends_it(client, make_user):
    make_user("nguyễn.hoa@x.vn", "admin")
    page = client.get("/login").get_data(as_text=True)
    (form,) = page_forms(page)
    # Not type=email: browsers refuse to send an address with accents before the @.
    assert re.search(r'<input type="text" inputmode="email" id="email"', page)
    typed = {"email": "nguyễn.hoa@x.vn", "password": PASSWORD}
    signed_in = client.post("/login", data=form["fields"] | typed)
    assert signed_in.status_code == 302
    assert client.get("/staff/").status_code == 200


def test_a_session_planted_before_sign_in_lends_its_csrf_token_to_no_one(app, make_user):
    """Session fixation: a stranger who sets a victim's session cookie to one of theirs (from
    a neighbouring subdomain, say) knows its CSRF token; signing in must start a new session."""
    make_user("admin@example.vn", "admin")
    stranger = new_client(app)
    token = csrf_token(stranger.get("/login").get_data(as_text=True))
    victim = new_client(app)
    victim.set_cookie("session", stranger.get_cookie("session").value)
    assert login(victim, "admin@example.vn").status_code == 302
    response = victim.post("/staff/account/sessions", data={"csrf_token": token})
    assert response.status_code == 400
    assert db.session.scalar(select(User.session_version)) == 0
