"""The citizen's PAKN in a real Chromium on a phone: from the thank-you page to the answer.

The server is the e2e suite's gunicorn (its `live_server` fixture). Chromium runs in a thread of
its own: the e2e suite keeps its own Playwright open for the whole session, and two sync
Playwright sessions cannot share a thread.
"""

import os
import re
import threading

import pytest
from PIL import Image
from sqlalchemy import select

from core.extensions import db
from core.models import User
from feedback.models import Case
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, live_server, live_server_dir  # noqa: F401
from tests.feedback.conftest import handle

pytestmark = pytest.mark.e2e
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
MAX_PAGE = 30 * 1024  # bytes of HTML and CSS for the form


@pytest.fixture
def run_in_chromium(app, live_server):  # noqa: F811 (a fixture, by name)
    """Run flow(page) in a phone-sized Chromium page, in a thread with its own app context."""
    if not os.path.exists(CHROMIUM):
        message = f"end-to-end tests need Debian's Chromium at {CHROMIUM}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true makes these tests required)", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    def run(flow, js: bool):
        failures = []

        def target():
            try:
                with app.app_context(), sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                    context = browser.new_context(
                        base_url=live_server, locale="vi-VN", java_script_enabled=js, **PHONE
                    )
                    context.set_default_timeout(10_000)
                    try:
                        flow(context.new_page())
                    finally:
                        browser.close()
            except BaseException as e:  # handed back to the test's thread
                failures.append(e)

        thread = threading.Thread(target=target)
        thread.start()
        thread.join(120)
        assert not thread.is_alive(), "the browser flow took more than 2 minutes"
        if failures:
            raise failures[0]

    return run


def stored_case() -> Case:
    db.session.rollback()  # see what the server committed
    return db.session.scalar(select(Case))


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_send_track_and_rate_on_a_phone(run_in_chromium, point, staff, tmp_path, js):
    photo = tmp_path / "quay.jpg"
    Image.new("RGB", (1200, 900), (20, 120, 200)).save(photo, "JPEG")
    token, handler_id = point.token, staff["handler"].id

    def flow(page):
        page.goto(f"/s/{token}/thanks")
        page.locator("a[href*='/pakn/new']").click()
        page.wait_for_url(re.compile(r"/pakn/new\?point="))
        html = page.request.get(page.url).body()
        assert len(html) + len(page.request.get("/static/style.css").body()) < MAX_PAGE
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.locator("input[name=kind][value=report]").check()
        page.select_option("select[name=topic]", "documents_fees")
        page.fill("textarea[name=content]", "Cán bộ yêu cầu bản sao sổ hộ khẩu, dù đã bỏ từ 2023.")
        page.set_input_files("input[name=photos]", photo)
        page.fill("input[name=name]", "Nguyễn Thị H")
        page.fill("input[name=phone]", "0912 000 111")
        page.fill("input[name=email]", "nguyễn.h@dân.vn")  # the mailer sends it with SMTPUTF8
        page.locator("input[name=consent]").check()
        page.locator("form button[type=submit]").click()
        page.wait_for_url(re.compile(r"/track/[2-9A-Z]{10}\?sent=1"))
        shown = page.locator(".code").first.inner_text()
        header, sent = page.locator("header").bounding_box(), page.locator(".flash").bounding_box()
        assert sent["y"] >= header["y"] + header["height"] + 8  # not pressed against the header
        case = stored_case()
        assert shown == f"{case.code[:5]}-{case.code[5:]}" and len(case.photos) == 1
        assert case.person.name == "Nguyễn Thị H" and case.channel == "counter"
        assert case.person.email == "nguyễn.h@dân.vn"

        handler = db.session.get(User, handler_id)
        answer = "Đơn vị đã nhắc nhở, không yêu cầu nữa."
        handle(case, handler, answer)

        page.goto("/track")
        page.fill("input[name=code]", shown.lower())  # typed as read aloud, in lower case
        page.locator("form button[type=submit]").click()
        page.wait_for_url(re.compile(rf"/track/{case.code}$"))
        assert answer in page.content()
        page.locator("input[name=satisfied][value=yes]").check()
        page.locator("form button[type=submit]").click()
        page.wait_for_url(re.compile(rf"/track/{case.code}#rated$"))
        assert stored_case().satisfied is True
        assert page.locator("input[name=satisfied]").count() == 0
        assert page.locator("#rated").is_visible()
        thanks = page.locator("#rated").bounding_box()
        assert 0 <= thanks["y"] < page.viewport_size["height"]  # scrolled to, not far below

    run_in_chromium(flow, js)


def test_the_language_switch_keeps_the_pakn_without_javascript(run_in_chromium, point, tmp_path):
    photo = tmp_path / "quay.jpg"
    Image.new("RGB", (300, 200), (20, 120, 200)).save(photo, "JPEG")
    token = point.token
    content = "Cán bộ yêu cầu bản sao sổ hộ khẩu, dù đã bỏ từ 2023."

    def flow(page):
        page.goto(f"/pakn/new?point={token}")
        page.locator("input[name=kind][value=recommendation]").check()
        page.select_option("select[name=topic]", "documents_fees")
        page.fill("textarea[name=content]", content)
        page.set_input_files("input[name=photos]", photo)
        page.fill("input[name=name]", "Nguyễn Thị H")
        page.locator("input[name=consent]").check()
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("input[name=kind][value=recommendation]").is_checked()
        assert page.locator("select[name=topic]").input_value() == "documents_fees"
        assert page.locator("textarea[name=content]").input_value() == content
        assert page.locator("input[name=name]").input_value() == "Nguyễn Thị H"
        assert page.locator("input[name=consent]").is_checked()
        assert page.locator("#photos-again").count() == 1  # the photo must be chosen again
        assert page.get_by_role("alert").count() == 0
        assert stored_case() is None

    run_in_chromium(flow, js=False)
