"""The JSON API: who may read it, what it refuses, what it returns, and what it documents."""

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from analysis import warm
from analysis.frame import load_frame
from analysis.indexes import MEASURES
from analysis.pakn import PAKN_MEASURES
from analysis.params import API_PARAMETERS
from analysis.tables import (
    CHANGE_COLUMNS,
    COLUMNS,
    RANK_COLUMNS,
    SHRINK_COLUMNS,
    WEIGHTING_COLUMNS,
    Request,
    build_rows,
)
from core.apikeys import Scope, create_key
from core.extensions import db
from core.models import utcnow
from feedback.models import Channel, Kind, Topic
from feedback.services import create_case
from tests.analysis.test_indexes import MARCH, hand_example, import_rows, response
from tests.conftest import login

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
MARCH_ARGS = "from=2024-03-01&to=2024-03-31"
PYTHON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool,
                "null": type(None)}  # fmt: skip


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    # Each test empties the tables, and SQLite reuses ids: never serve another test's frame.
    monkeypatch.setattr(warm, "_cache", {})


@pytest.fixture
def figures(tree, questionnaire):
    hand_example()
    return tree


def key(scope: Scope = Scope.ANALYSIS, revoked: bool = False) -> str:
    record, secret = create_key(f"{scope}-{revoked}", scope)
    record.revoked_at = utcnow() if revoked else None
    db.session.commit()
    return secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def get(client, query: str = MARCH_ARGS, headers=None, path="/api/v1/indexes"):
    response = client.get(f"{path}?{query}", headers=headers or {})
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    return response


def test_anonymous_gets_json_401_not_a_redirect(client, figures):
    response = get(client)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (
        response.json["error"]["status"] == 401 and "API key" in response.json["error"]["message"]
    )
    assert get(client, path="/api/v1/units", query="").status_code == 401


@pytest.mark.parametrize(
    ("role", "status"), [("handler", 403), ("analyst", 200), ("admin", 200), ("manager", 200)]
)
def test_staff_roles(client, figures, make_user, role, status):
    make_user(
        f"{role}@example.vn", role, unit=figures["760"] if role in ("manager", "handler") else None
    )
    login(client, f"{role}@example.vn")
    assert get(client).status_code == status
    assert get(client, path="/api/v1/units", query="").status_code == status


@pytest.mark.parametrize("role", ["manager", "analyst"])
def test_a_manager_or_an_analyst_of_a_unit_sees_only_its_subtree(client, figures, make_user, role):
    make_user(f"{role}@example.vn", role, unit=figures["760"])
    login(client, f"{role}@example.vn")
    rows = get(client).json["rows"]
    assert {r["unit_code"] for r in rows} == {"760", "26734", "26737"}
    assert get(client, f"{MARCH_ARGS}&unit=26734").status_code == 200
    for outside in ("769", "26800", "79"):
        refused = get(client, f"{MARCH_ARGS}&unit={outside}")
        assert refused.status_code == 403 and outside in refused.json["error"]["message"]
    assert get(client, f"{MARCH_ARGS}&unit=nope").status_code == 404
    units = get(client, path="/api/v1/units", query="").json["units"]
    assert [u["code"] for u in units] == ["760", "26734", "26737"]
    assert units[1] == {"code": "26734", "name": "Phường Bến Nghé", "level": "Phường",
                        "parent_code": "760", "closed_on": None}  # fmt: skip
    figures["26737"].closed_on = date(2025, 7, 1)
    db.session.commit()
    units = get(client, path="/api/v1/units", query="").json["units"]
    assert units[2]["closed_on"] == "2025-07-01"


def test_api_keys(client, figures):
    good = key()
    assert get(client, headers=bearer(good)).status_code == 200
    assert get(client, headers={"X-API-Key": good}).status_code == 200
    other = get(client, headers=bearer(key(Scope.OPEN311)))
    assert other.status_code == 403 and "not for the analysis API" in other.json["error"]["message"]
    for headers in (
        bearer(key(revoked=True)),
        bearer("garbage"),
        bearer("x" * 5000),
        {"X-API-Key": ""},
        {"Authorization": f"Basic {good}"},
    ):
        assert get(client, headers=headers).status_code == 401, headers


def test_key_from_the_command_line(client, runner, figures):
    result = runner.invoke(args=["apikeys", "create", "R script", "--scope", "analysis"])
    assert result.exit_code == 0, result.output
    assert get(client, headers=bearer(result.output.strip())).status_code == 200
    runner.invoke(args=["apikeys", "revoke", "R script"])
    assert get(client, headers=bearer(result.output.strip())).status_code == 401


def test_rows_equal_build_rows(client, figures):
    query = (
        f"{MARCH_ARGS}&compare=previous&ranks=1&shrink=true&measure=overall&measure=criterion:A1"
    )
    body = get(client, query, headers=bearer(key())).json
    request = Request(MARCH, measures=("overall", "criterion:A1"), compare="previous",
                      ranks=True, shrink=True)  # fmt: skip
    columns, rows = build_rows(request, load_frame())
    every = COLUMNS + CHANGE_COLUMNS + RANK_COLUMNS + SHRINK_COLUMNS + WEIGHTING_COLUMNS
    assert body["columns"] == columns == every
    assert body["rows"] == rows and len(rows) == 6 * 2
    meta = body["meta"]
    assert meta["period"] == {"start": "2024-03-01", "end": "2024-03-31"}
    assert meta["comparison_period"] == {"start": "2024-02-01", "end": "2024-02-29"}
    assert meta["weighting"] == "respondents" and "Wilson" in meta["method"]
    assert meta["filters"]["measures"] == ["overall", "criterion:A1"]


def test_the_column_layout_holds_the_same_cells(client, figures):
    query = f"{MARCH_ARGS}&compare=previous&ranks=1&shrink=1"
    secret = bearer(key())
    by_rows = get(client, query, secret).json
    by_columns = get(client, f"{query}&layout=columns", secret)
    body = by_columns.json
    assert set(body) == {"meta", "columns", "data"}
    assert body["columns"] == by_rows["columns"] == list(body["data"])  # in the same order
    rebuilt = [dict(zip(body["columns"], cells, strict=True))
               for cells in zip(*body["data"].values(), strict=True)]  # fmt: skip
    assert rebuilt == by_rows["rows"] and len(rebuilt) == 6 * 26
    del body["meta"]["generated_at"], by_rows["meta"]["generated_at"]
    assert body["meta"] == by_rows["meta"]
    assert len(by_columns.get_data()) < len(get(client, query, secret).get_data()) / 2
    explicit = get(client, f"{query}&layout=rows", secret).json
    assert explicit["rows"] == by_rows["rows"]
    spec = json.loads(OPENAPI.read_text(encoding="utf-8"))["components"]["schemas"]
    assert set(spec["IndexColumns"]["required"]) == set(body)
    for name, cells in body["data"].items():
        kinds = spec["IndexRow"]["properties"][name]["type"]
        kinds = kinds if isinstance(kinds, list) else [kinds]
        assert all(isinstance(c, tuple(PYTHON_TYPES[k] for k in kinds)) for c in cells), name


def test_filters_change_the_figures(client, figures):
    import_rows([response("26734", 1, 1, channel="static") for _ in range(10)])
    secret = bearer(key())
    paper = get(client, f"{MARCH_ARGS}&unit=26734&measure=criterion:A1&channel=paper", secret)
    both = get(client, f"{MARCH_ARGS}&unit=26734&measure=criterion:A1", secret)
    assert paper.json["rows"][0]["n"] == 11 and both.json["rows"][0]["n"] == 21
    by_level = get(client, f"{MARCH_ARGS}&level=Quận&weighting=population", secret).json
    assert {r["unit_code"] for r in by_level["rows"]} == {"760"}
    quarter = get(client, "preset=quarter&anchor=2024-02-14", secret).json["meta"]["period"]
    assert quarter == {"start": "2024-01-01", "end": "2024-03-31"}


def test_no_personal_data(client, tree, questionnaire):
    rows = [response("26734", 4, 4) for _ in range(12)]
    for row in rows:
        row |= {"comment": "Gọi tôi: 0901234567, Nguyễn Văn A", "procedure": "lao-dong-xa-hoi"}
    import_rows(rows)
    text = get(client, MARCH_ARGS, bearer(key())).get_data(as_text=True)
    assert "0901234567" not in text and "Nguyễn Văn A" not in text and "xa-hoi" not in text


@pytest.mark.parametrize(
    ("query", "parameter", "message"),
    [
        ("from=2024-13-01&to=2024-03-31", "from", "'2024-13-01' is not a date"),
        ("from=01/03/2024&to=2024-03-31", "from", "is not a date (YYYY-MM-DD)"),
        ("from=2024-03-31&to=2024-03-01", "to", "2024-03-01 is before from (2024-03-31)"),
        ("to=2024-03-01", "from", "is required"),
        (
            "from=1999-12-31&to=2024-03-01",
            "from",
            "'1999-12-31' is not a date between 2000-01-01 and 2100-12-31",
        ),
        (f"{MARCH_ARGS}&channel=fax", "channel", "'fax' is not one of static, presence"),
        (f"{MARCH_ARGS}&measure=criterion:Z9", "measure", "'criterion:Z9' is not one of"),
        (f"{MARCH_ARGS}&level=Nowhere", "level", "no unit has level 'Nowhere'"),
        (f"{MARCH_ARGS}&weighting=heavy", "weighting", "not one of respondents, population"),
        (f"{MARCH_ARGS}&compare=decade", "compare", "not one of previous, year"),
        (f"{MARCH_ARGS}&ranks=maybe", "ranks", "not true or false"),
        (f"{MARCH_ARGS}&questionnaire=abc", "questionnaire", "no version 'abc'"),
        (f"{MARCH_ARGS}&questionnaire=9", "questionnaire", "no version '9' (versions: 1)"),
        (f"{MARCH_ARGS}&unit=%3Cscript%3E", "unit", "'<script>' is not a unit code"),
        (f"{MARCH_ARGS}&chanel=paper", "chanel", "unknown parameter"),
        (f"{MARCH_ARGS}&from=2024-01-01", "from", "given too many times"),
        (f"{MARCH_ARGS}&unit={'9' * 5000}", "unit", "longer than 100 characters"),
        (f"{MARCH_ARGS}&{'&'.join(['channel=paper'] * 60)}", "channel", "given too many times"),
        ("preset=month&from=2024-01-01", "preset", "give either from and to, or preset"),
        ("preset=week", "preset", "'week' is not one of month, quarter, year"),
        (f"{MARCH_ARGS}&anchor=2024-03-02", "anchor", "goes with preset"),
        (f"{MARCH_ARGS}&layout=table", "layout", "'table' is not one of rows, columns"),
        (f"{MARCH_ARGS}&layout=rows&layout=columns", "layout", "given too many times"),
        (f"{MARCH_ARGS}&layout={'x' * 500}", "layout", "longer than 100 characters"),
    ],
)
def test_bad_parameters(client, figures, query, parameter, message):
    response = get(client, query, bearer(key()))
    assert response.status_code == 400
    error = response.json["error"]
    assert error["status"] == 400
    assert any(
        p["parameter"] == parameter and message in p["message"] for p in error["problems"]
    ), error
    assert len(response.get_data()) < 2000  # hostile input is not echoed back at length


def test_every_bad_parameter_reported_at_once(client, figures):
    error = get(client, "from=x&to=y&channel=fax", bearer(key())).json["error"]
    assert [p["parameter"] for p in error["problems"]] == ["from", "to", "channel"]


def test_a_bad_layout_is_reported_with_the_bad_filters(client, figures):
    error = get(client, "from=x&to=2024-03-31&layout=table", bearer(key())).json["error"]
    assert [p["parameter"] for p in error["problems"]] == ["from", "layout"]


def test_unknown_unit_and_endpoint(client, figures):
    secret = bearer(key())
    missing = get(client, f"{MARCH_ARGS}&unit=99999", secret)
    assert (
        missing.status_code == 404 and missing.json["error"]["message"] == "no unit with code 99999"
    )
    assert get(client, "", secret, path="/api/v1/nothing").status_code == 404
    assert get(client, "x=1", secret, path="/api/v1/units").status_code == 400


@pytest.mark.parametrize("signed_in_as", [None, "analyst", "handler"])
def test_a_get_of_an_endpoint_that_takes_post_is_a_405_not_a_missing_endpoint(
    app, client, make_user, tree, signed_in_as
):
    # The API's catch-all for unknown paths once answered it 404 "no such endpoint" (or 401,
    # 403 before that, by who asked): the receipts endpoint is there, and takes POST.
    if signed_in_as:
        make_user(f"{signed_in_as}@x.vn", signed_in_as, tree["26734"])
        login(client, f"{signed_in_as}@x.vn")
    response = get(client, "", path="/api/v1/receipts")
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert response.json["error"]["message"] == "use POST for this endpoint"
    assert get(client, "", path="/api/v1/nothing").status_code in (401, 403, 404)


def test_openapi_documents_what_the_view_accepts():
    spec = json.loads(OPENAPI.read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.1")
    operation = spec["paths"]["/indexes"]["get"]
    documented = [p["name"] for p in operation["parameters"] if p["in"] == "query"]
    assert sorted(documented) == sorted(API_PARAMETERS)
    repeatable = {p["name"] for p in operation["parameters"] if p["schema"].get("type") == "array"}
    assert repeatable == {"channel", "questionnaire", "measure"}
    row = spec["components"]["schemas"]["IndexRow"]
    every = COLUMNS + CHANGE_COLUMNS + RANK_COLUMNS + SHRINK_COLUMNS + WEIGHTING_COLUMNS
    assert list(row["properties"]) == every
    assert row["required"] == COLUMNS + WEIGHTING_COLUMNS
    measure = next(p for p in operation["parameters"] if p["name"] == "measure")
    every = list(MEASURES + PAKN_MEASURES)
    assert measure["schema"]["items"]["enum"] == row["properties"]["measure"]["enum"] == every
    assert {"400", "401", "403", "404"} <= set(operation["responses"])
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerKey"]["scheme"] == "bearer" and schemes["session"]["in"] == "cookie"


def test_answers_match_the_documented_schema(client, figures):
    # A PAKN case: its ratios come by default, and must match the schema too.
    create_case(figures["26734"], kind=Kind.REPORT, topic=Topic.DELAY, channel=Channel.WEB,
                content="Hồ sơ trễ hẹn ba ngày mà không được báo.",
                received_at=datetime(2024, 3, 12, 3))  # fmt: skip
    db.session.commit()
    spec = json.loads(OPENAPI.read_text(encoding="utf-8"))
    properties = spec["components"]["schemas"]["IndexRow"]["properties"]
    body = get(client, f"{MARCH_ARGS}&compare=year&ranks=1&shrink=1", bearer(key())).json
    assert {"pakn:received", "overall"} <= {row["measure"] for row in body["rows"]}
    assert set(body) == set(spec["components"]["schemas"]["IndexTable"]["required"])
    assert set(spec["components"]["schemas"]["Meta"]["required"]) <= set(body["meta"])
    for row in body["rows"]:
        for name, value in row.items():
            kinds = properties[name]["type"]
            kinds = kinds if isinstance(kinds, list) else [kinds]
            assert isinstance(value, tuple(PYTHON_TYPES[k] for k in kinds)), (name, value)
            if "enum" in properties[name]:
                assert value in properties[name]["enum"]


def unit_key(unit, revoked: bool = False) -> str:
    record, secret = create_key(f"analysis {unit.code} {revoked}", Scope.ANALYSIS, unit)
    record.revoked_at = utcnow() if revoked else None
    db.session.commit()
    return secret


def test_a_key_for_a_unit_reads_its_subtree_only(client, figures):
    limited, whole = bearer(unit_key(figures["760"])), bearer(key())
    rows = get(client, headers=limited).json["rows"]
    assert {r["unit_code"] for r in rows} == {"760", "26734", "26737"}
    # The same figures as a key for every unit reads for those units: limited, not changed.
    everything = get(client, headers=whole).json["rows"]
    assert {r["unit_code"] for r in everything} == set(figures)
    assert rows == [r for r in everything if r["unit_code"] in {"760", "26734", "26737"}]
    wards = get(client, f"{MARCH_ARGS}&level=Phường", headers=limited).json["rows"]
    assert {r["unit_code"] for r in wards} == {"26734", "26737"}
    # The province's roll-up lies above the key's unit: a level query does not reach it.
    assert get(client, f"{MARCH_ARGS}&level=Tỉnh", headers=limited).json["rows"] == []
    columns = get(client, f"{MARCH_ARGS}&layout=columns", headers=limited).json["data"]
    assert set(columns["unit_code"]) == {"760", "26734", "26737"}
    inside = get(client, f"{MARCH_ARGS}&unit=26734", headers=limited)
    assert inside.status_code == 200 and {r["unit_code"] for r in inside.json["rows"]} == {"26734"}
    for outside in ("79", "769", "26800"):
        refused = get(client, f"{MARCH_ARGS}&unit={outside}", headers=limited)
        assert refused.status_code == 403, outside
        assert refused.json["error"]["message"] == (
            f"unit {outside} is outside this API key's units"
        )
    assert get(client, f"{MARCH_ARGS}&unit=nope", headers=limited).status_code == 404
    units = get(client, path="/api/v1/units", query="", headers=limited).json["units"]
    assert [u["code"] for u in units] == ["760", "26734", "26737"]
    all_units = get(client, path="/api/v1/units", query="", headers=whole).json["units"]
    assert len(all_units) == len(figures)


def test_a_key_for_a_ward_sees_no_district_and_a_revoked_one_nothing(client, figures):
    ward = bearer(unit_key(figures["26800"]))
    rows = get(client, headers=ward).json["rows"]
    assert {r["unit_code"] for r in rows} == {"26800"}
    assert get(client, f"{MARCH_ARGS}&unit=769", headers=ward).status_code == 403
    revoked = get(client, headers=bearer(unit_key(figures["760"], revoked=True)))
    assert revoked.status_code == 401 and revoked.json["error"]["message"] == (
        "unknown or revoked API key"
    )


@pytest.mark.parametrize(
    ("day", "accepted"),
    [
        ("1970-01-01", False),
        ("1999-12-31", False),
        ("2000-01-01", True),
        ("2100-12-31", True),
        ("2101-01-01", False),
        ("2999-12-31", False),
    ],
)
def test_the_api_and_the_pages_accept_the_same_days(client, figures, make_user, day, accepted):
    query = f"from={day}&to={day}"
    assert (get(client, query, bearer(key())).status_code == 200) is accepted
    make_user("analyst@x.vn", "analyst")
    login(client, "analyst@x.vn")
    client.set_cookie("lang", "en")
    response = client.get(f"/staff/analysis/?{query}")
    assert (response.status_code == 200) is accepted
    if not accepted:
        assert (
            f"From: “{day}” is not a date between 1 Jan 2000 and 31 Dec 2100."
            in response.get_data(as_text=True)
        )
