"""A closed unit leaves every list that chooses a unit for something new from its closing day,
and stays where it is history: its cases, its accounts, its published answers."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.apikeys import ApiKey, Scope, create_key
from core.csvfile import FileProblems
from core.extensions import db
from core.models import User, local_today
from feedback.models import Case, Channel, Kind, Topic
from feedback.services import create_case
from survey.integrity import issue_receipts
from survey.models import ReceiptCode, SurveyPoint
from survey.response_insert import import_responses
from survey.services import add_point
from tests.conftest import signed_in

CLOSING = "26737"  # Phường Đa Kao, under Quận 1 (760)
# The pages that offer a unit for something new, and how each names the closing unit.
CHOOSERS = {
    "/staff/points/new": CLOSING,
    "/staff/users/new": CLOSING,
    "/staff/receipts": CLOSING,
    "/staff/paper": CLOSING,
    "/staff/apikeys": "id",
    "/staff/cases/new": "id",
}


def unit_options(html: str) -> list[str]:
    select_ = re.search(r'<select[^>]*name="unit"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option[^>]*value="([^"]*)"', select_)


def close(unit, days_from_today: int) -> None:
    unit.closed_on = local_today() + timedelta(days=days_from_today)
    db.session.commit()


@pytest.fixture
def admin(app, tree, questionnaire, make_user):
    make_user("admin@x.vn", "admin")
    return signed_in(app, "admin@x.vn")


@pytest.mark.parametrize(("days", "offered"), [(1, True), (0, False), (-400, False)])
def test_the_staff_choosers_offer_a_unit_until_its_closing_day(admin, tree, days, offered):
    """Closing tomorrow: still offered today; closing today or before: not offered."""
    close(tree[CLOSING], days)
    for url, named in CHOOSERS.items():
        response = admin.get(url)
        assert response.status_code == 200, url
        options = unit_options(response.get_data(as_text=True))
        value = str(tree[CLOSING].id) if named == "id" else CLOSING
        assert (value in options) is offered, url
        # Its parent and sibling stay whatever happens to it.
        sibling = str(tree["26734"].id) if named == "id" else "26734"
        assert sibling in options, url


def test_a_forged_closed_unit_is_refused_and_nothing_is_added(admin, tree):
    close(tree[CLOSING], 0)
    page = admin.get("/staff/points/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    key = re.search(r'name="key"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="key"', page
    )
    data = {"csrf_token": token, "unit": CLOSING, "label": "Quầy 9", "key": key.group(1)}
    response = admin.post("/staff/points/new", data=data)
    assert response.status_code == 422  # the form again: its unit is not among the choices
    assert db.session.scalar(select(func.count()).select_from(SurveyPoint)) == 0


def test_an_account_of_a_closed_unit_keeps_its_unit_on_its_page(app, admin, tree, make_user):
    handler = make_user("handler@x.vn", "handler", tree[CLOSING])
    close(tree[CLOSING], -10)
    html = admin.get(f"/staff/users/{handler.id}").get_data(as_text=True)
    assert CLOSING in unit_options(html)  # so its role can change without moving it first
    assert CLOSING not in unit_options(admin.get("/staff/users/new").get_data(as_text=True))


def test_the_pakn_chooser_walks_past_a_closed_unit(client, tree):
    close(tree[CLOSING], 1)
    assert "unit=26737" in client.get("/pakn/units?parent=760").get_data(as_text=True)
    close(tree[CLOSING], 0)
    page = client.get("/pakn/units?parent=760").get_data(as_text=True)
    assert "unit=26737" not in page and "unit=26734" in page
    # The published answers of a closed unit are history: still reached through the tree.
    published = client.get("/pakn/units?parent=760&for=published").get_data(as_text=True)
    assert "unit=26737" in published
    # A district whose units have all closed, closed itself, leaves the first level.
    for code in ("760", "26734"):
        close(tree[code], 0)
    top = client.get("/pakn/units?parent=79").get_data(as_text=True)
    assert "parent=760" not in top and "unit=760" not in top and "26800" not in top
    assert "parent=769" in top


def test_a_new_pakn_for_a_closed_unit_is_refused_in_the_citizens_language(client, tree):
    close(tree[CLOSING], 0)
    for lang, text in (("en", "This office no longer exists."), ("vi", "Đơn vị này không còn")):
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        for url in ("/pakn/new?unit=26737", "/pakn/units?parent=26737"):
            response = client.get(url)
            assert response.status_code == 410, url
            assert text in response.get_data(as_text=True), url
            assert '<a href="/pakn/units">' in response.text, url  # the way on, not a dead end
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_the_survey_page_of_a_closed_units_point_says_it_is_no_longer_in_use(
    client, tree, questionnaire
):
    point = add_point(tree[CLOSING], "Quầy 1", actor=None)
    db.session.commit()
    close(tree[CLOSING], 1)
    assert client.get(f"/s/{point.token}").status_code == 200
    close(tree[CLOSING], 0)  # its day has come, before any import retired the point
    for lang, text in (("en", "no longer in use"), ("vi", "không còn được sử dụng")):
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        response = client.get(f"/s/{point.token}")
        assert response.status_code == 410
        assert text in response.get_data(as_text=True)
        assert client.post(f"/s/{point.token}", data={"A1": "5"}).status_code == 410


def test_an_open_case_of_a_closed_unit_stays_with_its_managers_and_says_so(app, tree, make_user):
    case = create_case(tree[CLOSING], kind=Kind.REPORT, topic=Topic.DELAY, content="Chờ lâu.",
                       channel=Channel.WEB)  # fmt: skip
    db.session.commit()
    close(tree[CLOSING], -1)
    make_user("manager@x.vn", "manager", tree["760"])
    manager = signed_in(app, "manager@x.vn")
    assert f"/staff/cases/{case.id}" in manager.get("/staff/cases").get_data(as_text=True)
    page = manager.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "This unit closed on" in page and "forward the case" in page


def test_the_api_refuses_a_new_request_for_a_closed_unit(client, tree):
    _key, secret = create_key("Tổng đài 1022", Scope.OPEN311, None)
    db.session.commit()
    close(tree[CLOSING], 0)
    posted = {"api_key": secret, "service_code": "delay", "attribute[kind]": "report",
              "description": "Chờ quá lâu ở quầy một cửa.", "jurisdiction_id": CLOSING}  # fmt: skip
    response = client.post("/open311/v2/requests.json", data=posted)
    assert response.status_code == 400
    assert "closed on" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_receipt_of_a_closed_unit_takes_no_answer(client, tree, questionnaire):
    (receipt,) = issue_receipts(tree[CLOSING], 1, timedelta(days=30), None, issued_by=None)
    db.session.commit()
    close(tree[CLOSING], 1)
    assert client.get(f"/r/{receipt.code}").status_code == 200
    close(tree[CLOSING], 0)
    assert client.get(f"/r/{receipt.code}").status_code == 410


def test_a_file_of_answers_holds_none_of_a_closed_unit_from_its_closing_day(
    app, tree, questionnaire
):
    tree[CLOSING].closed_on = date(2025, 7, 1)
    db.session.commit()
    header = "unit_code,submitted_at,channel,A1,HK\n"
    before = f"{CLOSING},2025-06-30 23:59,paper,5,no\n"
    on_the_day = f"{CLOSING},2025-07-01 00:00,paper,5,no\n"
    with pytest.raises(FileProblems) as refused:
        import_responses((header + before + on_the_day).encode())
    with app.test_request_context():
        assert refused.value.report() == (
            "line 3: unit 26737 closed on 2025-07-01 and takes no answers from that day on"
        )
    db.session.rollback()
    assert import_responses((header + before).encode()) == 1


# What each command makes for a unit, how many of it exist, and what it says to do instead.
MADE_BY_COMMAND = {
    ("points", "add", CLOSING, "--label", "Quầy 9"): (
        SurveyPoint, "add the point to the unit that took over"),
    ("receipts", "issue", CLOSING, "--count", "2"): (
        ReceiptCode, "issue the codes for the unit that took over"),
    ("apikeys", "create", "quận 1", "--unit", CLOSING): (
        ApiKey, "limit the key to the unit that took over"),
    ("users", "create", "moi@x.vn", "--role", "handler", "--unit", CLOSING, "--invite"): (
        User, "give the account the unit that took over"),
}  # fmt: skip


@pytest.mark.parametrize("args", MADE_BY_COMMAND)
@pytest.mark.parametrize(("days", "refused"), [(1, False), (0, True), (-400, True)])
def test_the_command_line_makes_nothing_new_for_a_closed_unit(
    runner, tree, questionnaire, args, days, refused
):
    """As the back office's choosers: a point would be out of use from the start, codes would
    open a survey saying so (410), a key or an account would serve a unit that is no more."""
    model, instead = MADE_BY_COMMAND[args]
    close(tree[CLOSING], days)
    before = db.session.scalar(select(func.count()).select_from(model))
    result = runner.invoke(args=list(args))
    made = db.session.scalar(select(func.count()).select_from(model)) - before
    if refused:
        day = f"{tree[CLOSING].closed_on:%Y-%m-%d}"
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        assert f"{CLOSING} Phường Đa Kao closed on {day}: {instead}" in result.output
        assert made == 0
    else:
        assert result.exit_code == 0, result.output
        assert made == (2 if model is ReceiptCode else 1)
