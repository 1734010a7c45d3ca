"""On the back office's pages in English, unit names in the forms' lists and in the analysis
headings are read as Vietnamese (WCAG 3.1.2); the pages in Vietnamese carry no mark."""

import re

import pytest

from core.extensions import db
from core.models import User
from tests.conftest import FAST_HASH, languages_of, signed_in

# Each page with a list of units, and an option it lists ("code – name" or "name (code)").
UNIT_LISTS = {
    "/staff/points/new": "26734 – Phường Bến Nghé",
    "/staff/users/new": "26734 – Phường Bến Nghé",
    "/staff/cases/new": "26734 – Phường Bến Nghé",
    "/staff/apikeys": "26734 – Phường Bến Nghé",
    "/staff/receipts": "Phường Bến Nghé (26734)",
    "/staff/paper": "Phường Bến Nghé (26734)",
}
TREND = "/staff/analysis/units/26734/trend?from=2024-01-01&to=2024-03-31"


@pytest.fixture
def admin(app, tree, questionnaire):
    user = User(email="admin@x.vn", role="admin", password_hash=FAST_HASH)
    db.session.add(user)
    db.session.commit()
    return user


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", list(UNIT_LISTS))
def test_an_english_list_of_units_reads_their_names_as_vietnamese(app, admin, path):
    html = page(signed_in(app, "admin@x.vn"), path)
    assert languages_of(html, UNIT_LISTS[path]) == {"vi"}
    assert languages_of(html, "Unit") == {"en"}  # the field's label stays English


def test_an_accounts_unit_list_reads_names_as_vietnamese(app, admin):
    client = signed_in(app, "admin@x.vn")
    html = page(client, f"/staff/users/{admin.id}")
    assert languages_of(html, "760 – Quận 1") == {"vi"}
    assert languages_of(html, "Administrator") == {"en"}  # a role, in the list beside it


def test_the_receipts_procedures_are_read_as_vietnamese(app, admin, questionnaire):
    html = page(signed_in(app, "admin@x.vn"), "/staff/receipts")
    procedure = questionnaire.data["procedures"][0]["text"]["vi"]
    assert languages_of(html, procedure) == {"vi"}
    assert languages_of(html, "–") == {"en"}  # "no procedure" is no Vietnamese word


def test_the_english_trend_heading_reads_the_unit_as_vietnamese(app, admin):
    html = page(signed_in(app, "admin@x.vn"), TREND)
    heading = re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)
    assert heading == 'Trend by month: <span lang="vi">Phường Bến Nghé</span>'
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert title.startswith("Trend by month: Phường Bến Nghé – ")  # a title holds no markup


def test_the_vietnamese_pages_have_no_mark(app, admin):
    client = signed_in(app, "admin@x.vn", language="vi")
    for path in [*UNIT_LISTS, f"/staff/users/{admin.id}", TREND]:
        html = page(client, path)
        assert html.count('lang="vi"') == 1, path  # <html lang="vi"> alone
        assert "Phường Bến Nghé" in html, path
