"""Back and Reload after a form sent by POST (a refused survey, the language switch), in a
real Chromium: they fetch the page again, never send the form again, and no browser page asks
to confirm sending it (net::ERR_CACHE_MISS)."""

from playwright.sync_api import expect
from sqlalchemy import func, select

from core.extensions import db
from feedback.models import Case
from survey.models import Response

DROP_REQUIRED = (
    "document.querySelectorAll('[required]').forEach(e => e.removeAttribute('required'))"
)


def count(model) -> int:
    db.session.rollback()  # see what the server committed since
    return db.session.scalar(select(func.count()).select_from(model))


def sent(page) -> list[tuple[str, str]]:
    """Record each page the browser asks for: its method, and whether it switched language."""
    requests = []

    def record(request):
        if request.is_navigation_request():
            switch = "switch_language" in (request.post_data or "")
            requests.append((request.method, "switch" if switch else "form"))

    page.on("request", record)
    return requests


def test_back_and_reload_after_a_refused_survey_and_a_switch_send_nothing(app, point, new_context):
    page = new_context(javascript=True)
    page.goto(f"/s/{point.token}")
    page.evaluate(DROP_REQUIRED)  # to see the server refuse the survey without HK
    page.locator("input[name=A1][value='4']").check()
    requests = sent(page)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("input[name=A1][value='4']")).to_be_checked()  # kept by the switch
    assert requests == [("POST", "form"), ("POST", "switch")]

    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.go_back()  # to the refused survey's page: net::ERR_CACHE_MISS before
    expect(page.locator("html")).to_have_attribute("lang", "vi")  # the choice is kept
    assert requests[2:] == [("GET", "form"), ("GET", "form")]
    assert page.url.endswith(f"/s/{point.token}")
    assert count(Response) == 0


def test_back_after_a_refused_pakn_and_a_switch_sends_nothing(app, tree, new_context):
    page = new_context(javascript=True)
    page.goto("/pakn/new?unit=26734")
    page.evaluate(DROP_REQUIRED)  # to see the server refuse a PAKN without its kind
    page.get_by_role("textbox", name="What happened").fill("Chờ lâu quá.")
    requests = sent(page)
    page.get_by_role("button", name="Send the PAKN").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("textarea[name=content]")).to_have_value("Chờ lâu quá.")
    page.go_back()  # to the refused PAKN's page: net::ERR_CACHE_MISS before
    expect(page.locator("textarea[name=content]")).to_be_visible()
    assert requests == [("POST", "form"), ("POST", "switch"), ("GET", "form")]
    assert page.url.endswith("/pakn/new?unit=26734")
    assert count(Case) == 0
