"""The unit tree's page in the back office: tree order, counts, scope, history, and a fixed
number of queries whatever the tree's size."""

import hashlib
import re

import pytest

from core.extensions import db
from core.models import Role, Unit, User
from core.unit_file import import_units
from core.unit_tree import rebuild_paths
from survey.services import add_point
from tests.conftest import FAST_HASH, queries_of, signed_in

URL = "/staff/units"
ROW = re.compile(r'<tr><th scope="row" class="d(\d)">(.*?)</th><td>([^<]*)</td>(.*?)</tr>', re.S)


def rows(page: str) -> list[tuple]:
    """(depth, code, the row's other cells as text) of each unit of the tree's table."""
    cells = re.compile(r"<td>(.*?)</td>")
    return [
        (int(d), code, [re.sub(r"<[^>]+>", "", cell) for cell in cells.findall(rest)])
        for d, _name, code, rest in ROW.findall(page)
    ]


def test_the_admin_sees_every_unit_in_tree_order_with_its_counts(app, tree, unit_staff):
    add_point(tree["26734"], "Quầy 1", actor=None)
    add_point(tree["26734"], "Quầy 2", actor=None)
    add_point(tree["26800"], "Quầy cũ", actor=None).active = False
    tree["26734"].population = 15000
    db.session.commit()
    page = signed_in(app, "admin@x.vn").get(URL)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Level, population, active survey points, active staff accounts.
    assert rows(html) == [
        (0, "79", ["Tỉnh", "–", "0", "0"]),
        (1, "760", ["Quận", "–", "0", "1"]),
        (2, "26734", ["Phường", "15,000", "2", "1"]),  # the deactivated handler not counted
        (2, "26737", ["Phường", "–", "0", "0"]),
        (1, "769", ["Thành phố", "–", "0", "0"]),
        (2, "26800", ["Phường", "–", "0", "0"]),  # its point retired
    ]
    assert "Phường Bến Nghé" in html and 'href="/staff/units/26734/history"' in html
    assert "6 units · Active survey points: 2 · Staff accounts: 2" in html
    assert '<div class="scroll" tabindex="0"><table class="units">' in html
    assert 'href="/staff/units/import"' in html and 'href="/staff/units/units.csv"' in html


def test_a_manager_sees_their_unit_and_the_units_under_it_only(app, tree, unit_staff):
    client = signed_in(app, "manager@x.vn")
    html = client.get(URL).get_data(as_text=True)
    assert [code for _d, code, _c in rows(html)] == ["760", "26734", "26737"]
    assert [d for d, _code, _c in rows(html)] == [0, 1, 1]
    assert "Thảo Điền" not in html and "Thủ Đức" not in html
    assert 'href="/staff/units/import"' not in html  # the import is the administrator's
    narrowed = client.get(f"{URL}?unit=26737").get_data(as_text=True)
    assert [code for _d, code, _c in rows(narrowed)] == ["26737"]
    for outside in (f"{URL}?unit=79", f"{URL}?unit=26800", f"{URL}/26800/history",
                    f"{URL}/79/history", f"{URL}/units.csv?unit=769"):  # fmt: skip
        assert client.get(outside).status_code == 403, outside
    assert client.get(f"{URL}/26734/history").status_code == 200
    assert client.post(f"{URL}/import").status_code == 403
    download = client.get(f"{URL}/units.csv").get_data(as_text=True)
    assert [line.split(",")[0] for line in download.splitlines()[1:]] == ["760", "26734", "26737"]


@pytest.mark.parametrize("email", ["handler@x.vn", "analyst@x.vn"])
def test_handlers_and_analysts_have_no_access_and_no_menu_link(app, tree, unit_staff, email):
    client = signed_in(app, email)
    for url in (URL, f"{URL}/26734/history", f"{URL}/units.csv", f"{URL}/import"):
        assert client.get(url).status_code == 403, url
    home = client.get("/staff/account/password").get_data(as_text=True)
    assert f'href="{URL}"' not in home


@pytest.mark.parametrize("email", ["admin@x.vn", "manager@x.vn"])
def test_the_menu_links_the_page_for_admins_and_managers(app, tree, unit_staff, email):
    home = signed_in(app, email).get("/staff/account/password").get_data(as_text=True)
    assert f'href="{URL}"' in home


def test_an_unknown_unit_code_is_said_with_the_form_kept(app, tree, unit_staff):
    client = signed_in(app, "admin@x.vn")
    response = client.get(f"{URL}?unit=<b>99</b>")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and rows(html) == []
    assert "No unit has the code &lt;b&gt;99&lt;/b&gt;." in html and "<b>99" not in html
    assert client.get(f"{URL}/99999/history").status_code == 404
    assert client.get(f"{URL}/units.csv?unit=99999").status_code == 404


SECOND = b"""code,name,level,parent_code,population
26737,Phuong Da Kao moi,Phuong,769,
26734,Phuong Ben Nghe,Phuong,760,16200
"""


def test_a_units_history_names_who_changed_it_with_which_file(app, tree, unit_staff):
    import_units(SECOND, "tree-2026.csv", actor=unit_staff["admin"])
    db.session.commit()
    html = signed_in(app, "admin@x.vn").get(f"{URL}/26737/history").get_data(as_text=True)
    assert "Unit changed" in html and "admin@x.vn" in html and "tree-2026.csv" in html
    assert "name: Phường Đa Kao → Phuong Da Kao moi" in html
    assert "level: Phường → Phuong" in html and "parent: 760 → 769" in html
    assert hashlib.sha256(SECOND).hexdigest() in html
    # Moved out of the manager's district: the manager no longer sees it, and the latest
    # changes under the manager's tree are those of the units still under the district.
    client = signed_in(app, "manager@x.vn")
    assert client.get(f"{URL}/26737/history").status_code == 403
    latest = client.get(URL).get_data(as_text=True).split("Latest changes")[1]
    assert "26734" in latest and "26737" not in latest
    latest = signed_in(app, "admin@x.vn").get(URL).get_data(as_text=True).split("Latest changes")[1]
    assert "26734" in latest and "26737" in latest


def test_the_history_is_in_the_pages_language(app, tree, unit_staff, vi):
    import_units(SECOND, "tree-2026.csv", actor=unit_staff["admin"])
    db.session.commit()
    html = signed_in(app, "admin@x.vn", language="vi").get(f"{URL}/26734/history")
    html = html.get_data(as_text=True)
    assert f"{vi('population')}: - → 16.200" in html and vi("Unit changed") in html
    assert "Unit changed" not in html
    tree_page = signed_in(app, "admin@x.vn", language="vi").get(URL).get_data(as_text=True)
    assert ["Phuong", "16.200", "0", "1"] in [cells for _d, _code, cells in rows(tree_page)]


MERGED = b"""code,name,level,parent_code,population,closed_on,merged_into
26737,Phuong Da Kao,Phuong,760,12500,2025-07-01,26734
26734,Phuong Ben Nghe,Phuong,760,1234567,,
"""


def test_the_history_writes_populations_and_closing_days_as_the_page_does(app, tree, unit_staff):
    import_units(SECOND, "tree-2026.csv", actor=unit_staff["admin"])
    import_units(MERGED, "merged.csv", actor=unit_staff["admin"])
    db.session.commit()
    client = signed_in(app, "admin@x.vn")
    html = client.get(f"{URL}/26734/history").get_data(as_text=True)
    assert "population: 16,200 → 1,234,567" in html and "population: - → 16,200" in html
    html = client.get(f"{URL}/26737/history").get_data(as_text=True)
    assert "closing day: - → 1 Jul 2025" in html and "population: - → 12,500" in html
    assert "2025-07-01" not in html


def big_tree(districts: int, communes: int) -> None:
    province = Unit(code="01", name="Tỉnh", level="Tỉnh")
    db.session.add(province)
    for d in range(districts):
        district = Unit(code=f"1{d:02}", name=f"Huyện {d}", level="Huyện", parent=province)
        db.session.add(district)
        for c in range(communes):
            db.session.add(Unit(code=f"1{d:02}{c:02}", name=f"Xã {c}", level="Xã", parent=district))
    db.session.flush()
    rebuild_paths()
    db.session.commit()


@pytest.mark.parametrize("url", [URL, f"{URL}/units.csv"])
def test_the_page_asks_the_same_number_of_queries_for_any_tree(app, url):
    db.session.add(User(email="admin@x.vn", role=Role.ADMIN, password_hash=FAST_HASH))
    db.session.commit()
    client = signed_in(app, "admin@x.vn")
    big_tree(2, 2)
    small = queries_of(client, url)
    big_tree_more = 10, 20
    db.session.execute(Unit.__table__.delete().where(Unit.code != "x"))
    db.session.commit()
    big_tree(*big_tree_more)
    assert queries_of(client, url) == small


def test_a_large_tree_comes_a_thousand_units_a_page_in_tree_order(app):
    db.session.add(User(email="admin@x.vn", role=Role.ADMIN, password_hash=FAST_HASH))
    big_tree(10, 100)  # 1,011 units
    client = signed_in(app, "admin@x.vn")
    first = client.get(URL).get_data(as_text=True)
    second = client.get(f"{URL}?page=2").get_data(as_text=True)
    codes = [code for _d, code, _c in rows(first) + rows(second)]
    assert len(rows(first)) == 1000 and "1,011 units" in first and "Page 1 of 2" in first
    assert codes[:3] == ["01", "100", "10000"] and codes[-2:] == ["10998", "10999"]
    assert len(codes) == len(set(codes)) == 1011
    assert 'href="/staff/units?page=2"' in first
    narrowed = client.get(f"{URL}?unit=101").get_data(as_text=True)
    assert len(rows(narrowed)) == 101 and "Page 1 of" not in narrowed
    for page in ("3", "0", "-1"):
        assert client.get(f"{URL}?page={page}").status_code == 404
