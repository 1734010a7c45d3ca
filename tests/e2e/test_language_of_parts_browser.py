"""In Chromium, on the citizen pages in English, the unit's name and what was written in
Vietnamese are in Vietnamese for the browser (and so for a screen reader); axe-core checks
every citizen page in English too (test_citizen_pages_browser.py)."""

from tests.e2e.test_citizen_pages_browser import PHONES, citizen_pages, open_on_phone  # noqa: F401

# The language each element holding exactly this text is read in, as the browser computes it.
LANGUAGES = "els => els.map(e => e.closest('[lang]').lang)"


def languages(page, text: str) -> list[str]:
    return page.locator("main").get_by_text(text, exact=True).evaluate_all(LANGUAGES)


def test_the_english_survey_and_tracking_pages_read_vietnamese_as_vietnamese(
    browser,
    live_server,
    citizen_pages,  # noqa: F811
):
    page = open_on_phone(browser, live_server, PHONES["360"], "en-US")
    try:
        for name in ("survey", "receipt survey", "PAKN answered", "PAKN published"):
            page.goto(citizen_pages[name])
            assert page.locator("html").get_attribute("lang") == "en", name
            found = languages(page, "Phường Bến Nghé")
            assert found and set(found) == {"vi"}, (name, found)
        assert languages(page, "Cán bộ hẹn lại nhiều lần.") == ["vi"]
        assert languages(page, "Đã xử lý xong hồ sơ.") == ["vi"]
        heading = page.get_by_role("heading", name="What you sent")
        assert heading.evaluate("e => e.closest('[lang]').lang") == "en"
    finally:
        page.context.close()
