"""Every staff URL of PAKN, walked for every role and unit: the server checks the scope."""

import io
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import select

from core.apikeys import ApiKey, Scope, create_key
from core.extensions import db
from feedback.images import Photo
from feedback.models import Case, DeclaredDay
from feedback.workdays import local_today
from tests.conftest import csrf_for, login, page_forms
from tests.feedback.conftest import handle

ROLES = ["admin", "manager", "handler", "other_handler", "analyst", None]
EMAILS = {
    "admin": "admin@x.vn",
    "manager": "manager@x.vn",  # district 760: sees 26734, not 26800
    "handler": "handler@x.vn",  # commune 26734
    "other_handler": "other@x.vn",  # commune 26800
    "analyst": "analyst@x.vn",
}
# Which role may handle a case of each unit.
HANDLES = {
    "26734": {"admin", "manager", "handler"},
    "26800": {"admin", "other_handler"},
}
CASE_ROLES = {"admin", "manager", "handler", "other_handler"}


@pytest.fixture
def world(staff, make_case, app):
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "JPEG")
    photo = Photo(out.getvalue(), 10, 10)
    cases = {
        code: make_case(code, person={"name": f"Người {code}", "phone": "0900000000"},
                        photos=[photo])
        for code in HANDLES
    }  # fmt: skip
    day = DeclaredDay(day=date(2025, 1, 24), working=False, note="bridge")
    key, _secret = create_key("hotline-1022", Scope.OPEN311)
    db.session.add(day)
    db.session.commit()
    return {"cases": cases, "day": day.id, "key": key.id}


def as_role(client, role):
    if role:
        login(client, EMAILS[role])
    return client


def expect(response, allowed, role):
    if role is None:
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    elif allowed:
        assert response.status_code in (200, 303), response.status_code
    else:
        assert response.status_code in (403, 404), response.status_code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("unit", list(HANDLES))
def test_case_page_photo_and_moves(client, world, role, unit):
    as_role(client, role)
    case = world["cases"][unit]
    allowed = role in HANDLES[unit]
    page = client.get(f"/staff/cases/{case.id}")
    expect(page, allowed, role)
    if allowed:
        html = page.get_data(as_text=True)
        assert f"Người {unit}" in html and "0900000000" in html  # the handler sees the sender
    expect(client.get(f"/staff/cases/{case.id}/photos/1.jpg"), allowed, role)
    form = {
        "action": "comment",
        "version": case.version,
        "note": "checked",
        "csrf_token": csrf_for(client),
    }
    expect(client.post(f"/staff/cases/{case.id}", data=form), allowed, role)
    db.session.expire_all()
    notes = [e.note for e in db.session.get(Case, case.id).events]
    assert ("checked" in notes) == (allowed and role is not None)


@pytest.mark.parametrize("role", ROLES)
def test_queue_shows_only_cases_in_scope(client, world, role):
    as_role(client, role)
    response = client.get("/staff/cases?tab=all")
    expect(response, role in CASE_ROLES, role)
    if role in CASE_ROLES:
        html = response.get_data(as_text=True)
        for unit, case in world["cases"].items():
            assert (f'/staff/cases/{case.id}"' in html) == (role in HANDLES[unit])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("unit", ["26734", "26800"])
def test_queue_filter_on_a_unit_out_of_scope_is_refused(client, world, role, unit):
    as_role(client, role)
    response = client.get(f"/staff/cases?unit={unit}")
    expect(response, role in HANDLES[unit] or role == "manager" and unit == "26734", role)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("unit", ["26734", "26800"])
def test_staff_intake_only_into_units_in_scope(client, world, tree, role, unit):
    as_role(client, role)
    page = client.get("/staff/cases/new")
    expect(page, role in CASE_ROLES, role)
    if role not in CASE_ROLES:
        return
    form = {
        **page_forms(page.get_data(as_text=True))[-1]["fields"],
        "unit": tree[unit].id,
        "channel": "hotline",
        "received_on": local_today().isoformat(),
        "kind": "recommendation",
        "topic": "procedure",
        "content": "Đề nghị niêm yết thủ tục rõ hơn.",
    }
    response = client.post("/staff/cases/new", data=form)
    allowed = role in HANDLES[unit]
    assert response.status_code == (303 if allowed else 422)
    created = db.session.scalar(select(Case).where(Case.channel == "hotline"))
    assert (created is not None) == allowed


ADMIN_PAGES = [
    ("get", "/staff/calendar", None),
    ("post", "/staff/calendar", {"day": "2026-02-14", "working": "working", "note": "bù"}),
    ("post", "/staff/calendar/{day}/delete", {}),
    ("get", "/staff/apikeys", None),
    ("post", "/staff/apikeys", {"name": "portal"}),
    ("post", "/staff/apikeys/{key}/revoke", {}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "data"), ADMIN_PAGES)
def test_admin_pages_are_for_admins_only(client, world, role, method, url, data):
    as_role(client, role)
    url = url.format(day=world["day"], key=world["key"])
    if method == "get":
        response = client.get(url)
    else:
        data = {**data, "csrf_token": csrf_for(client)}
        response = client.post(url, data=data)
    expect(response, role == "admin", role)
    key = db.session.get(ApiKey, world["key"])
    db.session.refresh(key)
    assert (key.revoked_at is not None) == (role == "admin" and url.endswith("/revoke"))


# Publishing commits the unit: a manager or an administrator whose scope holds the case.
PUBLISHES = {"26734": {"admin", "manager"}, "26800": {"admin"}}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("unit", list(HANDLES))
def test_publishing_with_its_two_texts_keeps_to_role_and_scope(client, world, staff, role, unit):
    case = world["cases"][unit]
    handle(case, staff["admin"], f"Kính gửi Người {unit}: đã xử lý.")
    as_role(client, role)
    form = {
        "action": "publish",
        "version": case.version,
        "summary": "Chậm trả kết quả.",
        "published_answer": "Đã xử lý.",
        "csrf_token": csrf_for(client),
    }
    response = client.post(f"/staff/cases/{case.id}", data=form)
    if role in PUBLISHES[unit]:
        assert response.status_code == 303
    elif role in HANDLES[unit]:  # may handle the case, not publish it
        assert response.status_code == 409
        assert "Your role does not allow this action." in response.get_data(as_text=True)
    else:
        expect(response, False, role)
    db.session.expire_all()
    published = db.session.get(Case, case.id)
    assert (published.state == "published") == (role in PUBLISHES[unit])
    assert (published.published_answer == "Đã xử lý.") == (role in PUBLISHES[unit])
