"""The back office's survey points page and poster downloads, across roles and unit scopes."""

import io
from datetime import datetime

import pytest
import zxingcpp
from PIL import Image

from core.extensions import db
from survey import services
from survey.services import add_point, point_by_token, retire_point
from tests.conftest import csrf_token, login


@pytest.fixture
def staff(tree, make_user, questionnaire):
    inside = add_point(tree["26734"], "Quầy Bến Nghé", actor=None)  # under district 760
    outside = add_point(tree["26800"], "Quầy Thảo Điền", actor=None)  # under district 769
    db.session.commit()
    make_user("admin@x.vn", "admin")
    make_user("manager@x.vn", "manager", tree["760"])
    make_user("handler@x.vn", "handler", tree["26734"])
    make_user("analyst@x.vn", "analyst")
    return {"inside": inside.token, "outside": outside.token}


# who: (sees the inside point, sees the outside point); None means the page is refused
MATRIX = {
    "admin@x.vn": (True, True),
    "manager@x.vn": (True, False),
    "handler@x.vn": (True, False),
    "analyst@x.vn": None,
}


@pytest.mark.parametrize("email", MATRIX)
def test_points_page_shows_only_the_units_in_scope(client, staff, email):
    login(client, email)
    response = client.get("/staff/")
    if MATRIX[email] is None:
        assert response.status_code == 403
        return
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (staff["inside"] in html, staff["outside"] in html) == MATRIX[email]


@pytest.mark.parametrize("email", MATRIX)
@pytest.mark.parametrize("which", ["inside", "outside"])
def test_poster_download_respects_scope(client, staff, email, which):
    login(client, email)
    response = client.get(f"/staff/points/{staff[which]}/poster.png?size=A5")
    allowed = MATRIX[email] is not None and MATRIX[email][0 if which == "inside" else 1]
    assert response.status_code == (200 if allowed else 403)
    if allowed:
        image = Image.open(io.BytesIO(response.data))
        decoded = [r.text for r in zxingcpp.read_barcodes(image)]
        assert decoded == [f"http://survey.test/s/{staff[which]}"]
        assert "attachment" in response.headers["Content-Disposition"]


@pytest.mark.parametrize("url", ["/staff/", "/staff/points/{inside}/poster.pdf"])
def test_signed_out_staff_pages_ask_for_sign_in(client, staff, url):
    response = client.get(url.format(**staff))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(("now", "day"), [(datetime(2024, 12, 3, 16, 59), "3/12/2024"),
                                          (datetime(2024, 12, 3, 17, 0), "4/12/2024")])  # fmt: skip
def test_points_pages_give_the_day_of_retirement_in_vietnam(client, staff, monkeypatch, now, day):
    monkeypatch.setattr(services, "utcnow", lambda: now)
    retire_point(point_by_token(staff["inside"]), actor=None)
    db.session.commit()
    login(client, "admin@x.vn")
    for url in ("/staff/", f"/staff/points/{staff['inside']}"):
        html = client.get(url).get_data(as_text=True)
        assert f"ngừng sử dụng từ {day}" in html, url
        assert html.count("/12/2024") == 1, url


def test_poster_bad_requests(client, staff):
    login(client, "admin@x.vn")
    assert client.get(f"/staff/points/{staff['inside']}/poster.gif").status_code == 404
    assert client.get(f"/staff/points/{staff['inside']}/poster.pdf?size=A0").status_code == 400
    assert client.get("/staff/points/unknown/poster.pdf").status_code == 404
    pdf = client.get(f"/staff/points/{staff['inside']}/poster.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


@pytest.mark.parametrize("action", ["exclude", "restore"])
@pytest.mark.parametrize("response_id", ["2147483648", "9223372036854775808", "9" * 30])
def test_an_id_past_the_databases_integers_is_a_missing_page(client, staff, action, response_id):
    """Ids are 32-bit in PostgreSQL, 64-bit in SQLite: a larger one names no row, it is no 500."""
    login(client, "admin@x.vn")
    token = csrf_token(client.get("/staff/").get_data(as_text=True))
    response = client.post(f"/staff/responses/{response_id}/{action}",
                           data={"csrf_token": token, "reason": "thử"})  # fmt: skip
    assert response.status_code == 404
    assert "Trang này không tồn tại." in response.get_data(as_text=True)


def test_a_retired_point_offers_no_poster_or_counter_screen(client, staff):
    """Its QR code says the point is no longer in use: printing or showing it helps no one."""
    from survey.services import point_by_token, retire_point

    retire_point(point_by_token(staff["inside"]), actor=None)
    db.session.commit()
    login(client, "manager@x.vn")
    html = client.get("/staff/").get_data(as_text=True)
    assert staff["inside"] in html  # still listed, with its answers
    assert f"/staff/points/{staff['inside']}/poster" not in html
    assert f"/staff/points/{staff['inside']}/display" not in html
    for url in ("poster.pdf", "poster.png?size=A5", "display", "display.json"):
        response = client.get(f"/staff/points/{staff['inside']}/{url}")
        assert response.status_code == 410, url
    assert client.get(f"/staff/points/{staff['inside']}/responses").status_code == 200
