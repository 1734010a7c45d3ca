"""The back office's comments page: what it lists, for whom, and how its filters behave."""

import re
from datetime import datetime

import pytest
from sqlalchemy import event

from core.extensions import db
from core.models import User
from survey.models import Exclusion, Response
from survey.services import add_point
from tests.conftest import languages_of, login

pytestmark = pytest.mark.usefixtures("in_english")

URL = "/staff/comments"
ROW = '<td class="comment">'


@pytest.fixture
def world(tree, make_user, questionnaire):
    """A counter in commune 26734 (under district 760), one in 26737 (760 too), one in 26800
    (under 769); the staff of the scope tests."""
    points = {
        code: add_point(tree[code], f"Quầy {code}", actor=None)
        for code in ("26734", "26737", "26800")
    }
    db.session.commit()
    make_user("admin@x.vn", "admin")
    make_user("manager@x.vn", "manager", tree["760"])
    make_user("handler@x.vn", "handler", tree["26734"])
    make_user("analyst@x.vn", "analyst")
    return {"tree": tree, "points": points, "questionnaire": questionnaire}


def answer(world, code, comment, at=datetime(2026, 3, 10, 3), point=True, **values):
    """Record a response at the commune's counter (or by receipt, without a point)."""
    unit = world["tree"][code]
    response = Response(
        questionnaire_id=world["questionnaire"].id, unit_id=unit.id,
        point_id=world["points"][code].id if point else None,
        channel="static" if point else "receipt", submitted_at=at, comment=comment,
        hk=values.pop("hk", False), **({c: 5 for c in ("a1", "b1", "c1")} | values),
    )  # fmt: skip
    db.session.add(response)
    db.session.commit()
    return response


def listed(response) -> list[str]:
    """The comments a page lists, in its order (as the page writes them)."""
    html = response.get_data(as_text=True)
    return [part.split("</td>")[0].removeprefix('<span lang="vi">').removesuffix("</span>")
            for part in html.split(ROW)[1:]]  # fmt: skip


def test_the_comments_of_ones_units_newest_first_and_none_without_text(client, world):
    answer(world, "26734", "Chờ lâu", at=datetime(2026, 3, 1, 3))
    answer(world, "26737", "Cán bộ nhiệt tình", at=datetime(2026, 3, 2, 3))
    answer(world, "26734", None)
    answer(world, "26734", "")
    login(client, "admin@x.vn")
    response = client.get(URL)
    assert response.status_code == 200
    assert listed(response) == ["Cán bộ nhiệt tình", "Chờ lâu"]


# who: the communes whose comments they read; None: refused
UNITS = {"79", "760", "769", "26734", "26737", "26800"}
SCOPES = {
    "admin@x.vn": {"26734", "26737", "26800"},
    "manager@x.vn": {"26734", "26737"},
    "handler@x.vn": {"26734"},
    "analyst@x.vn": None,
}


@pytest.mark.parametrize("email", SCOPES)
def test_each_role_reads_the_comments_of_its_scope_only(client, world, email):
    for code in ("26734", "26737", "26800"):
        answer(world, code, f"Ý kiến {code}")
    login(client, email)
    response = client.get(URL)
    if SCOPES[email] is None:
        assert response.status_code == 403
        assert "Ý kiến" not in response.get_data(as_text=True)
        return
    assert response.status_code == 200
    assert set(listed(response)) == {f"Ý kiến {code}" for code in SCOPES[email]}
    # The unit list offers the scope's units only (and "all of them").
    units = set(re.findall(r'<option value="(\d*)"', response.get_data(as_text=True)))
    assert units - {""} == {code for code in UNITS if email == "admin@x.vn" or (
        code in SCOPES[email] or (email == "manager@x.vn" and code == "760"))}  # fmt: skip


def test_the_menu_links_the_page_for_staff_and_not_for_analysts(client, world):
    login(client, "handler@x.vn")
    assert f'href="{URL}"' in client.get("/staff/").get_data(as_text=True)
    client.post("/logout", data={})
    client.delete_cookie("session")
    login(client, "analyst@x.vn")
    assert f'href="{URL}"' not in client.get("/staff/analysis/").get_data(as_text=True)


def test_a_unit_outside_the_scope_is_refused_with_a_message(client, world):
    answer(world, "26800", "Ngoài phạm vi")
    answer(world, "26734", "Trong phạm vi")
    login(client, "manager@x.vn")
    response = client.get(f"{URL}?unit=26800")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Choose one of the answers shown." in html
    assert "Ngoài phạm vi" not in html and "Trong phạm vi" not in html


def test_a_unit_inside_the_scope_lists_its_comments_and_those_of_the_units_under_it(client, world):
    answer(world, "26734", "Bến Nghé", at=datetime(2026, 3, 1))
    answer(world, "26737", "Đa Kao", at=datetime(2026, 3, 2))
    answer(world, "26800", "Thảo Điền", at=datetime(2026, 3, 3))
    login(client, "admin@x.vn")
    assert listed(client.get(f"{URL}?unit=26737")) == ["Đa Kao"]
    assert listed(client.get(f"{URL}?unit=760")) == ["Đa Kao", "Bến Nghé"]
    assert listed(client.get(f"{URL}?unit=79")) == ["Thảo Điền", "Đa Kao", "Bến Nghé"]


def test_a_line_says_where_when_what_procedure_and_how_the_citizen_rated(client, world):
    ex = answer(world, "26734", "Bị hỏi sổ hộ khẩu", hk=True, a1=1, b1=4, c1=5, d1=0,
                procedure="ho-tich", at=datetime(2026, 3, 10, 20),
                flags="repeat_device,same_pattern")  # fmt: skip
    answer(world, "26737", "Qua biên nhận", point=False)
    admin = db.session.query(User).filter_by(email="admin@x.vn").one()
    db.session.add(Exclusion(response_id=ex.id, reason="thử", excluded_by_id=admin.id))
    db.session.commit()
    login(client, "admin@x.vn")
    html = client.get(URL).get_data(as_text=True)
    first, second = html.split("<tr>")[2:4]
    assert "11 Mar 2026, 3:00 AM" in first  # 03:00 on the 11th in Vietnam
    assert "Quầy 26734" in first and "Phường Bến Nghé" in first
    assert "Hộ tịch (khai sinh, kết hôn, khai tử...)" in first
    assert "2 of 3 answers 4–5" in first and "Lowest: 1 (A)" in first
    assert "Asked for a paper household register" in first and "Excluded" in first
    assert "Flagged: same phone, same answers" in first
    assert "Receipt code" in second and "Phường Đa Kao" in second
    assert "Asked for a paper household register" not in second and "Excluded" not in second
    assert "Flagged" not in second


def test_only_dissatisfied_and_only_household_register(client, world):
    answer(world, "26734", "Hài lòng")
    answer(world, "26734", "Không hài lòng", e3=2)
    answer(world, "26734", "Không ý kiến", e3=0)
    answer(world, "26734", "Sổ hộ khẩu", hk=True)
    login(client, "handler@x.vn")
    assert listed(client.get(f"{URL}?dissatisfied=y")) == ["Không hài lòng"]
    assert listed(client.get(f"{URL}?household_register=y")) == ["Sổ hộ khẩu"]
    assert listed(client.get(f"{URL}?dissatisfied=y&household_register=y")) == []


def test_the_period_counts_days_in_vietnam_time(client, world):
    answer(world, "26734", "Ngày 9", at=datetime(2026, 3, 9, 16, 59))  # 23:59 on the 9th
    answer(world, "26734", "Ngày 10", at=datetime(2026, 3, 9, 17))  # 00:00 on the 10th
    answer(world, "26734", "Ngày 11", at=datetime(2026, 3, 11, 3))
    login(client, "handler@x.vn")
    assert listed(client.get(f"{URL}?since=2026-03-10&until=2026-03-10")) == ["Ngày 10"]
    assert listed(client.get(f"{URL}?until=2026-03-09")) == ["Ngày 9"]
    assert listed(client.get(f"{URL}?since=2026-03-10")) == ["Ngày 11", "Ngày 10"]


@pytest.mark.parametrize(
    "query, message",
    [
        ("since=2026-02-30", "This is not a valid date."),
        ("until=hôm-qua", "This is not a valid date."),
        ("since=0001-01-01", "This date is out of range. Check the year."),
        ("until=9999-12-31", "This date is out of range. Check the year."),
        ("since=2026-03-10&until=2026-03-01", "The end of the period comes before its start."),
        ("q=" + "x" * 10_000, "Write at most 100 characters."),
    ],
)
def test_a_bad_filter_says_why_and_lists_nothing(client, world, query, message):
    answer(world, "26734", "Chờ lâu")
    login(client, "handler@x.vn")
    response = client.get(f"{URL}?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html and "Correct the filters above" in html
    assert listed(response) == []


def test_the_search_ignores_case_and_accents(client, world):
    answer(world, "26734", "ĐƯỜNG vào khó tìm")
    answer(world, "26734", "Cán bộ nhiệt tình")
    login(client, "handler@x.vn")
    for words in ("duong", "Đường", "ĐUONG VÀO", "đường vào"):
        assert listed(client.get(URL, query_string={"q": words})) == ["ĐƯỜNG vào khó tìm"]
    assert listed(client.get(URL, query_string={"q": "nhiet tinh"})) == ["Cán bộ nhiệt tình"]
    assert listed(client.get(URL, query_string={"q": "không có"})) == []


def test_percent_underscore_and_quotes_in_the_search_are_plain_text(client, world):
    answer(world, "26734", "100% hài lòng")
    answer(world, "26734", "mã a_b")
    answer(world, "26734", "mã axb; 1000 hài lòng")
    answer(world, "26734", "anh O'Neil \\ ok")
    login(client, "handler@x.vn")
    assert listed(client.get(URL, query_string={"q": "0%"})) == ["100% hài lòng"]
    assert listed(client.get(URL, query_string={"q": "a_b"})) == ["mã a_b"]
    assert listed(client.get(URL, query_string={"q": "O'Neil \\"})) == ["anh O&#39;Neil \\ ok"]
    assert listed(client.get(URL, query_string={"q": "%' OR 1=1 --"})) == []


def test_pages_of_fifty_newer_and_older(client, world):
    for day in range(1, 29):
        for hour in (1, 2):
            answer(world, "26734", f"Ngày {day} giờ {hour}", at=datetime(2026, 2, day, hour))
    login(client, "handler@x.vn")
    first = client.get(URL)
    html = first.get_data(as_text=True)
    assert len(listed(first)) == 50 and listed(first)[0] == "Ngày 28 giờ 2"
    assert f'href="{URL}?page=2"' in html and "Newer" not in html
    second = client.get(f"{URL}?page=2")
    assert listed(second) == [f"Ngày {d} giờ {h}" for d in (3, 2, 1) for h in (2, 1)]
    assert f'href="{URL}?page=1"' in second.get_data(as_text=True)
    assert "Older" not in second.get_data(as_text=True)
    # A filter carries over to the next page.
    assert "page=2&amp;q=ngay" in client.get(f"{URL}?q=ngay").get_data(as_text=True)


def test_a_page_number_out_of_range_is_no_error(client, world):
    answer(world, "26734", "Chờ lâu")
    login(client, "handler@x.vn")
    assert listed(client.get(f"{URL}?page=-1")) == ["Chờ lâu"]
    assert listed(client.get(f"{URL}?page=abc")) == ["Chờ lâu"]
    late = client.get(f"{URL}?page=999999")
    assert late.status_code == 200 and "No more comments." in late.get_data(as_text=True)
    assert client.get(f"{URL}?page=99999999999999999999").status_code == 404


def test_a_hostile_comment_shows_as_text(client, world):
    answer(world, "26734", "<script>alert(1)</script>\u202eabc\u200bdef\nhai dòng")
    login(client, "handler@x.vn")
    response = client.get(URL)
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html
    assert listed(response) == ["&lt;script&gt;alert(1)&lt;/script&gt;abc\u200bdef\nhai dòng"]
    assert "\u202e" not in html and "<br>hai" not in html


def test_the_comment_is_marked_vietnamese_on_english_pages_only(app, client, world):
    answer(world, "26734", "Chờ lâu")
    login(client, "handler@x.vn")
    english = client.get(URL, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert languages_of(english, "Chờ lâu") == {"vi"}
    assert languages_of(english, "Phường Bến Nghé") == {"vi"}
    assert languages_of(english, "26734 – Phường Bến Nghé") == {"vi"}  # the unit's option
    assert languages_of(english, "All my units") == {"en"}
    assert "Citizens&#39; comments" in english
    client.get("/lang/vi")
    vietnamese = client.get(URL).get_data(as_text=True)
    assert '<html lang="vi">' in vietnamese and '<span lang="vi">Chờ lâu' not in vietnamese
    assert "Chờ lâu" in vietnamese


def test_the_points_responses_page_shows_each_comment(client, world):
    answer(world, "26734", "Chờ <b>lâu</b>\nquá")
    login(client, "handler@x.vn")
    token = world["points"]["26734"].token
    html = client.get(f"/staff/points/{token}/responses").get_data(as_text=True)
    assert f"{ROW}Chờ &lt;b&gt;lâu&lt;/b&gt;\nquá</td>" in html or (
        f'{ROW}<span lang="vi">Chờ &lt;b&gt;lâu&lt;/b&gt;\nquá</span></td>' in html
    )


def test_one_query_reads_the_responses_of_a_page_however_many_it_shows(client, world):
    for n in range(60):
        code = ("26734", "26737", "26800")[n % 3]
        answer(world, code, f"Ý kiến {n}", procedure="ho-tich", point=n % 2 == 0)
    login(client, "admin@x.vn")
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        response = client.get(URL)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(listed(response)) == 50
    assert len([s for s in statements if "FROM response" in s]) == 1
    assert len([s for s in statements if "FROM questionnaire" in s]) == 1
