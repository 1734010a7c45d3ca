"""Who issued which receipt codes: the back office's account, a partner system's API key or the
command line, recorded on each code with its batch; the receipts page lists the latest issues
of the viewer's units; the API's answer says nothing of it."""

import html as html_lib
import re
from datetime import datetime, timedelta

import pytest
from flask_babel import get_translations
from sqlalchemy import select

from core.apikeys import ApiKey, Scope, create_key
from core.extensions import db
from core.models import Role, User
from survey.history import RECENT_ISSUES
from survey.integrity import claim_receipt, issue_receipts
from survey.models import ReceiptCode
from survey.questionnaires import current_questionnaire
from tests.conftest import FAST_HASH, page_forms, shown_time, signed_in

KEY_NAME = "Một cửa Quận 1"


@pytest.fixture
def world(tree, questionnaire):
    """The administrator, the managers of districts 760 and 769, a handler of commune 26734,
    and a receipts key for district 760."""
    db.session.add_all([
        User(email="admin@x.vn", role=Role.ADMIN, password_hash=FAST_HASH),
        User(email="m760@x.vn", role=Role.MANAGER, unit=tree["760"], password_hash=FAST_HASH),
        User(email="m769@x.vn", role=Role.MANAGER, unit=tree["769"], password_hash=FAST_HASH),
        User(email="h@x.vn", role=Role.HANDLER, unit=tree["26734"], password_hash=FAST_HASH),
    ])  # fmt: skip
    _record, key = create_key(KEY_NAME, Scope.RECEIPTS, tree["760"])
    db.session.commit()
    return key


def issue_on_the_page(client, unit: str, count: int, procedure: str = "") -> None:
    """Fill in and send the receipts page's form, as a browser does."""
    fields = page_forms(client.get("/staff/receipts").get_data(as_text=True))[-1]["fields"]
    data = fields | {"unit": unit, "count": str(count), "procedure": procedure}
    printed = client.post("/staff/receipts", data=data)
    assert printed.status_code == 200
    shown = set(re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>", printed.text))
    assert len(shown) == count  # the codes to print


def issued() -> list[tuple]:
    """Each code's unit, account's e-mail, key's id, batch and time, in the order made."""
    db.session.expire_all()
    codes = db.session.scalars(select(ReceiptCode).order_by(ReceiptCode.id)).all()
    emails = {u.id: u.email for u in db.session.scalars(select(User))}
    return [
        (c.unit.code, emails.get(c.issued_by_id), c.issued_by_key_id, c.batch, c.created_at)
        for c in codes
    ]


def issues_on(page: str) -> list[list[str]]:
    """The rows of the page's list of recent issues, each cell's text without its tags."""
    section = page.split("</form>")[-1]
    if "<tbody>" not in section:
        return []
    body = section.split("<tbody>")[1].split("</tbody>")[0]
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in body.split("</tr>") if "<td>" in row]
    return [[html_lib.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in row] for row in rows]


def test_each_printed_slip_says_where_to_type_its_code(app, world):
    # A citizen whose phone does not read the QR code has only the slip in hand.
    client = signed_in(app, "m760@x.vn")
    fields = page_forms(client.get("/staff/receipts").get_data(as_text=True))[-1]["fields"]
    printed = client.post("/staff/receipts", data=fields | {"unit": "26737", "count": "2"}).text
    slips = printed.split('<div class="receipt">')[1:]
    assert len(slips) == 2
    for slip in slips:
        assert "scan the QR code, or type this code at http://survey.test/r<" in slip


def test_each_way_of_issuing_records_its_issuer_on_every_code(app, client, runner, world):
    issue_on_the_page(signed_in(app, "m760@x.vn"), "26737", 3, "ho-tich")
    made = client.post("/api/v1/receipts", json={"unit_code": "26734", "count": 2},
                       headers={"X-API-Key": world})  # fmt: skip
    assert made.status_code == 201
    assert runner.invoke(args=["receipts", "issue", "760", "--count", "2"]).exit_code == 0
    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.name == KEY_NAME))
    codes = issued()
    by_page, by_key, by_command = (
        [("26737", "m760@x.vn", None)],
        [("26734", None, key_id)],
        [("760", None, None)],
    )
    assert [c[:3] for c in codes] == by_page * 3 + by_key * 2 + by_command * 2
    # Each issue is one batch of its own, its codes made at one time.
    batches = [{(c[3], c[4]) for c in part} for part in (codes[:3], codes[3:5], codes[5:])]
    assert all(len(b) == 1 for b in batches)
    assert len({next(iter(b))[0] for b in batches}) == 3
    assert all(next(iter(b))[0] for b in batches)  # a batch, not None


def test_the_apis_answer_is_unchanged_and_names_no_issuer(client, world):
    made = client.post("/api/v1/receipts", json={"unit_code": "26734", "count": 2},
                       headers={"Authorization": f"Bearer {world}"})  # fmt: skip
    assert made.status_code == 201
    assert set(made.json) == {"unit_code", "receipts"} and made.json["unit_code"] == "26734"
    assert [set(r) for r in made.json["receipts"]] == [{"code", "url", "expires_at"}] * 2
    code = db.session.scalars(select(ReceiptCode).order_by(ReceiptCode.id)).first()
    assert made.json["receipts"][0] == {
        "code": code.code,
        "url": f"http://survey.test/r/{code.code}",
        "expires_at": code.expires_at.isoformat() + "Z",
    }
    body = made.get_data(as_text=True)
    assert "Một cửa" not in body and "batch" not in body and "issued" not in body


def test_the_page_lists_the_latest_issues_with_who_issued_them(app, client, runner, world):
    admin = signed_in(app, "admin@x.vn")
    issue_on_the_page(admin, "26737", 3, "ho-tich")
    client.post("/api/v1/receipts", json={"unit_code": "26734", "count": 2},
                headers={"X-API-Key": world})  # fmt: skip
    assert runner.invoke(args=["receipts", "issue", "26800", "--count", "4"]).exit_code == 0
    first = db.session.scalars(select(ReceiptCode).order_by(ReceiptCode.id)).first()
    assert claim_receipt(first)  # one code of the page's issue answered
    db.session.commit()
    page = admin.get("/staff/receipts").get_data(as_text=True)
    rows = issues_on(page)
    at = db.session.scalars(select(ReceiptCode.created_at).order_by(ReceiptCode.id)).all()
    when = [shown_time(t, "en") for t in at]
    procedure = next(p["text"]["vi"] for p in _procedures() if p["code"] == "ho-tich")
    assert rows == [
        [when[5], "command line", "Phường Thảo Điền (26800)", "–", "4", "0"],
        [when[3], f"API key {KEY_NAME}", "Phường Bến Nghé (26734)", "–", "2", "0"],
        [when[0], "admin@x.vn", "Phường Đa Kao (26737)", procedure, "3", "1"],
    ]
    # Vietnamese names on an English page are marked as Vietnamese.
    assert '<span lang="vi">Phường Đa Kao</span> (26737)' in page
    assert f'API key <span lang="vi">{KEY_NAME}</span>' in page


def _procedures() -> list[dict]:
    return current_questionnaire().data["procedures"]


def test_each_viewer_sees_the_issues_of_their_units_only(app, client, runner, world):
    issue_on_the_page(signed_in(app, "m760@x.vn"), "26737", 1)
    client.post("/api/v1/receipts", json={"unit_code": "26734"}, headers={"X-API-Key": world})
    assert runner.invoke(args=["receipts", "issue", "760"]).exit_code == 0

    def listed(email: str) -> list[tuple[str, str]]:
        page = signed_in(app, email).get("/staff/receipts").get_data(as_text=True)
        return [(row[1], row[2].split("(")[1][:-1]) for row in issues_on(page)]

    in_760 = [("command line", "760"), (f"API key {KEY_NAME}", "26734"), ("m760@x.vn", "26737")]
    assert listed("admin@x.vn") == listed("m760@x.vn") == in_760
    assert listed("h@x.vn") == [(f"API key {KEY_NAME}", "26734")]
    # The manager of the other district sees none of it, nor who issued it.
    other = signed_in(app, "m769@x.vn").get("/staff/receipts").get_data(as_text=True)
    assert issues_on(other) == [] and "No codes issued yet." in other
    assert "m760@x.vn" not in other and KEY_NAME not in other
    assert runner.invoke(args=["receipts", "issue", "26800"]).exit_code == 0
    assert listed("m769@x.vn") == [("command line", "26800")]
    assert ("command line", "26800") not in listed("m760@x.vn")


def test_the_page_lists_the_latest_issues_only_and_no_code_issued_before(app, tree, world):
    old = ReceiptCode(code="AAAA-BBBB-CCCC", unit=tree["26734"], expires_at=datetime(2099, 1, 1))
    db.session.add(old)  # as a code issued before migration 0025: no batch, no issuer
    db.session.commit()
    admin = signed_in(app, "admin@x.vn")
    assert issues_on(admin.get("/staff/receipts").get_data(as_text=True)) == []
    for n in range(1, RECENT_ISSUES + 2):
        issue_receipts(tree["26734"], n, timedelta(days=30), issued_by=None)
    db.session.commit()
    rows = issues_on(admin.get("/staff/receipts").get_data(as_text=True))
    assert [int(row[4]) for row in rows] == list(range(RECENT_ISSUES + 1, 1, -1))


def test_the_vietnamese_page_lists_them_in_vietnamese(app, world):
    issue_on_the_page(signed_in(app, "admin@x.vn"), "26737", 1)
    client = signed_in(app, "admin@x.vn", language="vi")
    page = client.get("/staff/receipts").get_data(as_text=True)
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        heading = get_translations().gettext("Recent issues")
    assert f"<h2>{heading}</h2>" in page
    assert issues_on(page)[0][1:3] == ["admin@x.vn", "Phường Đa Kao (26737)"]
    assert '<span lang="vi">Phường Đa Kao</span>' not in page  # the whole page is Vietnamese
