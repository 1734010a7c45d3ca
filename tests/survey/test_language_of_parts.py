"""On a page in English, the unit's name is read as Vietnamese (WCAG 3.1.2); a page in
Vietnamese carries no mark, and a name stays escaped either way."""

from datetime import timedelta

import pytest

from core.extensions import db
from survey.integrity import issue_receipts
from tests.conftest import languages_of

EN = {"Accept-Language": "en"}
HOSTILE = 'Phường <script>alert(1)</script> & "Ba"'


@pytest.fixture
def receipt(point):
    [found] = issue_receipts(point.unit, 1, timedelta(days=30), "ho-tich", issued_by=None)
    db.session.commit()
    return found


def pages(point, receipt) -> list[str]:
    return [f"/s/{point.token}", f"/s/{point.token}/thanks", f"/r/{receipt.code}"]


def test_an_english_page_reads_the_unit_name_as_vietnamese(client, point, receipt):
    for path in pages(point, receipt):
        html = client.get(path, headers=EN).get_data(as_text=True)
        assert languages_of(html, "Phường Bến Nghé") == {"vi"}, path
    survey = client.get(f"/s/{point.token}", headers=EN).get_data(as_text=True)
    assert languages_of(survey, "Send") == {"en"}
    assert languages_of(survey, "Residence") == {"en"}  # a procedure, written in English too
    thanks = client.get(f"/s/{point.token}/thanks", headers=EN).get_data(as_text=True)
    assert languages_of(thanks, "Your answers have been recorded. They help") == {"en"}
    assert languages_of(thanks, "serve people better.") == {"en"}


def test_a_vietnamese_page_has_no_mark(client, point, receipt):
    for path in pages(point, receipt):
        html = client.get(path).get_data(as_text=True)
        assert html.count('lang="vi"') == 1, path  # <html lang="vi"> alone
        assert "Phường Bến Nghé" in html


def test_a_hostile_unit_name_stays_escaped(client, point, receipt):
    point.unit.name = HOSTILE
    db.session.commit()
    escaped = "Phường &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Ba&#34;"
    for headers in (EN, {}):
        for path in pages(point, receipt):
            html = client.get(path, headers=headers).get_data(as_text=True)
            assert "<script>" not in html and escaped in html, (path, headers)
            if headers:
                assert languages_of(html, HOSTILE) == {"vi"}, path
