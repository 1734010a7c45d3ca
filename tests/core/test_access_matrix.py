"""Every staff page and API of the app, for every role and both sides of a unit scope.

Every staff view and API checks the unit scope on the server, so the tests walk the whole matrix
of role × unit × endpoint. The PAKN pages have their own walk
(tests/feedback/test_staff_access.py); this one covers the rest, and fails when a staff or API
URL is added that neither walks. The accounts pages have theirs too
(tests/core/test_accounts_access.py).
"""

import io

import pytest
from sqlalchemy import func, select, update

from core.apikeys import Scope, create_key
from core.extensions import db
from core.forms import new_key
from core.models import Role, Unit, UnitEvent, User, local_today, utcnow
from feedback.models import Case
from survey.models import Exclusion, ReceiptCode, Response, SurveyPoint
from survey.services import add_point
from tests.conftest import FAST_HASH, RequestClient, csrf_for, login

ROLES = ["admin", "manager", "handler", "analyst", None]  # None: signed out
POINT_STAFF = {"admin", "manager", "handler"}  # manager of district 760, handler of 26734
ANALYSTS = {"admin", "manager", "analyst"}
EVERYONE_SIGNED_IN = {"admin", "manager", "handler", "analyst"}
INSIDE, OUTSIDE = "26734", "26800"  # under district 760, and under 769

# endpoint: (method, URL, roles allowed for the unit inside the manager's and handler's scope,
# roles allowed for the unit outside it). {unit}, {point} and {response} are the side's own.
MATRIX = {
    "survey_staff.points": ("get", "/staff/", POINT_STAFF, POINT_STAFF),
    "survey_staff.point_poster": (
        "get",
        "/staff/points/{point}/poster.png",
        POINT_STAFF,
        {"admin"},
    ),
    "survey_staff.point_responses": (
        "get",
        "/staff/points/{point}/responses",
        POINT_STAFF,
        {"admin"},
    ),  # fmt: skip
    "survey_staff.exclude": (
        "post",
        "/staff/responses/{response}/exclude",
        {"admin", "manager"},
        {"admin"},
    ),  # fmt: skip
    "survey_staff.restore": (
        "post",
        "/staff/responses/{response}/restore",
        {"admin", "manager"},
        {"admin"},
    ),  # fmt: skip
    # Analysts too are refused: a citizen's words may hold a name or a phone number.
    "survey_comments.comments_page": ("get", "/staff/comments?unit={unit}", POINT_STAFF, {"admin"}),
    "survey_points.new_point": ("post", "/staff/points/new", {"admin", "manager"}, {"admin"}),
    "survey_points.point": ("get", "/staff/points/{point}", {"admin", "manager"}, {"admin"}),
    "survey_points.rename": ("post", "/staff/points/{point}", {"admin", "manager"}, {"admin"}),
    "survey_points.retire": (
        "post",
        "/staff/points/{point}/retire",
        {"admin", "manager"},
        {"admin"},
    ),  # fmt: skip
    "survey_counter.display": ("get", "/staff/points/{point}/display", POINT_STAFF, {"admin"}),
    "survey_counter.display_state": (
        "get",
        "/staff/points/{point}/display.json",
        POINT_STAFF,
        {"admin"},
    ),  # fmt: skip
    "survey_counter.receipts": ("post", "/staff/receipts", POINT_STAFF, {"admin"}),
    "survey_counter.paper": ("post", "/staff/paper", POINT_STAFF, {"admin"}),
    "survey_staff.import_file": (
        "post",
        "/staff/responses/import",
        {"admin", "manager"},
        {"admin"},
    ),
    "analysis_staff.index": ("get", "/staff/analysis/?unit={unit}", ANALYSTS, {"admin", "analyst"}),
    "analysis_staff.download": (
        "get",
        "/staff/analysis/export.csv?unit={unit}",
        ANALYSTS,
        {"admin", "analyst"},
    ),  # fmt: skip
    "analysis_staff.forest": (
        "get",
        "/staff/analysis/forest?unit={unit}",
        ANALYSTS,
        {"admin", "analyst"},
    ),  # fmt: skip
    "analysis_staff.forest_file": (
        "get",
        "/staff/analysis/forest.svg?unit={unit}",
        ANALYSTS,
        {"admin", "analyst"},
    ),  # fmt: skip
    "analysis_staff.ranking": (
        "get",
        "/staff/analysis/ranking?unit={unit}",
        ANALYSTS,
        {"admin", "analyst"},
    ),  # fmt: skip
    "analysis_staff.ranking_file": (
        "get",
        "/staff/analysis/ranking.svg?unit={unit}",
        ANALYSTS,
        {"admin", "analyst"},
    ),  # fmt: skip
    "analysis_staff.trend": (
        "get",
        "/staff/analysis/units/{unit}/trend",
        ANALYSTS,
        {"admin", "analyst"},
    ),  # fmt: skip
    "analysis_staff.trend_file": (
        "get",
        "/staff/analysis/units/{unit}/trend.svg",
        ANALYSTS,
        {"admin", "analyst"},
    ),  # fmt: skip
    "analysis_api.indexes": (
        "get",
        "/api/v1/indexes?unit={unit}&preset=year&anchor=2025-06-01",
        ANALYSTS,
        {"admin", "analyst"},
    ),
    "analysis_api.units": ("get", "/api/v1/units", ANALYSTS, ANALYSTS),
    # The unit tree: its managers' (handlers and analysts have no access, README).
    "units.tree": ("get", "/staff/units?unit={unit}", {"admin", "manager"}, {"admin"}),
    "units.unit_page": ("get", "/staff/units/{unit}/history", {"admin", "manager"}, {"admin"}),
    "units.download": (
        "get",
        "/staff/units/units.csv?unit={unit}",
        {"admin", "manager"},
        {"admin"},
    ),
    "units.import_file": ("post", "/staff/units/import", {"admin"}, {"admin"}),
    # Receipts for partner systems: an API key, never a session (tests/survey/test_integrity.py).
    "survey_api.issue_receipts": ("post", "/api/v1/receipts", set(), set()),
}
# Walked in tests/feedback/test_staff_access.py.
PAKN_WALKED = {
    "feedback_staff.cases", "feedback_staff.case_page", "feedback_staff.act",
    "feedback_staff.photo", "feedback_intake.new_case", "feedback_admin.calendar",
    "feedback_admin.delete_day", "feedback_admin.api_keys", "feedback_admin.revoke_key",
}  # fmt: skip
# Walked in tests/core/test_accounts_access.py.
ACCOUNTS_WALKED = {
    "accounts.users", "invitations.new_user", "accounts.user", "accounts.change_role",
    "accounts.set_password", "accounts.deactivate", "accounts.activate", "own_account.own_password",
    "accounts.end_sessions", "own_account.end_other_sessions", "invitations.invite",
}  # fmt: skip
# Not pages: the sign-out, and the API's answer to an unknown path (404 in JSON for everyone).
OTHERS = {"auth.logout", "analysis_api.unknown"}


def test_every_staff_and_api_url_is_walked(app):
    staff_urls = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/staff", "/api/", "/logout"))
    }
    walked = MATRIX.keys() | PAKN_WALKED | ACCOUNTS_WALKED | OTHERS
    assert staff_urls - walked == set()
    assert walked - staff_urls == set()


@pytest.fixture
def world(tree, questionnaire):
    db.session.add_all([
        User(email="admin@x.vn", role=Role.ADMIN, password_hash=FAST_HASH),
        User(email="manager@x.vn", role=Role.MANAGER, unit=tree["760"], password_hash=FAST_HASH),
        User(email="handler@x.vn", role=Role.HANDLER, unit=tree["26734"], password_hash=FAST_HASH),
        User(email="analyst@x.vn", role=Role.ANALYST, password_hash=FAST_HASH),
    ])  # fmt: skip
    sides = {}
    for code in (INSIDE, OUTSIDE):
        point = add_point(tree[code], f"Quầy {code}", actor=None)
        db.session.flush()
        response = Response(questionnaire_id=questionnaire.id, unit_id=point.unit_id,
                            point_id=point.id, channel="static", a1=5, hk=False)  # fmt: skip
        db.session.add(response)
        db.session.flush()
        sides[code] = {"unit": code, "point": point.token, "response": response.id}
    db.session.commit()
    return sides


def _form(endpoint, side):
    if endpoint == "survey_staff.exclude":
        return {"reason": "Thử nghiệm", "next": "/staff/"}
    if endpoint == "survey_staff.restore":
        return {"next": "/staff/"}
    if endpoint == "survey_points.new_point":
        return {"unit": side["unit"], "label": "Quầy mới", "key": new_key()}
    if endpoint == "survey_points.rename":
        return {"label": "Quầy đổi tên"}
    if endpoint == "survey_points.retire":
        return {"confirm": "y"}
    if endpoint == "survey_counter.receipts":
        return {"unit": side["unit"], "count": "2", "procedure": ""}
    if endpoint == "survey_api.issue_receipts":
        return {"unit_code": side["unit"], "count": "2"}
    if endpoint == "survey_counter.paper":
        return {"unit": side["unit"], "day": local_today().isoformat(), "answers": "5" * 19,
                "hk": "n", "key": new_key()}  # fmt: skip
    if endpoint == "survey_staff.import_file":
        # A file of its own each time (its comment), not refused as one imported before.
        raw = "unit_code,submitted_at,channel,A1,HK,comment\n"
        raw += f"{side['unit']},{local_today()},paper,5,no,{new_key()}\n"
        return {"file": (io.BytesIO(raw.encode()), "paper.csv")}
    if endpoint == "units.import_file":
        # The side's unit renamed, a name of its own each time: one line of its history.
        unit = db.session.scalar(select(Unit).where(Unit.code == side["unit"]))
        raw = "code,name,level,parent_code\n"
        raw += f"{unit.code},Phường {new_key()},Phường,{unit.parent.code}\n"
        return {"file": (io.BytesIO(raw.encode()), "units.csv")}
    return {}


def _effect(endpoint, side) -> int:
    """Count what a POST to the endpoint leaves in the database for this side's unit."""
    unit_id = db.session.get(Response, side["response"]).unit_id
    if endpoint in ("survey_staff.exclude", "survey_staff.restore"):
        active = (Exclusion.response_id == side["response"], Exclusion.undone_at.is_(None))
        return db.session.scalar(select(func.count()).where(*active))
    if endpoint == "survey_points.new_point":
        return db.session.scalar(select(func.count()).where(SurveyPoint.unit_id == unit_id))
    if endpoint in ("survey_points.rename", "survey_points.retire"):
        db.session.expire_all()
        point = db.session.scalar(select(SurveyPoint).where(SurveyPoint.token == side["point"]))
        return (point.label == "Quầy đổi tên") + 2 * (not point.active)
    if endpoint in ("survey_counter.receipts", "survey_api.issue_receipts"):
        return db.session.scalar(select(func.count()).where(ReceiptCode.unit_id == unit_id))
    if endpoint == "units.import_file":
        return db.session.scalar(select(func.count()).where(UnitEvent.unit_id == unit_id))
    if endpoint in ("survey_counter.paper", "survey_staff.import_file"):
        return db.session.scalar(
            select(func.count()).where(Response.unit_id == unit_id, Response.channel == "paper")
        )
    return 0


def _reset(endpoint, side):
    """Leave the response excluded before a restore, and not excluded before an exclusion; the
    point in use and with its first label before it is renamed or retired."""
    active = (Exclusion.response_id == side["response"], Exclusion.undone_at.is_(None))
    if endpoint in ("survey_points.rename", "survey_points.retire"):
        db.session.execute(
            update(SurveyPoint)
            .where(SurveyPoint.token == side["point"])
            .values(label=f"Quầy {side['unit']}", active=True, retired_at=None)
        )
    if endpoint == "survey_staff.exclude":
        db.session.execute(update(Exclusion).where(*active).values(undone_at=utcnow()))
    elif endpoint == "survey_staff.restore" and not db.session.scalar(
        select(func.count()).where(*active)
    ):
        admin = db.session.scalar(select(User).where(User.email == "admin@x.vn"))
        db.session.add(Exclusion(response_id=side["response"], reason="x", excluded_by_id=admin.id))
    db.session.commit()


@pytest.mark.parametrize("where", ["inside", "outside"])
@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_who_reaches_what(app, world, endpoint, where):
    method, url, inside, outside = MATRIX[endpoint]
    side = world[INSIDE if where == "inside" else OUTSIDE]
    url = url.format(**side)
    app.test_client_class = RequestClient  # each request in its own app context, as served
    for role in ROLES:
        allowed = role in (inside if where == "inside" else outside)
        client = app.test_client()
        if role:
            login(client, f"{role}@x.vn")
        _reset(endpoint, side)
        before = _effect(endpoint, side)
        if method == "get":
            response = client.get(url)
        else:
            data = {**_form(endpoint, side), "csrf_token": csrf_for(client)}
            response = client.post(url, data=data)
        status, after = response.status_code, _effect(endpoint, side)
        if allowed:
            assert status in (200, 302, 303), (role, status)
            assert after != before or method == "get", role
        elif role is None and not url.startswith("/api/"):
            assert status == 302 and response.headers["Location"].startswith("/login")
        else:
            # Refused outright, or (a form's unit list holds only the units in scope; a file's
            # rows must be of those units) the form
            # is shown again with its error (200, or 422 on the newer pages): either way
            # nothing is recorded.
            shown_again = status in (200, 422) and method == "post"
            assert status in (401, 403, 404) or shown_again, (role, status)
            assert after == before, role


def test_receipts_api_takes_a_key_of_its_scope_only(client, world):
    receipts_key = create_key("quầy", Scope.RECEIPTS)[1]
    analysis_key = create_key("phân tích", Scope.ANALYSIS)[1]
    db.session.commit()
    data = {"unit_code": INSIDE, "count": "1"}
    refused = client.post("/api/v1/receipts", data=data, headers={"X-API-Key": analysis_key})
    accepted = client.post("/api/v1/receipts", data=data, headers={"X-API-Key": receipts_key})
    assert refused.status_code in (401, 403) and accepted.status_code in (200, 201)


# API keys: for every unit (as every key was before keys had units), for the district that
# holds INSIDE, or that district's key revoked. Each API, for a unit on each side.
KEYS = {"every unit": None, "district 760": "760", "revoked": "760"}
KEY_APIS = {
    Scope.RECEIPTS: "survey_api.issue_receipts",
    Scope.ANALYSIS: "analysis_api.indexes",
    Scope.OPEN311: "open311.create_request",
}


def _key_call(client, scope, key, code):
    """Call the scope's API for the unit code; return (status, what it left or showed)."""
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if scope is Scope.RECEIPTS:
        response = client.post("/api/v1/receipts", data={"unit_code": code},
                               headers={"X-API-Key": key})  # fmt: skip
        return response.status_code, db.session.scalar(
            select(func.count()).where(ReceiptCode.unit_id == unit.id)
        )
    if scope is Scope.ANALYSIS:
        response = client.get(f"/api/v1/indexes?unit={code}&preset=year",
                              headers={"Authorization": f"Bearer {key}"})  # fmt: skip
        listed = client.get("/api/v1/units", headers={"Authorization": f"Bearer {key}"})
        codes = {u["code"] for u in listed.json["units"]} if listed.status_code == 200 else set()
        return response.status_code, code in codes
    response = client.post("/open311/v2/requests.json", data={
        "api_key": key, "jurisdiction_id": code, "service_code": "delay",
        "attribute[kind]": "report", "description": "Chờ quá lâu ở quầy một cửa."})  # fmt: skip
    return response.status_code, db.session.scalar(
        select(func.count()).where(Case.unit_id == unit.id)
    )


@pytest.mark.parametrize("where", ["inside", "outside"])
@pytest.mark.parametrize("kind", list(KEYS))
@pytest.mark.parametrize("scope", list(KEY_APIS))
def test_what_a_key_reaches(app, world, tree, scope, kind, where):
    record, key = create_key(f"{scope} {kind}", scope, tree[KEYS[kind]] if KEYS[kind] else None)
    record.revoked_at = utcnow() if kind == "revoked" else None
    db.session.commit()
    code = INSIDE if where == "inside" else OUTSIDE
    allowed = kind == "every unit" or (kind == "district 760" and where == "inside")
    client = app.test_client()
    status, effect = _key_call(client, scope, key, code)
    if allowed:
        assert status in (200, 201), status
        assert effect in (1, True), effect
    else:
        assert status in (401, 403), status
        assert effect in (0, False), effect
