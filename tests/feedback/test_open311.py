"""Open311 GeoReport v2 through real client libraries (civicbot, georeport) over HTTP."""

import threading
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from civicbot.http import HttpError, HttpTransport, RateLimiter
from civicbot.open311 import Open311Client
from civicbot.registry import Endpoint
from georeport import GeoReport
from sqlalchemy import select
from werkzeug.serving import make_server

from core.apikeys import Scope, create_key
from core.extensions import db
from core.models import utcnow
from feedback import mailer
from feedback.models import Case
from feedback.services import apply_action
from feedback.workflow import Action
from tests.feedback.conftest import handle


@pytest.fixture
def server(app):
    """The app on a real socket of 127.0.0.1, in a thread, for the client libraries."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/open311/v2"
    httpd.shutdown()
    thread.join(5)


@pytest.fixture
def partner(app, tree):
    _record, key = create_key("hotline-1022", Scope.OPEN311)
    _other, other_key = create_key("portal", Scope.OPEN311)
    _analysis, analysis_key = create_key("analyst-tool", Scope.ANALYSIS)
    db.session.commit()
    return {"key": key, "other": other_key, "analysis": analysis_key}


def client_for(base: str) -> Open311Client:
    endpoint = Endpoint(id="hailong", name="Hài Lòng", base_url=base, write=True)
    return Open311Client(endpoint, HttpTransport(rate_limiter=RateLimiter(min_interval=0)))


def post(client, key, **kw):
    kw.setdefault("address_string", "UBND phường Bến Nghé")
    kw.setdefault("description", "Cán bộ yêu cầu nộp bản sao sổ hộ khẩu.")
    kw.setdefault("attributes", {"kind": "report", "channel": "hotline"})
    return client.create_request(
        kw.pop("service_code", "documents_fees"), dry_run=False, confirm="SEND", api_key=key,
        **kw,
    ).response  # fmt: skip


def test_a_partner_hands_a_case_over_and_follows_it(server, partner, staff, req):
    client = client_for(server)
    client.jurisdiction_id = "26734"
    services = client.list_services()
    assert {s["service_code"] for s in services} >= {"delay", "documents_fees", "other"}
    definition = client.get_service_definition("documents_fees")
    codes = [a["code"] for a in definition["attributes"]]
    assert codes == ["kind", "channel", "receipt", "locale"]
    [created] = post(client, partner["key"], first_name="An", last_name="Nguyễn", phone="0901")
    case = db.session.get(Case, int(created["service_request_id"]))
    assert case.channel == "hotline" and case.unit.code == "26734" and case.code == created["token"]
    assert case.locale == "vi"  # the default, when the partner does not say
    assert case.person.name == "Nguyễn An" and case.person.address == "UBND phường Bến Nghé"
    assert case.events[0].actor_label == "api:hotline-1022"
    assert client.get_token(created["token"]) == [
        {"service_request_id": created["service_request_id"], "token": created["token"]}
    ]
    client.jurisdiction_id = None
    status = client_with_key(server, partner["key"]).get_request(created["service_request_id"])
    assert status["status"] == "open" and status["status_notes"] == "received"
    assert status["expected_datetime"] == f"{case.due_on.isoformat()}T23:59:59+07:00"
    assert status["description"] == "Cán bộ yêu cầu nộp bản sao sổ hộ khẩu."
    # The unit answers; the partner reads the answer, the status is closed.
    handle(case, staff["handler"], "Đã chấn chỉnh cán bộ.")
    status = client_with_key(server, partner["key"]).get_request(created["service_request_id"])
    assert status["status"] == "closed"
    assert status["status_notes"] == "answered: Đã chấn chỉnh cán bộ."


class KeyedTransport(HttpTransport):
    """Add the partner's api_key to every GET, as a partner reading its own cases does."""

    def __init__(self, key):
        super().__init__(rate_limiter=RateLimiter(min_interval=0))
        self.key = key

    def get_bytes(self, url, params=None, headers=None):
        return super().get_bytes(url, {**(params or {}), "api_key": self.key}, headers)


def client_with_key(base, key):
    endpoint = Endpoint(id="hailong", name="Hài Lòng", base_url=base, write=True)
    return Open311Client(endpoint, KeyedTransport(key))


def test_others_see_only_published_cases(server, partner, staff, make_case, req):
    client = client_for(server)
    client.jurisdiction_id = "26734"
    [mine] = post(client, partner["key"])
    published = make_case(content="Phòng chờ nóng, không có quạt.")
    handle(published, staff["manager"], "Đã lắp quạt.")
    apply_action(published, Action.PUBLISH, staff["manager"], published.version,
                 summary="Phòng chờ thiếu quạt.", published_answer="Đã lắp quạt.")  # fmt: skip
    db.session.commit()
    anonymous = client_for(server)
    ids = [r["service_request_id"] for r in anonymous.list_requests()]
    assert ids == [str(published.id)]
    [public] = anonymous.list_requests(status="closed")
    assert public["description"] == "Phòng chờ thiếu quạt."  # the summary, never the content
    other = [r["service_request_id"] for r in client_with_key(server, partner["other"])
             .list_requests()]  # fmt: skip
    assert other == [str(published.id)]
    own = {r["service_request_id"] for r in client_with_key(server, partner["key"])
           .list_requests()}  # fmt: skip
    assert own == {mine["service_request_id"], str(published.id)}
    with pytest.raises(HttpError) as missing:
        client_with_key(server, partner["other"]).get_request(mine["service_request_id"])
    assert missing.value.status == 404


def test_filters_and_limits(server, partner, req):
    client = client_for(server)
    client.jurisdiction_id = "26734"
    created = [post(client, partner["key"], service_code=code)[0]
               for code in ("delay", "delay", "facilities")]  # fmt: skip
    keyed = client_with_key(server, partner["key"])
    assert len(keyed.list_requests(service_code="delay")) == 2
    assert len(keyed.list_requests(status="open")) == 3
    assert keyed.list_requests(status="closed") == []
    assert len(keyed.list_requests(page_size=2)) == 2
    ids = ",".join(c["service_request_id"] for c in created[:2])
    assert len(keyed.list_requests(service_request_ids=[ids])) == 2
    later = (utcnow() + timedelta(days=1)).isoformat(timespec="seconds")
    assert keyed.list_requests(start_date=later + "Z", end_date=later + "+00:00") == []
    assert len(keyed.list_requests(end_date=later + "+07:00")) == 3
    with pytest.raises(HttpError) as too_long:
        keyed.list_requests(start_date="2024-01-01T00:00:00Z", end_date="2024-06-01T00:00:00Z")
    assert too_long.value.status == 400


def test_xml_through_georeport(server, partner, staff, make_case, req):
    case = make_case()
    handle(case, staff["manager"])
    apply_action(case, Action.PUBLISH, staff["manager"], case.version, summary="Trễ hẹn.",
                 published_answer="Đã xử lý.")  # fmt: skip
    db.session.commit()
    xml = GeoReport(server, output_format="xml")
    services = xml.get_service_list()
    assert [s["service_code"] for s in services][:2] == ["attitude", "delay"]
    definition = xml.get_service_definition("delay")
    assert definition["attributes"]["attribute"][0]["code"] == "kind"
    request = xml.get_service_request(str(case.id))
    assert request["service_request_id"] == str(case.id) and request["status"] == "closed"
    as_json = GeoReport(server).get_service_requests(status="closed")
    assert as_json[0]["description"] == "Trễ hẹn."


@pytest.mark.parametrize(
    ("form", "status", "description"),
    [
        ({}, 403, "api_key was not provided"),
        ({"api_key": "wrong-key-0000000000000000000000"}, 403, "api_key is not valid"),
        ({"api_key": "ANALYSIS"}, 403, "api_key is not valid"),
        ({"api_key": "KEY"}, 400, "jurisdiction_id was not provided"),
        ({"api_key": "KEY", "jurisdiction_id": "nope"}, 400, "jurisdiction_id was not found"),
        ({"api_key": "KEY", "jurisdiction_id": "26734"}, 400, "service_code was not provided"),
        ({"api_key": "KEY", "jurisdiction_id": "26734", "service_code": "x"}, 400, "not found"),
        ({"api_key": "KEY", "jurisdiction_id": "26734", "service_code": "delay"}, 400, "kind"),
        ({"api_key": "KEY", "jurisdiction_id": "26734", "service_code": "delay",
          "attribute[kind]": "report", "description": "short"}, 400, "description"),
        ({"api_key": "KEY", "jurisdiction_id": "26734", "service_code": "delay",
          "attribute[kind]": "report", "attribute[locale]": "fr",
          "description": "Cán bộ hẹn lại nhiều lần."}, 400, "attribute[locale] must be vi or en"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_in_the_spec_format(client, partner, form, status, description, fmt):
    key = {"KEY": partner["key"], "ANALYSIS": partner["analysis"]}
    form = {k: key.get(v, v) for k, v in form.items()}
    response = client.post(f"/open311/v2/requests.{fmt}", data=form)
    assert response.status_code == status
    if fmt == "json":
        [error] = response.get_json()
        assert error["code"] == status and description in error["description"]
    else:
        root = ET.fromstring(response.data)  # noqa: S314 (our own server's answer)
        assert root.tag == "errors" and root.find("error/code").text == str(status)
        assert description in root.find("error/description").text
    assert db.session.scalar(select(Case)) is None


def test_a_case_handed_over_in_english_is_mailed_in_english(server, partner, mailbox):
    client = client_for(server)
    client.jurisdiction_id = "26734"
    definition = client.get_service_definition("delay")
    [locale] = [a for a in definition["attributes"] if a["code"] == "locale"]
    assert [v["key"] for v in locale["values"]] == ["vi", "en"] and not locale["required"]
    [created] = post(client, partner["key"], service_code="delay", email="jane@example.org",
                     attributes={"kind": "report", "locale": "en"})  # fmt: skip
    case = db.session.get(Case, int(created["service_request_id"]))
    assert case.locale == "en"
    assert mailer.send_due(utcnow() + timedelta(minutes=1)).sent == 1
    _s, recipients, message, _e = mailbox.only()
    assert recipients == ["jane@example.org"] and message["Content-Language"] == "en"
    assert message["Subject"].endswith(" – Received")


def test_text_pasted_with_control_characters_still_makes_xml(client, partner):
    pasted = "Cán bộ\x0bchậm trễ\x1f, phải chờ\x0c ba tuần."  # from a word processor
    sent = client.post("/open311/v2/requests.json", data={
        "api_key": partner["key"], "jurisdiction_id": "26734", "service_code": "delay",
        "attribute[kind]": "report", "description": pasted})  # fmt: skip
    assert sent.status_code == 201
    [created] = sent.get_json()
    answer = client.get(
        f"/open311/v2/requests/{created['service_request_id']}.xml?api_key={partner['key']}"
    )
    root = ET.fromstring(answer.data)  # noqa: S314 (our own server's answer)
    # Stored as the citizen's form stores it: the separators between words are spaces.
    kept = "Cán bộ chậm trễ , phải chờ  ba tuần."
    assert root.find("request/description").text == kept
    as_json = client.get(
        f"/open311/v2/requests/{created['service_request_id']}.json?api_key={partner['key']}"
    )
    assert as_json.get_json()[0]["description"] == kept


def test_an_address_with_accents_is_taken_as_the_mailer_can_send_it(client, partner):
    response = client.post("/open311/v2/requests.json", data={
        "api_key": partner["key"], "jurisdiction_id": "26734", "service_code": "delay",
        "attribute[kind]": "report", "description": "Chờ quá lâu ở quầy một cửa.",
        "email": "nguyễn@dân.vn",
    })  # fmt: skip
    assert response.status_code == 201
    assert db.session.scalar(select(Case)).person.email == "nguyễn@dân.vn"


@pytest.mark.parametrize(("last", "first", "status"), [(59, 60, 201), (60, 60, 400)])
def test_the_senders_name_fits_its_column(client, partner, last, first, status):
    response = client.post("/open311/v2/requests.json", data={
        "api_key": partner["key"], "jurisdiction_id": "26734", "service_code": "delay",
        "attribute[kind]": "report", "description": "Chờ quá lâu ở quầy một cửa.",
        "last_name": "B" * last, "first_name": "A" * first,
    })  # fmt: skip
    assert response.status_code == status
    case = db.session.scalar(select(Case))
    if status == 201:
        assert case.person.name == "B" * last + " " + "A" * first  # 120 characters
    else:
        [error] = response.get_json()
        assert error["description"] == "last_name and first_name make a name over 120 characters"
        assert case is None


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_key_for_a_unit_hands_over_cases_of_its_subtree_only(client, tree, fmt):
    _record, district = create_key("Tổng đài Quận 1", Scope.OPEN311, tree["760"])
    db.session.commit()
    form = {"api_key": district, "service_code": "delay", "attribute[kind]": "report",
            "description": "Chờ quá lâu ở quầy một cửa."}  # fmt: skip
    for code in ("760", "26737"):
        sent = client.post(f"/open311/v2/requests.{fmt}", data={**form, "jurisdiction_id": code})
        assert sent.status_code == 201, code
    for code in ("79", "26800"):
        refused = client.post(f"/open311/v2/requests.{fmt}", data={**form, "jurisdiction_id": code})
        assert refused.status_code == 403, code
        description = f"jurisdiction_id {code} is outside this api_key's units"
        if fmt == "json":
            assert refused.get_json() == [{"code": 403, "description": description}]
        else:
            root = ET.fromstring(refused.data)  # noqa: S314 (our own server's answer)
            assert root.find("error/description").text == description
    cases = db.session.scalars(select(Case).order_by(Case.id)).all()
    assert [c.unit.code for c in cases] == ["760", "26737"]
    # A case it handed over stays readable after it went to a unit outside its subtree.
    cases[1].unit = tree["26800"]
    db.session.commit()
    read = client.get(f"/open311/v2/requests/{cases[1].id}.{fmt}?api_key={district}")
    assert read.status_code == 200
    assert "Phường Thảo Điền" in read.get_data(as_text=True)  # agency_responsible: the unit now


ID_MESSAGE = "service_request_id must be case numbers separated by commas"


@pytest.mark.parametrize(
    ("query", "description"),
    [
        ("end_date=0001-01-01T00:00:00", "end_date is out of range"),
        ("start_date=0001-01-01T00:00:00%2B07:00", "start_date is out of range"),
        ("end_date=9999-12-31T23:00:00-07:00", "end_date is out of range"),
        ("page=99999999999999999999", "page must be 1000000 at most"),
        ("service_request_id=99999999999999999999", ID_MESSAGE),
        ("service_request_id=1,%C2%B2", ID_MESSAGE),
    ],
)
def test_out_of_range_query_values_are_refused(client, partner, query, description):
    response = client.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 400
    assert response.get_json() == [{"code": 400, "description": description}]


def test_page_and_ids_at_the_edges_of_the_range(client, partner):
    assert client.get("/open311/v2/requests.json?page=1000000").get_json() == []
    bounds = "page=2&page_size=-99999999999999999999"  # a page size below 1 is one
    assert client.get(f"/open311/v2/requests.json?{bounds}").get_json() == []
    assert client.get("/open311/v2/requests/99999999999999999999.json").status_code == 404
    assert client.get("/open311/v2/requests/%C2%B2.json").status_code == 404


def test_revoked_keys_and_unknown_ids_and_formats(client, partner, runner):
    assert runner.invoke(args=["apikeys", "revoke", "hotline-1022"]).exit_code == 0
    response = client.post("/open311/v2/requests.json", data={"api_key": partner["key"]})
    assert response.status_code == 403
    assert client.get("/open311/v2/requests/999.json").status_code == 404
    assert client.get("/open311/v2/requests/abc.xml").status_code == 404
    assert client.get("/open311/v2/services.yaml").get_json()[0]["code"] == 404
    assert client.get("/open311/v2/services/bribes.json").status_code == 404
    assert client.get("/open311/v2/tokens/ABCDEFGHJK.json").status_code == 404
    discovery = client.get("/open311/v2/discovery.json").get_json()
    assert discovery["endpoints"][0]["url"] == "http://survey.test/open311/v2"
    assert client.get("/open311/v2/discovery.xml").data.startswith(b"<?xml")


def test_posting_is_rate_limited_per_key(client, partner, app, steady_clock):
    app.config["FEEDBACK_API_POST_LIMIT"] = (2, 60)
    form = {"api_key": partner["key"], "jurisdiction_id": "26734", "service_code": "delay",
            "attribute[kind]": "report", "description": "Chờ quá lâu ở quầy số 2."}  # fmt: skip
    codes = [client.post("/open311/v2/requests.json", data=form).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


@pytest.mark.parametrize(
    ("email", "status"),
    [("dan@dan.vn", 201), ("dan@dan.vn\r\nBcc: x@evil.test", 400), ("not-an-address", 400)],
)
def test_an_email_that_is_not_an_address_is_refused(client, partner, email, status):
    response = client.post("/open311/v2/requests.json", data={
        "api_key": partner["key"], "jurisdiction_id": "26734", "service_code": "delay",
        "attribute[kind]": "report", "description": "Chờ quá lâu ở quầy một cửa.",
        "email": email,
    })  # fmt: skip
    assert response.status_code == status
    case = db.session.scalar(select(Case))
    if status == 201:
        assert case.person.email == email
    else:
        [error] = response.get_json()
        assert error["description"] == "email is not a valid e-mail address"
        assert case is None


@pytest.mark.parametrize(("language", "pattern"), [("en", "{d} {b} {y}"), ("vi", "{d}/{m}/{y}")])
def test_the_notice_writes_the_due_date_as_the_pages_do(client, partner, language, pattern):
    response = client.post("/open311/v2/requests.json", headers={"Accept-Language": language},
                           data={
        "api_key": partner["key"], "jurisdiction_id": "26734", "service_code": "delay",
        "attribute[kind]": "report", "description": "Chờ quá lâu ở quầy một cửa.",
    })  # fmt: skip
    due = db.session.scalar(select(Case)).due_on
    shown = pattern.format(d=due.day, m=due.month, b=due.strftime("%b"), y=due.year)
    [created] = response.get_json()
    assert created["service_notice"].endswith(f" {shown}.")  # 5 Jan 2027, 5/1/2027
