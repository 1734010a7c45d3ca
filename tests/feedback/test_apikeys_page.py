"""The administrators' keys page: a key for every unit, or for one unit and the units under it."""

import re

import pytest
from sqlalchemy import func, select

from core.apikeys import ApiKey, Scope, check_key, create_key
from core.extensions import db
from feedback.models import Case
from tests.conftest import login, page_forms


def new_key_form(client) -> tuple[dict, dict[str, str]]:
    """The new key's form as a browser would send it, and its unit choices: label -> value."""
    page = client.get("/staff/apikeys").get_data(as_text=True)
    form = next(f for f in page_forms(page) if f["action"].endswith("/staff/apikeys"))
    select = re.search(r'<select id="unit" name="unit"[^>]*>(.*?)</select>', page, re.S).group(1)
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)
    return form, {label: value for value, label in options}


def created_key(response) -> str:
    return re.search(r'<code class="code">([^<]+)</code>', response.get_data(as_text=True)).group(1)


def test_admin_creates_a_key_for_a_district_that_works_there_only(client, staff, tree):
    login(client, "admin@x.vn")
    form, units = new_key_form(client)
    assert list(units) == ["All units", "79 – Thành phố Hồ Chí Minh", "760 – Quận 1",
                           "26734 – Phường Bến Nghé", "26737 – Phường Đa Kao",
                           "769 – Thành phố Thủ Đức", "26800 – Phường Thảo Điền"]  # fmt: skip
    assert units["All units"] == "" and form["fields"]["unit"] == ""
    data = {**form["fields"], "name": "Tổng đài Quận 1", "unit": units["760 – Quận 1"]}
    response = client.post("/staff/apikeys", data=data)
    assert response.status_code == 200
    key = created_key(response)
    record = check_key(key, Scope.OPEN311)
    assert record is not None and record.unit.code == "760"
    page = client.get("/staff/apikeys").get_data(as_text=True)
    row = re.search(r"<tr><td>Tổng đài Quận 1</td>(.*?)</tr>", page).group(1)
    assert '<td>760 – <span lang="vi">Quận 1</span></td>' in row
    posted = {"api_key": key, "service_code": "delay", "attribute[kind]": "report",
              "description": "Chờ quá lâu ở quầy một cửa."}  # fmt: skip
    inside = client.post("/open311/v2/requests.json", data={**posted, "jurisdiction_id": "26737"})
    outside = client.post("/open311/v2/requests.json", data={**posted, "jurisdiction_id": "769"})
    assert (inside.status_code, outside.status_code) == (201, 403)
    assert [c.unit.code for c in db.session.scalars(select(Case))] == ["26737"]


def test_a_key_left_at_all_units_works_everywhere_as_before(client, staff, tree):
    login(client, "admin@x.vn")
    form, _units = new_key_form(client)
    response = client.post("/staff/apikeys", data={**form["fields"], "name": "Cổng tỉnh"})
    record = check_key(created_key(response), Scope.OPEN311)
    assert record is not None and record.unit_id is None
    assert all(record.covers(unit) for unit in tree.values())
    page = client.get("/staff/apikeys").get_data(as_text=True)
    open311 = "Open311: PAKN handed over by the 1022 hotline or another system"
    assert f"<tr><td>Cổng tỉnh</td><td>{open311}</td><td>All units</td>" in page


@pytest.mark.parametrize("forged", ["999999", "0", "-1", "abc", "9" * 30, "1.5", " "])
def test_a_forged_unit_is_refused_and_nothing_is_stored(client, staff, tree, forged):
    login(client, "admin@x.vn")
    form, _units = new_key_form(client)
    data = {**form["fields"], "name": "Giả mạo", "unit": forged}
    response = client.post("/staff/apikeys", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Choose one of the answers shown." in html
    assert '<code class="code">' not in html
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0
    # The unit's chooser names its note and its error in one attribute (two is invalid HTML).
    select_tag = re.search(r'<select id="unit"[^>]*>', html).group(0)
    assert select_tag.count("aria-describedby") == 1
    assert 'aria-describedby="e-unit-1 unit-note"' in select_tag
    assert 'aria-invalid="true"' in select_tag


def test_the_page_makes_a_receipts_key_for_one_unit_and_an_analysis_key(client, staff, tree):
    login(client, "admin@x.vn")
    form, units = new_key_form(client)
    assert form["fields"]["scope"] == "open311"  # chosen until the admin picks another
    data = {**form["fields"], "name": "Một cửa Quận 1", "scope": "receipts",
            "unit": units["760 – Quận 1"]}  # fmt: skip
    receipts = created_key(client.post("/staff/apikeys", data=data))
    assert check_key(receipts, Scope.OPEN311) is None
    issue = {"Authorization": f"Bearer {receipts}"}
    inside = client.post("/api/v1/receipts", json={"unit_code": "26734"}, headers=issue)
    outside = client.post("/api/v1/receipts", json={"unit_code": "769"}, headers=issue)
    assert (inside.status_code, outside.status_code) == (201, 403)
    form, _units = new_key_form(client)
    data = {**form["fields"], "name": "Sở Nội vụ", "scope": "analysis"}
    analysis = created_key(client.post("/staff/apikeys", data=data))
    client.get("/logout")
    figures = client.get("/api/v1/units", headers={"Authorization": f"Bearer {analysis}"})
    assert figures.status_code == 200
    assert client.get("/api/v1/units", headers=issue).status_code == 403
    page_keys = {k.name: (k.scope, k.unit.code if k.unit else None)
                 for k in db.session.scalars(select(ApiKey))}  # fmt: skip
    assert page_keys == {"Một cửa Quận 1": ("receipts", "760"), "Sở Nội vụ": ("analysis", None)}
    admin = client.application.test_client()
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "vi"
    login(admin, "admin@x.vn")
    page = admin.get("/staff/apikeys").get_data(as_text=True)
    table = page.split("<tbody>")[1].split("</tbody>")[0]
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>", table)
    # Each key says what it may do in the page's words, as the form offered it.
    assert rows == [
        (
            "Một cửa Quận 1",
            "Giấy hẹn: mã khảo sát in trên giấy hẹn trả kết quả của hồ sơ, do hệ thống một cửa cấp",
        ),
        ("Sở Nội vụ", "Phân tích: số liệu do công cụ riêng của cán bộ phân tích đọc"),
    ]


@pytest.mark.parametrize("forged", ["admin", "", "OPEN311", "receipts\n", "x" * 10_000])
def test_a_forged_scope_is_refused_and_nothing_is_stored(client, staff, tree, forged):
    login(client, "admin@x.vn")
    form, _units = new_key_form(client)
    response = client.post("/staff/apikeys", data={**form["fields"], "name": "Lạ", "scope": forged})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Choose one of the answers shown." in html
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_a_form_sent_without_a_scope_makes_an_open311_key_as_before(client, staff, tree):
    login(client, "admin@x.vn")
    form, _units = new_key_form(client)
    fields = {k: v for k, v in form["fields"].items() if k != "scope"}
    assert client.post("/staff/apikeys", data={**fields, "name": "1022"}).status_code == 200
    assert db.session.scalar(select(ApiKey.scope)) == "open311"


def test_a_revoked_key_keeps_its_unit_on_the_page_and_is_refused(client, staff, tree):
    _record, key = create_key("Quận 1 cũ", Scope.OPEN311, tree["760"])
    db.session.commit()
    login(client, "admin@x.vn")
    page = client.get("/staff/apikeys").get_data(as_text=True)
    revoke = next(f for f in page_forms(page) if f["action"].endswith("/revoke"))
    assert client.post(revoke["action"], data=revoke["fields"]).status_code == 303
    page = client.get("/staff/apikeys").get_data(as_text=True)
    row = re.search(r"<tr><td>Quận 1 cũ</td>(.*?)</tr>", page).group(1)
    assert '<td>760 – <span lang="vi">Quận 1</span></td>' in row and "revoked on" in row
    refused = client.post("/open311/v2/requests.json", data={
        "api_key": key, "jurisdiction_id": "26734", "service_code": "delay",
        "attribute[kind]": "report", "description": "Chờ quá lâu ở quầy một cửa."})  # fmt: skip
    assert refused.status_code == 403 and refused.get_json()[0]["description"] == (
        "api_key is not valid"
    )
