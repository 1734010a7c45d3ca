"""The comments page in a real Chromium: its filters work without JavaScript, a comment keeps
its line breaks as text, and the page passes axe-core, with and without a filter's message."""

from datetime import datetime

from playwright.sync_api import expect

from core.extensions import db
from survey.models import Response
from tests.e2e.test_points_browser import sign_in
from tests.e2e.test_survey_browser import assert_accessible


def _answer(point, questionnaire, comment: str, at: datetime) -> None:
    db.session.add(Response(questionnaire_id=questionnaire.id, unit_id=point.unit_id,
                            point_id=point.id, channel="static", submitted_at=at,
                            comment=comment, hk=False, a1=5))  # fmt: skip
    db.session.commit()


def test_a_handler_finds_a_comment_by_a_word_without_javascript(
    new_context, make_user, tree, point, questionnaire
):
    make_user("handler@x.vn", "handler", tree["26734"])
    _answer(point, questionnaire, "ĐƯỜNG vào khó tìm\n<b>dòng hai</b>", datetime(2026, 3, 2))
    _answer(point, questionnaire, "Cán bộ nhiệt tình", datetime(2026, 3, 1))
    page = new_context(javascript=False)
    sign_in(page, "handler@x.vn")
    page.get_by_role("link", name="Citizens' comments").click()
    expect(page.locator("td.comment")).to_have_count(2)
    page.get_by_label("Words in the comment").fill("duong")
    page.get_by_role("button", name="Filter").click()
    cell = page.locator("td.comment")
    expect(cell).to_have_count(1)
    assert cell.inner_text() == "ĐƯỜNG vào khó tìm\n<b>dòng hai</b>"  # two lines, no markup


def test_the_comments_page_passes_axe_core(new_context, make_user, tree, point, questionnaire):
    make_user("manager@x.vn", "manager", tree["760"])
    _answer(point, questionnaire, "Chờ lâu\nquá", datetime(2026, 3, 2))
    page = new_context(javascript=True)  # axe-core is a script: it runs only where scripts do
    sign_in(page, "manager@x.vn")
    for url in ("/staff/comments", "/staff/comments?since=2026-02-30"):
        page.goto(url)
        assert_accessible(page, url)
