"""Every citizen page on the narrowest phones, in both languages: nothing scrolls sideways, every
link, button and answer is large enough to tap, and axe-core finds nothing serious."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page

from core.extensions import db
from feedback import services
from feedback.models import Channel, Kind, Topic
from feedback.workflow import Action
from survey.integrity import issue_receipts
from tests.e2e.test_survey_browser import MIN_TAP, assert_accessible

PHONES = {"320": (320, 568), "360": (360, 640)}
# What a citizen taps: links and buttons, the labels of radios and tick boxes (the label is the
# target), the fields. Links inside running text would be exempt; these pages hold none.
TAP_TARGETS = """() => [...document.querySelectorAll(
    'header a, header button, main a[href], main button, main select, main textarea,'
    + ' main input:not([type=hidden]):not([type=radio]):not([type=checkbox]),'
    + ' main label:has(input[type=radio]), main label:has(input[type=checkbox])'
  )].map(e => { const r = e.getBoundingClientRect();
                return [e.outerHTML.slice(0, 90), Math.round(r.width), Math.round(r.height)]; })"""


@pytest.fixture
def citizen_pages(app, point, make_user):
    """The address of each citizen page, with a PAKN in every state a citizen can see."""
    admin = make_user("admin@x.vn", "admin")
    unit = point.unit

    def case(*moves, content="Cán bộ hẹn lại nhiều lần."):
        c = services.create_case(unit, kind=Kind.REPORT, topic=Topic.DELAY, content=content,
                                 channel=Channel.WEB, person=None)  # fmt: skip
        db.session.commit()
        for action, fields in moves:
            services.apply_action(c, action, admin, c.version, **fields)
            db.session.commit()
        return c.code

    answered = [(Action.CLASSIFY, {"outcome": "competent"}), (Action.ASSIGN, {}),
                (Action.ANSWER, {"answer": "Đã xử lý xong hồ sơ."})]  # fmt: skip
    publish = (Action.PUBLISH, {"summary": "Hồ sơ bị hẹn lại.", "published_answer": "Đã xử lý."})
    codes = {
        "received": case(),
        "outside": case((Action.CLASSIFY, {"outcome": "outside"})),
        "forwarded": case((Action.CLASSIFY, {"outcome": "outside"}),
                          (Action.FORWARD, {"agency": "Sở Tư pháp", "note": "Theo thẩm quyền."})),
        "rejected": case((Action.REJECT, {"note": "Nội dung không rõ."})),
        "answered": case(*answered),
        "published": case(*answered, publish),
    }  # fmt: skip
    [receipt] = issue_receipts(unit, 1, timedelta(days=30), issued_by=None)
    db.session.commit()
    return {
        "survey": f"/s/{point.token}",
        "survey thanks": f"/s/{point.token}/thanks",
        "receipt entry": "/r",
        "receipt survey": f"/r/{receipt.code}",
        "PAKN home": "/pakn/",
        "units": "/pakn/units",
        "units below": f"/pakn/units?parent={unit.parent.code}",
        "PAKN form": f"/pakn/new?point={point.token}",
        "PAKN form of a unit": f"/pakn/new?unit={unit.code}",
        "tracking form": "/track",
        "unknown tracking code": "/track?code=ABCDE-FGHJK",
        "published answers": "/pakn/published",
        "published answers of a unit": f"/pakn/published?unit={unit.code}",
        "not found": "/s/not-a-token",
        "counter gone": "/pakn/new?point=not-a-token",  # with a link to the unit tree
        **{f"PAKN {state}": f"/track/{code}" for state, code in codes.items()},
        "PAKN just sent": f"/track/{codes['received']}?sent=1",
    }


def open_on_phone(browser, live_server, size, locale: str) -> Page:
    width, height = size
    context = browser.new_context(
        base_url=live_server, locale=locale, viewport={"width": width, "height": height},
        is_mobile=True, has_touch=True, device_scale_factor=2,
    )  # fmt: skip
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.mark.parametrize("phone", PHONES)
@pytest.mark.parametrize("locale", ["vi-VN", "en-US"])
def test_no_citizen_page_scrolls_sideways(browser, live_server, citizen_pages, phone, locale):
    width = PHONES[phone][0]
    page = open_on_phone(browser, live_server, PHONES[phone], locale)
    wide = []
    try:
        for name, path in citizen_pages.items():
            page.goto(path)
            assert page.locator("html").get_attribute("lang") == locale[:2], name
            scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
            if scroll_width > width:
                wide.append(f"{name} ({path}): {scroll_width}px wide")
    finally:
        page.context.close()
    assert not wide, f"pages that scroll sideways at {width}px ({locale}):\n" + "\n".join(wide)


@pytest.mark.parametrize("locale", ["vi-VN", "en-US"])
def test_every_link_and_answer_on_a_citizen_page_is_large_enough_to_tap(
    browser, live_server, citizen_pages, locale
):
    page = open_on_phone(browser, live_server, PHONES["320"], locale)
    small = []
    try:
        for name, path in citizen_pages.items():
            page.goto(path)
            for html, width, height in page.evaluate(TAP_TARGETS):
                if width < MIN_TAP or height < MIN_TAP:
                    small.append(f"{name}: {width}×{height} {html}")
    finally:
        page.context.close()
    assert not small, f"tap targets under 44×44 px ({locale}):\n" + "\n".join(small)


@pytest.mark.parametrize("locale", ["vi-VN", "en-US"])
def test_every_citizen_page_passes_axe_core(browser, live_server, citizen_pages, locale):
    page = open_on_phone(browser, live_server, PHONES["320"], locale)
    try:
        for name, path in citizen_pages.items():
            page.goto(path)
            assert_accessible(page, f"{name} ({path}), {locale}")
    finally:
        page.context.close()


def test_the_contact_section_of_the_pakn_form_is_spaced_from_the_photo_picker(
    browser, live_server, citizen_pages
):
    page = open_on_phone(browser, live_server, PHONES["360"], "vi-VN")
    try:
        page.goto(citizen_pages["PAKN form"])
        picker = page.locator("#photos").bounding_box()
        contact = page.locator("fieldset:has(#name) > legend").bounding_box()
        assert contact["y"] - (picker["y"] + picker["height"]) >= 12
    finally:
        page.context.close()


@pytest.mark.parametrize("phone", PHONES)
@pytest.mark.parametrize("locale", ["vi-VN", "en-US"])
def test_the_five_points_of_the_scale_share_one_row(browser, live_server, point, phone, locale):
    # On the narrowest phone the 5 used to wrap alone under the 1 to 4, apart from its scale.
    page = open_on_phone(browser, live_server, PHONES[phone], locale)
    try:
        page.goto(f"/s/{point.token}")
        tops = page.evaluate(
            """() => [...document.querySelectorAll('#q-A1 .s label:not(.na)')]
                     .map(e => Math.round(e.getBoundingClientRect().top))"""
        )
    finally:
        page.context.close()
    assert len(tops) == 5 and len(set(tops)) == 1, tops


@pytest.mark.parametrize("missing", ["kind", "content"])
def test_the_browser_asks_for_what_the_pakn_lacks_before_sending_its_photos(
    browser, live_server, point, tmp_path, missing
):
    # A refused form cannot keep the photos chosen: what the browser can check, it checks first.
    photo = tmp_path / "a.png"
    photo.write_bytes(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
        "0000000c4944415408d763f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
    ))  # fmt: skip
    page = open_on_phone(browser, live_server, PHONES["320"], "vi-VN")
    posted = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    try:
        page.goto(f"/pakn/new?point={point.token}")
        if missing != "kind":
            page.locator("input[name=kind][value=report]").check()
        page.locator("#topic").select_option("delay")
        if missing != "content":
            page.locator("#content").fill("Chờ lâu quá, ba tuần chưa có kết quả.")
        page.locator("#photos").set_input_files(str(photo))
        page.locator("form#pakn button[type=submit]:not([name])").click()
        page.wait_for_timeout(300)
        assert posted == []
        assert page.evaluate("document.querySelector('#photos').files.length") == 1
        invalid = page.evaluate("[...document.querySelectorAll(':invalid')].map(e => e.name)")
        assert missing in invalid
    finally:
        page.context.close()
