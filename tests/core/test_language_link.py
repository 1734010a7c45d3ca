"""The language link on a page that answers a form sent by POST, the script that keeps Back
and Reload from sending the form again, and links from other sites."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import User
from survey.integrity import issue_receipts
from tests.conftest import page_forms, signed_in, thanked

SCRIPT = re.compile(r'<script src="/static/forget_post\.js" data-address="([^"]*)" defer>')


def language_link(html: str) -> str:
    return re.search(r'<a class="lang" href="([^"]+)"', html).group(1).replace("&amp;", "&")


def account_locale(email: str) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(User.locale).where(User.email == email))


@pytest.fixture
def refused_password(app, make_user):
    """An administrator's client, and the page answering a too short password set for another
    account, sent from that account's page to the address that takes POST only."""
    make_user("admin@x.vn", "admin")
    other = make_user("other@x.vn", "analyst")
    client = signed_in(app, "admin@x.vn")
    account = f"/staff/users/{other.id}"
    form = next(
        f for f in page_forms(client.get(account).get_data(as_text=True))
        if f["action"].endswith("/password")
    )  # fmt: skip
    data = dict(form["fields"]) | {"password": "short", "confirm": "short"}
    page = client.post(form["action"], data=data, headers={"Referer": f"http://localhost{account}"})
    assert page.status_code == 422
    return client, account, page.get_data(as_text=True)


def test_the_language_link_after_a_refused_form_leads_to_the_forms_page(refused_password):
    # It led to the form's action, which answers POST only: 405.
    client, account, html = refused_password
    switched = client.get(language_link(html))
    assert switched.status_code == 302 and switched.location == account
    assert client.get(switched.location).status_code == 200


def test_a_page_answering_a_post_is_shown_again_by_get(refused_password, client, point):
    _client, account, html = refused_password
    assert SCRIPT.search(html).group(1) == account  # the form's page, its action takes no GET
    # The survey sent half answered: its own address, which answers GET too.
    form = page_forms(client.get(f"/s/{point.token}").get_data(as_text=True))[-1]
    refused = client.post(form["action"], data=dict(form["fields"]))
    assert refused.status_code == 422
    assert SCRIPT.search(refused.get_data(as_text=True)).group(1) == f"/s/{point.token}"
    fresh = client.get(f"/s/{point.token}").get_data(as_text=True)
    assert "forget_post.js" not in fresh  # a page fetched by GET has no form to send again


def answered(client, url: str) -> str:
    """Answer every question of the survey at url (4, no household register) and send it."""
    form = page_forms(client.get(url).get_data(as_text=True))[-1]
    data = dict(form["fields"]) | {"HK": "no"}
    data |= {q: "4" for q in ("A1", "A2", "B1", "C1", "D1", "E1")}
    sent = client.post(form["action"], data=data)
    assert thanked(sent)
    return sent.get_data(as_text=True)


def test_the_thanks_answering_a_survey_leads_to_itself_not_to_a_blank_form(client, point):
    # The page answers the POST at the form's address: Back, Reload and the language link
    # go to the thank-you page's own address, which a second citizen's form is not.
    html = answered(client, f"/s/{point.token}")
    thanks = f"/s/{point.token}/thanks"
    assert SCRIPT.search(html).group(1) == thanks
    assert language_link(html) == f"/lang/en?next={thanks}"
    switched = client.get(language_link(html))
    assert switched.location == thanks
    assert "Thank you!" in client.get(thanks).get_data(as_text=True)


def test_the_thanks_answering_a_receipt_leads_to_its_own_page(client, tree, questionnaire):
    [receipt] = issue_receipts(tree["26734"], 1, timedelta(days=30), issued_by=None)
    db.session.commit()
    html = answered(client, f"/r/{receipt.code}")
    thanks = f"/r/{receipt.code}/thanks"
    assert SCRIPT.search(html).group(1) == thanks
    assert language_link(html) == f"/lang/en?next={thanks}"
    assert client.get(thanks).status_code == 200


@pytest.mark.parametrize(
    ("headers", "kept"),
    [
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({"Sec-Fetch-Site": "same-site"}, False),  # another site of the same domain
        ({"Referer": "https://elsewhere.example/page"}, False),
        ({"Sec-Fetch-Site": "same-origin"}, True),
        ({"Sec-Fetch-Site": "none"}, True),  # typed in the address bar, or a bookmark
        ({"Referer": "http://localhost/staff/"}, True),
        ({}, True),
    ],
)
def test_a_link_from_another_site_changes_no_accounts_language(app, make_user, headers, kept):
    make_user("a@x.vn", "admin")
    client = signed_in(app, "a@x.vn", language="vi")
    assert client.get("/lang/en?next=/staff/", headers=headers).status_code == 302
    assert account_locale("a@x.vn") == ("en" if kept else None)
    html = client.get("/staff/").get_data(as_text=True)
    assert f'<html lang="{"en" if kept else "vi"}">' in html
    # A form's switch sent by GET from another site's link: shown once, not kept.
    client.get("/track?switch_language=en", headers=headers)
    assert account_locale("a@x.vn") == ("en" if kept else None)
