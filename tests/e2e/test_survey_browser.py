"""The citizen's survey page in a real Chromium, served by gunicorn on the test database."""

import io
import re

import pytest
import zxingcpp
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from core.extensions import db
from survey.models import CRITERIA, Response

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
MAX_FIRST_LOAD = 30 * 1024  # bytes
MIN_TAP = 44  # CSS px
HK_VI = re.compile(r"sổ hộ khẩu")
SUBMIT_VI = "Gửi đánh giá"
THANKS_VI = "Cảm ơn ông/bà!"
NO_OPINION_VI = "Không có ý kiến"


@pytest.fixture
def new_page(browser, live_server, live_server_dir):
    """Open a page in a fresh context (phone, Vietnamese, JavaScript on unless told).

    Afterwards, fail if the server answered any request with a 5xx, and show its log.
    """
    contexts = []
    server_errors = []

    def record_errors(response):
        if response.status >= 500:
            server_errors.append(f"{response.status} {response.request.method} {response.url}")

    def new_page(*, js: bool = True, locale: str = "vi-VN") -> Page:
        context = browser.new_context(
            base_url=live_server, locale=locale, java_script_enabled=js, **PHONE
        )
        context.set_default_timeout(10_000)
        context.on("response", record_errors)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()
    if server_errors:
        log = (live_server_dir / "gunicorn.log").read_text(errors="replace")[-4000:]
        pytest.fail("server errors:\n" + "\n".join(server_errors) + "\n\ngunicorn log:\n" + log)


def stored_responses() -> list[Response]:
    db.session.rollback()  # see what the server committed since
    return list(db.session.scalars(select(Response)))


def group(page: Page, name) -> Locator:
    return page.get_by_role("group", name=name)


def criterion(page: Page, code: str) -> Locator:
    return group(page, re.compile(rf"^{code}\. "))


def tap_answer(fieldset: Locator, answer: str) -> None:
    """Tap the label of the radio named `answer` in the fieldset; check that it got chosen."""
    radio = fieldset.get_by_role("radio", name=answer, exact=True)
    fieldset.locator("label", has=fieldset.page.get_by_role("radio", name=answer, exact=True)).tap()
    expect(radio).to_be_checked()


def fill_survey(page: Page, hk: str = "Không", values: dict | None = None) -> dict:
    """Answer HK and the criteria (4 and 5 in turn unless told); return the chosen values."""
    if hk:
        tap_answer(group(page, HK_VI), hk)
    if values is None:
        values = {code: 4 + i % 2 for i, code in enumerate(CRITERIA)}
    for code, value in values.items():
        tap_answer(criterion(page, code), str(value) if value else NO_OPINION_VI)
    return values


def serious_violations(page: Page) -> list[dict]:
    result = Axe().run(page)
    return [v for v in result.response["violations"] if v["impact"] in ("serious", "critical")]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " / ")
            lines.append(f"      {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page, what: str) -> None:
    violations = serious_violations(page)
    assert not violations, f"axe-core, {what}:\n{describe(violations)}"


def test_phone_without_javascript_records_the_answers(app, point, new_page):
    token, point_id, unit_id = point.token, point.id, point.unit_id
    page = new_page(js=False)
    page.goto(f"/s/{token}")
    expect(page.get_by_role("heading", level=1, name="Phường Bến Nghé")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "vi")

    chosen = fill_survey(page, hk="Không")
    page.get_by_role("button", name=SUBMIT_VI).tap()

    expect(page.get_by_role("heading", level=1)).to_have_text(THANKS_VI)
    expect(page).to_have_title("Cảm ơn")
    expect(page.get_by_role("status")).to_contain_text("Phường Bến Nghé")
    # The thank-you page answers the POST itself (no redirect: one round trip less); its
    # language link leads to its own address, not to a blank form.
    assert page.url.endswith(f"/s/{token}")
    expect(page.locator("a.lang")).to_have_attribute("href", f"/lang/en?next=/s/{token}/thanks")

    responses = stored_responses()
    assert len(responses) == 1
    r = responses[0]
    assert (r.point_id, r.unit_id, r.channel) == (point_id, unit_id, "static")
    assert r.hk is False
    assert {code: getattr(r, code.lower()) for code in CRITERIA} == chosen
    assert (r.procedure, r.comment) == (None, None)


def test_with_scripts_the_thanks_page_reloads_as_itself(app, point, new_page):
    """With scripts on, the page answering the POST takes its own address: Reload and Back
    then fetch pages by GET, never the form sent again nor a blank form under the thanks."""
    token = point.token
    page = new_page()
    page.goto(f"/s/{token}")
    fill_survey(page, hk="Không")
    page.get_by_role("button", name=SUBMIT_VI).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(THANKS_VI)
    expect(page).to_have_url(re.compile(f"/s/{token}/thanks$"))
    methods = []
    page.on("request", lambda request: methods.append(request.method))
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(THANKS_VI)
    page.go_back()
    expect(page.locator("form[method=post]")).to_be_visible()
    assert "POST" not in methods, methods
    assert len(stored_responses()) == 1


def test_page_fits_a_phone_and_tap_targets_are_large(app, point, new_page):
    for locale in ("en-US", "vi-VN"):
        page = new_page(locale=locale)
        page.goto(f"/s/{point.token}")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 360, f"the page scrolls sideways in {locale}: {scroll_width}px wide"

    radio_labels = page.locator("label:has(input[type=radio])")
    assert radio_labels.count() == 2 + 6 * len(CRITERIA)
    others = page.locator("main button, main select, main textarea, header a, header button")
    small = []
    for targets in (radio_labels, others):
        for i in range(targets.count()):
            target = targets.nth(i)
            box = target.bounding_box()
            if box["width"] < MIN_TAP or box["height"] < MIN_TAP or box["x"] + box["width"] > 360:
                small.append(f"{target.evaluate('e => e.outerHTML')[:80]}: {box}")
    assert not small, "tap targets under 44×44 px or off screen:\n" + "\n".join(small)


def test_the_household_register_question_sits_inside_its_box(app, point, new_page):
    """Its legend wraps to four lines on a phone; a fieldset's border runs through its legend's
    first line unless the legend is laid out inside the box."""
    page = new_page(locale="vi-VN")
    page.goto(f"/s/{point.token}")
    box = page.locator("#q-HK").bounding_box()
    legend = page.locator("#q-HK > legend").bounding_box()
    assert legend["height"] > 40  # wrapped
    assert legend["y"] >= box["y"] + 2, (box, legend)  # below the 2 px top border
    answers = page.locator("#q-HK .yn").bounding_box()
    assert answers["y"] >= legend["y"] + legend["height"]


def test_first_load_is_light_and_needs_no_fonts_or_scripts(app, point, new_page):
    page = new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(f"/s/{point.token}", wait_until="load")

    loaded = []
    for response in responses:
        response.finished()
        sizes = response.request.sizes()
        loaded.append(
            (
                response.url,
                response.request.resource_type,
                sizes["responseBodySize"] + sizes["responseHeadersSize"],
            )
        )
    listing = "\n".join(f"  {size:6d} B {kind:10} {url}" for url, kind, size in loaded)
    total = sum(size for _, _, size in loaded)
    assert {kind for _, kind, _ in loaded} >= {"document", "stylesheet"}, listing
    assert total <= MAX_FIRST_LOAD, f"first load weighs {total} B:\n{listing}"
    unwanted = [
        url
        for url, kind, _ in loaded
        if kind in ("font", "script") or re.search(r"\.(woff2?|ttf|otf|js)(\?|$)", url)
    ]
    assert not unwanted, f"fonts or scripts on first load:\n{listing}"


@pytest.mark.parametrize("locale", ["vi-VN", "en-US"])
def test_survey_page_is_accessible(app, point, new_page, locale):
    page = new_page(locale=locale)
    page.goto(f"/s/{point.token}")
    expect(page.locator("html")).to_have_attribute("lang", locale[:2])
    assert_accessible(page, f"survey page ({locale})")


def test_error_and_thanks_pages_are_accessible(app, point, new_page):
    page = new_page()
    page.goto(f"/s/{point.token}")
    fill_survey(page, hk="", values={"A1": 3, "C2": 0})
    # The browser would not send the form without HK; remove `required` to see the server's answer.
    page.evaluate(
        "document.querySelectorAll('[required]').forEach(e => e.removeAttribute('required'))"
    )
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=SUBMIT_VI).tap()
    assert posted.value.status == 422

    expect(page.get_by_role("alert")).to_be_visible()
    hk = group(page, HK_VI)
    expect(hk).to_contain_text("bắt buộc")
    expect(criterion(page, "A1").get_by_role("radio", name="3", exact=True)).to_be_checked()
    expect(criterion(page, "C2").get_by_role("radio", name=NO_OPINION_VI)).to_be_checked()
    assert_accessible(page, "survey page with errors")
    assert stored_responses() == []

    tap_answer(hk, "Có")
    page.get_by_role("button", name=SUBMIT_VI).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(THANKS_VI)
    assert_accessible(page, "thank-you page")
    [r] = stored_responses()
    assert (r.hk, r.a1, r.c2, r.a2) == (True, 3, 0, None)


def test_language_switch_keeps_the_answers_without_javascript(app, point, new_page):
    page = new_page(js=False)
    page.goto(f"/s/{point.token}")
    expect(page.get_by_role("button", name=SUBMIT_VI)).to_be_visible()
    # Half the survey answered, HK (required) not yet: the switch must not stop at it.
    fill_survey(page, hk="", values={"A1": 5, "B2": 0, "C3": 2})
    page.get_by_role("textbox").fill("Cán bộ tận tình.")

    page.get_by_role("button", name="English").tap()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith(f"/s/{point.token}")
    expect(page.get_by_role("heading", level=1, name="Phường Bến Nghé")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)  # nothing marked as an error
    expect(group(page, re.compile("paper household register"))).to_be_visible()
    expect(criterion(page, "A1").get_by_role("radio", name="5", exact=True)).to_be_checked()
    expect(criterion(page, "B2").get_by_role("radio", name="No opinion")).to_be_checked()
    expect(criterion(page, "C3").get_by_role("radio", name="2", exact=True)).to_be_checked()
    expect(criterion(page, "A2").get_by_role("radio", name="5", exact=True)).not_to_be_checked()
    expect(page.get_by_role("textbox")).to_have_value("Cán bộ tận tình.")
    assert stored_responses() == []

    tap_answer(criterion(page, "A2"), "4")
    page.get_by_role("button", name="Tiếng Việt").tap()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(group(page, HK_VI)).to_be_visible()
    expect(criterion(page, "A2").get_by_role("radio", name="4", exact=True)).to_be_checked()
    expect(criterion(page, "A1").get_by_role("radio", name="5", exact=True)).to_be_checked()
    # Reloaded, the page stays in Vietnamese: the cookie remembers the choice.
    page.goto(f"/s/{point.token}")
    expect(page.locator("html")).to_have_attribute("lang", "vi")

    page.goto(f"/s/{point.token}")
    fill_survey(page, hk="Có", values={"A1": 3})
    page.get_by_role("button", name=SUBMIT_VI).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(THANKS_VI)
    [r] = stored_responses()
    assert (r.hk, r.a1, r.a2) == (True, 3, None)  # what the switches showed was never recorded


def test_survey_page_after_the_language_switch_is_accessible(app, point, new_page):
    page = new_page()  # axe-core is a script: it runs only where scripts do
    page.goto(f"/s/{point.token}")
    fill_survey(page, hk="", values={"A1": 5})
    page.get_by_role("button", name="English").tap()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(criterion(page, "A1").get_by_role("radio", name="5", exact=True)).to_be_checked()
    assert_accessible(page, "survey page after the language switch")


def test_double_click_records_one_response(app, point, new_page):
    page = new_page()
    page.goto(f"/s/{point.token}")
    fill_survey(page, hk="Có", values={"B1": 5})
    posts = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    page.get_by_role("button", name=SUBMIT_VI).dblclick()
    expect(page.get_by_role("heading", level=1)).to_have_text(THANKS_VI)
    assert 1 <= len(posts) <= 2  # Chromium itself sends one; the next test sends copies at once
    [r] = stored_responses()
    assert (r.hk, r.b1) == (True, 5)


def test_going_back_and_sending_again_records_one_response(app, point, new_page):
    """Back fetches a fresh form while the browser restores the answers: count them once."""
    page = new_page()
    page.goto(f"/s/{point.token}")
    fill_survey(page, hk="Có", values={"B1": 5})
    page.get_by_role("button", name=SUBMIT_VI).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(THANKS_VI)

    page.go_back()  # the citizen is not sure it was sent: the answers are still there
    expect(criterion(page, "B1").get_by_role("radio", name="5", exact=True)).to_be_checked()
    page.get_by_role("button", name=SUBMIT_VI).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(THANKS_VI)
    assert len(stored_responses()) == 1


def test_a_connection_lost_as_the_answers_are_sent_loses_nothing(app, point, new_page):
    """The phone is offline when the citizen taps Send: the browser's own error page; back
    online, reloading it sends the same form again, which is recorded once."""
    page = new_page(js=False)
    page.goto(f"/s/{point.token}")
    fill_survey(page, hk="Không", values={"C1": 1})
    page.context.set_offline(True)
    with page.expect_event("requestfailed") as failed:
        page.get_by_role("button", name=SUBMIT_VI).tap()
    assert failed.value.method == "POST" and "DISCONNECTED" in failed.value.failure
    expect(page).to_have_url(re.compile("^chrome-error:"))  # the browser's own page
    assert stored_responses() == []
    page.context.set_offline(False)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(THANKS_VI)
    [r] = stored_responses()
    assert (r.hk, r.c1, r.a1) == (False, 1, None)


def test_an_answer_lost_on_its_way_back_then_sent_again_is_recorded_once(app, point, new_page):
    """The server records the answers but the phone never hears back (the connection drops on
    the way back); the citizen reloads, the browser sends the form again: one response."""
    page = new_page(js=False)
    page.goto(f"/s/{point.token}")
    fill_survey(page, hk="Có", values={"E3": 2})
    reached = []

    def lose_the_answer(route):
        reached.append(route.fetch(max_redirects=0).status)  # the server gets the form
        route.abort("connectionreset")  # and the phone gets nothing

    page.route(f"**/s/{point.token}", lose_the_answer)
    with page.expect_event("requestfailed") as failed:
        page.get_by_role("button", name=SUBMIT_VI).tap()
    assert failed.value.method == "POST" and "RESET" in failed.value.failure
    expect(page).to_have_url(re.compile("^chrome-error:"))
    assert reached == [200]
    assert len(stored_responses()) == 1
    page.unroute(f"**/s/{point.token}")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(THANKS_VI)
    [r] = stored_responses()
    assert (r.hk, r.e3) == (True, 2)


def test_same_form_sent_twice_at_once_records_one_response(app, point, new_page):
    """Two copies of one form reach the two gunicorn workers at the same moment."""
    page = new_page()
    page.goto(f"/s/{point.token}")
    fill_survey(page, hk="Không", values={"D1": 2})
    statuses = page.evaluate(
        """async () => {
            const form = document.querySelector('form[method=post]');
            const send = () => fetch(form.action, {method: 'POST', body: new FormData(form)});
            const answers = await Promise.all([1, 2, 3, 4].map(send));
            return Promise.all(answers.map(async a => [a.status, a.url, await a.text()]));
        }"""
    )
    assert [status for status, _, _ in statuses] == [200] * 4, statuses
    # Each copy is thanked, at the form's address (no redirect), none shows the form again.
    assert all(url.endswith(f"/s/{point.token}") for _, url, _ in statuses), statuses
    assert all("<title>Cảm ơn</title>" in html for _, _, html in statuses)
    [r] = stored_responses()
    assert (r.hk, r.d1) == (False, 2)


def test_counter_screen_qr_decodes_to_a_presence_answer(app, point, new_page, make_user):
    """Staff open the counter screen; a phone scans the QR on it and answers as "presence"."""
    make_user("quay@x.vn", "handler", point.unit)
    screen = new_page(locale="vi-VN")
    screen.set_viewport_size({"width": 1024, "height": 768})
    screen.goto("/login")
    screen.get_by_label("Thư điện tử").fill("quay@x.vn")
    screen.get_by_label("Mật khẩu").fill("correct horse battery")
    screen.get_by_role("button", name="Đăng nhập").click()
    screen.goto(f"/staff/points/{point.token}/display")
    shot = screen.locator("#qr").screenshot()
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))]
    assert len(decoded) == 1 and decoded[0].startswith(f"{screen.url.split('/staff')[0]}/s/")
    assert "?c=" in decoded[0]

    phone = new_page()
    phone.goto(decoded[0])
    fill_survey(phone, values={"C1": 5})
    phone.get_by_role("button", name=SUBMIT_VI).tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text(THANKS_VI)
    [r] = stored_responses()
    assert (r.channel, r.c1, r.point_id) == ("presence", 5, point.id)
