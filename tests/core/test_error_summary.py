"""A form the server sends back opens on a summary of its mistakes: focused on arrival without any
script (autofocus), with a link to each field in error, in the order of the form; and the links
repeated on every row of a table say which row they are for."""

import re

from core.extensions import db
from core.models import Role
from survey.services import add_point
from tests.conftest import add_staff, new_client, page_forms, signed_in

SUMMARY = re.compile(r'<div class="error" role="alert" id="errors"([^>]*)>(.*?)</div>', re.S)


def summary_of(html: str) -> tuple[str, list[str]]:
    """The summary's attributes and the fields its links lead to; fail if there is none."""
    found = SUMMARY.search(html)
    assert found, "no error summary on the page"
    return found[1], re.findall(r'<a href="#([^"]+)">', found[2])


def focused_on_arrival(html: str) -> str:
    """The element the browser focuses as the page opens (the first autofocus): its id, or its
    text if it has none."""
    first = re.search(r"<[a-z]+ ([^>]*\bautofocus\b[^>]*)>([^<]*)", html)
    assert first, "nothing takes the focus"
    named = re.search(r'\bid="([^"]+)"', first[1])
    return named[1] if named else first[2]


def test_the_citizens_pakn_form_opens_on_its_mistakes_in_the_order_of_the_form(client, point):
    url = f"/pakn/new?point={point.token}"
    data = page_forms(client.get(url).get_data(as_text=True))[-1]["fields"]
    data.pop("photos", None)
    data.update(kind="report", topic="delay", content="ngắn", email="x@", consent="")
    html = client.post(url, data=data, content_type="multipart/form-data").get_data(as_text=True)
    attributes, links = summary_of(html)
    assert 'tabindex="-1"' in attributes and focused_on_arrival(html) == "errors"
    assert links == ["content", "email", "consent"]
    for field_id in links:
        assert f'id="{field_id}"' in html


def test_a_tracking_code_not_found_takes_the_focus_to_its_message(client, tree):
    html = client.get("/track?code=ABCDE-FGHJK").get_data(as_text=True)
    assert focused_on_arrival(html) == "code-error"


def test_the_staff_intake_opens_on_its_mistakes(app, tree):
    add_staff(tree, {"handler": ("handler@x.vn", Role.HANDLER, "26734")})
    client = signed_in(app, "handler@x.vn")
    page = client.get("/staff/cases/new").get_data(as_text=True)
    data = page_forms(page)[-1]["fields"] | {"content": ""}
    html = client.post("/staff/cases/new", data=data).get_data(as_text=True)
    _attributes, links = summary_of(html)
    assert focused_on_arrival(html) == "errors"
    assert links[0] == "kind" and "content" in links


def test_a_refused_account_opens_on_its_mistakes(app, tree):
    add_staff(tree, {"admin": ("admin@x.vn", Role.ADMIN, None)})
    client = signed_in(app, "admin@x.vn")
    page = client.get("/staff/users/new").get_data(as_text=True)
    data = page_forms(page)[-1]["fields"] | {"email": "not an address"}
    html = client.post("/staff/users/new", data=data).get_data(as_text=True)
    assert summary_of(html)[1][0] == "email" and focused_on_arrival(html) == "errors"


def test_a_wrong_password_opens_the_sign_in_page_on_the_message(app, tree):
    add_staff(tree, {"admin": ("admin@x.vn", Role.ADMIN, None)})
    client = new_client(app)
    page = client.get("/login").get_data(as_text=True)
    data = page_forms(page)[-1]["fields"] | {"email": "admin@x.vn", "password": "wrong one"}
    html = client.post("/login", data=data).get_data(as_text=True)
    assert (
        focused_on_arrival(html)
        == "Wrong e-mail or password, or the account is locked for a while."
    )


def test_a_form_that_was_not_refused_takes_no_focus(app, tree, point):
    add_staff(tree, {"admin": ("admin@x.vn", Role.ADMIN, None)})
    client = signed_in(app, "admin@x.vn")
    for url in ("/staff/cases/new", "/staff/users/new", f"/pakn/new?point={point.token}"):
        html = client.get(url).get_data(as_text=True)
        assert "autofocus" not in html and 'id="errors"' not in html, url


def test_each_points_links_name_its_point(app, tree, point):
    add_point(tree["26734"], "Quầy 2", actor=None)
    db.session.commit()
    add_staff(tree, {"admin": ("admin@x.vn", Role.ADMIN, None)})
    client = signed_in(app, "admin@x.vn")
    html = client.get("/staff/").get_data(as_text=True)
    names = re.findall(r'<a href="[^"]*" aria-label="([^"]+)">Rename or retire</a>', html)
    assert names == ["Rename or retire Quầy 1", "Rename or retire Quầy 2"]
    screens = re.findall(r'aria-label="([^"]+)">Counter screen</a>', html)
    assert screens == ["Counter screen of Quầy 1", "Counter screen of Quầy 2"]
