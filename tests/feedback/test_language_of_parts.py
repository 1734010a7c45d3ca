"""On the PAKN pages in English, unit names and what citizens and staff wrote are read as
Vietnamese (WCAG 3.1.2); the pages in Vietnamese carry no mark, and the text stays escaped."""

import pytest

from core.extensions import db
from feedback import services
from feedback.workflow import Action
from tests.conftest import languages_of, login
from tests.feedback.conftest import handle

EN = {"Accept-Language": "en"}
VI = {"Accept-Language": "vi"}
CONTENT = "Cán bộ hẹn lại nhiều lần."
ANSWER = "Đã xử lý xong hồ sơ."
SUMMARY = "Hồ sơ bị hẹn lại."
PUBLISHED = "Phường đã nhắc nhở cán bộ."
HOSTILE = 'Hẹn <script>alert(1)</script> & "lại"'


@pytest.fixture
def published(staff, make_case):
    case = make_case(content=CONTENT)
    handle(case, staff["admin"], ANSWER)
    services.apply_action(case, Action.PUBLISH, staff["admin"], case.version,
                          summary=SUMMARY, published_answer=PUBLISHED)  # fmt: skip
    db.session.commit()
    return case


def english(client, path: str) -> str:
    response = client.get(path, headers=EN)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_the_english_tracking_page_reads_names_and_texts_as_vietnamese(client, published):
    html = english(client, f"/track/{published.code}")
    for text in ("Phường Bến Nghé", CONTENT, ANSWER, SUMMARY, PUBLISHED):
        assert languages_of(html, text) == {"vi"}, text
    assert languages_of(html, "Status") == {"en"}
    assert languages_of(html, "Published answers of") == {"en"}


def test_the_english_forwarded_and_rejected_pages_read_the_staff_notes_as_vietnamese(
    client, staff, make_case
):
    forwarded, rejected = make_case(), make_case()
    admin = staff["admin"]
    services.apply_action(forwarded, Action.CLASSIFY, admin, forwarded.version, outcome="outside")
    db.session.commit()
    services.apply_action(forwarded, Action.FORWARD, admin, forwarded.version,
                          agency="Sở Tư pháp", note="Theo thẩm quyền.")  # fmt: skip
    services.apply_action(rejected, Action.REJECT, admin, rejected.version, note="Không rõ.")
    db.session.commit()
    html = english(client, f"/track/{forwarded.code}")
    assert languages_of(html, "Sở Tư pháp") == languages_of(html, "Theo thẩm quyền.") == {"vi"}
    assert languages_of(english(client, f"/track/{rejected.code}"), "Không rõ.") == {"vi"}


def test_the_english_published_form_and_unit_pages_read_names_as_vietnamese(
    client, published, tree
):
    html = english(client, "/pakn/published?unit=26734")
    for text in ("Phường Bến Nghé", SUMMARY, PUBLISHED):
        assert languages_of(html, text) == {"vi"}, text
    assert languages_of(english(client, "/pakn/new?unit=26734"), "Phường Bến Nghé") == {"vi"}
    units = english(client, "/pakn/units?parent=760")
    for text in ("Thành phố Hồ Chí Minh", "Quận 1", "Phường Bến Nghé", "Phường Đa Kao"):
        assert languages_of(units, text) == {"vi"}, text
    assert languages_of(units, "Choose") == {"en"}


def test_the_vietnamese_pages_have_no_mark(client, published):
    for path in (f"/track/{published.code}", "/pakn/published?unit=26734",
                 "/pakn/new?unit=26734", "/pakn/units?parent=760"):  # fmt: skip
        html = client.get(path, headers=VI).get_data(as_text=True)
        assert html.count('lang="vi"') == 1, path  # <html lang="vi"> alone
        assert "Phường Bến Nghé" in html, path


def test_hostile_names_and_texts_stay_escaped(client, tree, make_case):
    tree["26734"].name = HOSTILE
    db.session.commit()
    case = make_case(content=HOSTILE)
    escaped = "Hẹn &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;lại&#34;"
    for headers in (EN, VI):
        for path in (f"/track/{case.code}", "/pakn/new?unit=26734", "/pakn/units?parent=760"):
            html = client.get(path, headers=headers).get_data(as_text=True)
            assert "<script>" not in html and escaped in html, (path, headers)
            if headers is EN:
                assert languages_of(html, HOSTILE) == {"vi"}, path


def test_the_english_staff_case_page_reads_the_citizens_text_as_vietnamese(
    client, staff, published
):
    client.set_cookie("lang", "en")
    login(client, "admin@x.vn")
    page = english(client, f"/staff/cases/{published.id}")
    html = page[: page.index('<details class="act"')]  # the forms' fields left as they are
    for text in ("Phường Bến Nghé", CONTENT, ANSWER, SUMMARY, PUBLISHED):
        assert languages_of(html, text) == {"vi"}, text
    assert languages_of(html, "Content") == {"en"}
