"""Every POST route of the app, sent its form wrong: without a CSRF token or with a forged one,
without fields, with each field oversized or of the wrong type.

The routes come from app.url_map and each form from the page that shows it, as a browser would
send it. No answer may be a server error, and a request refused writes nothing. Each walk has a
database of its own: the forms accepted change it. The helpers are the GET walk's.
"""

from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.exceptions import HTTPException

from core.i18n import SWITCH_FIELD
from tests.conftest import csrf_for, page_forms
from tests.test_hostile_requests import (
    check,
    clients,
    find_rule,
    get_rules,
    names_read,
    pytest_generate_tests,  # noqa: F401 (the rules of each test)
    real_url,
    seed,
    snapshot,
)


@pytest.fixture
def posting(app, tree, questionnaire):
    """A database of its own for each POST walk, which changes it: (app, values, clients)."""
    return app, seed(app, tree, questionnaire), clients(app)


# What is posted in place of a field's value: oversized (over the 64 KB a request may carry,
# but for the forms that take photos or files), and the wrong types.
OVERSIZED = "x" * 100 * 1024
WRONG = {
    "empty": "",
    "minus one": "-1",
    "huge integer": "99999999999999999999",
    "not a number": "abc",
    "not a date": "31/02/2024",
    "markup": "'\"<x>",
    "right-to-left override": "\u202eabc",
}
SUCCESS = (301, 302, 303)  # a form accepted redirects (Post/Redirect/Get)


# Which page, seen by whom, holds the form of each endpoint: found once by the first POST walk,
# which looks at every page (the values differ from one walk's database to the next).
FORM_PAGES: dict[str, tuple[str, str]] = {}
# Forms that, accepted, show what they made on the page rather than redirect, and why.
SHOWN_ON_SUCCESS = {
    "feedback_admin.api_keys": "a new key is shown once, never stored in clear",
    "survey_counter.receipts": "the codes issued are shown, to be printed",
}


def forms_on(app, client, page_url) -> dict[str, tuple[str, dict]]:
    """The page's forms that post, by endpoint: (action, fields as a browser sends them with
    the first named button that is not the language switch)."""
    adapter = app.url_map.bind("localhost")
    page = client.get(page_url)
    if page.status_code != 200 or page.mimetype != "text/html":
        return {}
    found = {}
    for form in page_forms(page.get_data(as_text=True)):
        action = urljoin(page_url, form["action"] or page_url)
        try:
            endpoint, _args = adapter.match(urlsplit(action).path, method="POST")
        except HTTPException:
            continue  # a GET form
        fields = dict(form["fields"])
        for button in form["buttons"]:
            if button["name"] != SWITCH_FIELD:
                fields[button["name"]] = button.get("value", "")
                break
        found.setdefault(endpoint, (action, fields))
    return found


def form_of(app, world, visitors, endpoint) -> tuple[str, str, dict] | None:
    """(visitor, action, fields) of the endpoint's form, on a citizen's page if any."""
    if not FORM_PAGES:
        for who in ("citizen", "admin"):
            for rule in get_rules(app):
                url = real_url(rule, world, visitors[who][1])
                for found in forms_on(app, visitors[who][0], url):
                    FORM_PAGES.setdefault(found, (who, rule.endpoint))
    if endpoint not in FORM_PAGES:
        return None
    who, page_endpoint = FORM_PAGES[endpoint]
    page_rule = next(r for r in get_rules(app) if r.endpoint == page_endpoint)
    client, language = visitors[who]
    return who, *forms_on(app, client, real_url(page_rule, world, language))[endpoint]


def test_post_route_refuses_bad_forms(posting, rule):
    """The route's form (as its page shows it) without a CSRF token, with a forged one, with
    no fields, with each field oversized or of the wrong type: no server error, and nothing
    written by a request refused (anything but a redirect)."""
    app, world, visitors = posting
    rule = find_rule(app, rule)
    # A route without a form on any page (an API, or a form shown only in a state the walk's
    # database is not in): the names its view reads, as a program would send them.
    view = app.view_functions[rule.endpoint]
    who, action, fields = form_of(app, world, visitors, rule.endpoint) or (
        "admin", real_url(rule, world, "vi"), dict.fromkeys(names_read(view), "1")
    )  # fmt: skip
    client, language = visitors[who]
    fields.pop("csrf_token", None)
    state = [snapshot()]

    def post(label, data, sent="", refused=False):
        response = client.post(action, data=data)
        status = response.status_code
        check(response, language, sent, f"{who} {label} {action}", rule.endpoint)
        if refused:
            assert status not in SUCCESS, f"{label}: {status}"
        if status in SUCCESS or (status == 200 and rule.endpoint in SHOWN_ON_SUCCESS):
            state[0] = snapshot()  # accepted: what it wrote is the next request's start
        else:
            assert snapshot() == state[0], f"{label}: refused ({status}), yet written"

    post("no CSRF token", fields, refused=True)
    post("forged CSRF token", fields | {"csrf_token": "forged"}, refused=True)
    post("no fields", {"csrf_token": csrf_for(client)})
    for name in sorted(fields):
        post(f"{name} oversized", fields | {name: OVERSIZED, "csrf_token": csrf_for(client)})
        for label, value in WRONG.items():
            data = fields | {name: value, "csrf_token": csrf_for(client)}
            post(f"{name} {label}", data, value)
