"""Presence codes, receipts, repeats, bursts, exclusions and paper forms."""

import re
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from analysis.indexes import Query
from analysis.tables import Request, build_rows
from core.apikeys import Scope, create_key
from core.extensions import db
from core.models import local_today, utcnow
from survey import integrity
from survey.integrity import RECEIPT_ALPHABET, issue_receipts, normalise_receipt_code
from survey.models import CRITERIA, Exclusion, ReceiptCode, Response
from survey.presence import is_present, presence_code, window_number
from survey.questionnaires import current_questionnaire
from tests.conftest import csrf_token, login, page_forms, signed_in, thanked

WINDOW, GRACE = 180, 900


def answers(form, value="4", hk="no"):
    return dict(form["fields"]) | {code: value for code in CRITERIA} | {"HK": hk}


def fill_in(client, url, value="4", hk="no"):
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    form = page_forms(page.get_data(as_text=True))[-1]
    return client.post(form["action"], data=answers(form, value, hk))


def stored(**where):
    query = select(Response)
    for name, value in where.items():
        query = query.where(getattr(Response, name) == value)
    return db.session.scalars(query).all()


# --- presence codes: the time-window arithmetic, with the clock passed in ---------------------


def test_presence_window_edges():
    secret, token = "s" * 64, "tok"
    window = window_number(1_800_000_000, WINDOW)
    code = presence_code(secret, token, window)
    opens, closes = window * WINDOW, (window + 1) * WINDOW
    assert is_present(secret, token, code, opens, WINDOW, GRACE)
    assert is_present(secret, token, code, closes + GRACE, WINDOW, GRACE)
    assert not is_present(secret, token, code, closes + GRACE + 1, WINDOW, GRACE)
    assert is_present(secret, token, code, opens - 5, WINDOW, GRACE)  # screen clock slightly ahead
    assert not is_present(secret, token, code, opens - 6, WINDOW, GRACE)


@pytest.mark.parametrize(
    "code",
    ["", None, "abc", "1.2.3", "١٢٣.abcdefabcdef", "-5.abcdefabcdef", "x" * 500,
     "<script>.x", "99999999999999999999.aaaaaaaaaaaa"],
)  # fmt: skip
def test_malformed_presence_codes_are_not_presence(code):
    assert not is_present("s" * 64, "tok", code, 1_800_000_000, WINDOW, GRACE)


def test_forged_and_replayed_codes():
    window = window_number(1_800_000_000, WINDOW)
    code = presence_code("secret-a", "tok-a", window)
    now = window * WINDOW + 10
    assert not is_present("secret-b", "tok-a", code, now, WINDOW, GRACE)  # another point's key
    assert not is_present("secret-a", "tok-b", code, now, WINDOW, GRACE)  # another point's code
    number, signature = code.split(".")
    assert not is_present("secret-a", "tok-a", f"{int(number) + 1}.{signature}", now + WINDOW,
                          WINDOW, GRACE)  # fmt: skip
    assert not is_present("secret-a", "tok-a", code, now + 86400, WINDOW, GRACE)  # replayed later


def test_presence_code_makes_a_presence_response(client, point):
    import time

    code = presence_code(point.secret, point.token, window_number(time.time(), WINDOW))
    assert thanked(fill_in(client, f"/s/{point.token}?c={code}"))
    assert [r.channel for r in stored()] == ["presence"]


def test_expired_or_forged_code_still_records_quietly_as_static(client, point):
    stale = presence_code(point.secret, point.token, 1000)
    forged = stale.split(".")[0] + ".aaaaaaaaaaaa"
    for code, value in ((stale, "4"), (forged, "5")):
        response = fill_in(client, f"/s/{point.token}?c={code}", value=value)
        assert thanked(response)  # thanked like anyone else
    assert [r.channel for r in stored()] == ["static", "static"]


# --- receipts ----------------------------------------------------------------------------------


@pytest.fixture
def receipt(tree, questionnaire):
    code = issue_receipts(tree["26737"], 1, timedelta(days=30), "ho-tich", issued_by=None)[0]
    db.session.commit()
    return code


def test_receipt_codes_are_unambiguous_and_unguessable(tree):
    codes = issue_receipts(tree["26737"], 200, timedelta(days=1), issued_by=None)
    assert len({c.code for c in codes}) == 200
    for c in codes:
        raw = c.code.replace("-", "")
        assert len(raw) == 12 and set(raw) <= set(RECEIPT_ALPHABET)
        assert not set(raw) & set("0O1IL")
    assert normalise_receipt_code(" bxng 5u64-j2s8 ") == "BXNG-5U64-J2S8"


def test_receipt_is_answered_once(client, receipt):
    assert thanked(fill_in(client, f"/r/{receipt.code}"))
    saved = stored()
    assert [(r.channel, r.unit_id, r.procedure) for r in saved] == [
        ("receipt", receipt.unit_id, "ho-tich")
    ]
    db.session.refresh(receipt)
    assert receipt.used_at is not None and receipt.response_id == saved[0].id
    again = client.get(f"/r/{receipt.code.lower()}")
    assert again.status_code == 409
    assert "đã được dùng" in again.get_data(as_text=True)
    # Come back to add a complaint: the PAKN form about this dossier, as from the thanks page.
    assert f'href="/pakn/new?unit=26737&amp;receipt={receipt.code}"' in again.text


@pytest.mark.parametrize("switch", [False, True])
def test_a_receipt_for_a_procedure_does_not_ask_what_the_citizen_came_for(
    client, receipt, tree, switch
):
    # The receipt's procedure is recorded whatever is chosen: a question whose answer is thrown
    # away would mislead the citizen.
    url = f"/r/{receipt.code}"
    page = client.get(url).get_data(as_text=True)
    if switch:  # the page in the other language, and then with a mistake to correct
        form = page_forms(page)[-1]
        page = client.post(url, data=answers(form) | {"switch_language": "vi"})
        page = page.get_data(as_text=True)
        form = page_forms(page)[-1]
        wrong = client.post(url, data=answers(form) | {"A1": "9"})
        assert wrong.status_code == 422
        page = wrong.get_data(as_text=True)
    assert 'id="procedure"' not in page and 'id="comment"' in page
    assert thanked(fill_in(client, url))
    assert [r.procedure for r in stored()] == ["ho-tich"]
    other = issue_receipts(tree["26737"], 1, timedelta(days=30), None, issued_by=None)[0]
    db.session.commit()
    assert 'id="procedure"' in client.get(f"/r/{other.code}").get_data(as_text=True)


def test_receipt_answered_twice_at_once_records_exactly_one(app, receipt):
    clients = [app.test_client() for _ in range(2)]
    forms = []
    for c in clients:
        with app.app_context():
            page = c.get(f"/r/{receipt.code}").get_data(as_text=True)
        forms.append(page_forms(page)[-1])
    barrier, results = threading.Barrier(2), []

    def answer(c, form):
        with app.app_context():
            barrier.wait()
            response = c.post(form["action"], data=answers(form))
            results.append(response.status_code)
            if response.status_code == 409:  # the page of a receipt claimed meanwhile
                assert f"receipt={receipt.code}" in response.text

    threads = [
        threading.Thread(target=answer, args=pair) for pair in zip(clients, forms, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == [200, 409]  # the thank-you page, the receipt's used page
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_expired_and_unknown_receipts(client, tree, questionnaire):
    old = issue_receipts(tree["26737"], 1, timedelta(days=-1), issued_by=None)[0]
    db.session.commit()
    assert client.get(f"/r/{old.code}").status_code == 410
    assert client.get("/r/AAAA-BBBB-CCCC").status_code == 404
    assert client.get("/r/" + "<script>" * 10).status_code == 404
    assert stored() == []


def test_receipt_code_typed_in(client, receipt):
    page = client.get("/r").get_data(as_text=True)
    typed = client.post("/r", data={"code": receipt.code.lower().replace("-", " "),
                                    "csrf_token": csrf_token(page)})  # fmt: skip
    assert typed.headers["Location"] == f"/r/{receipt.code}"


def test_receipt_code_typed_in_full_width(client, receipt):
    page = client.get("/r").get_data(as_text=True)
    typed = "".join(chr(ord(c) + 0xFEE0) if c != "-" else c for c in receipt.code)
    response = client.post("/r", data={"code": typed, "csrf_token": csrf_token(page)})
    assert response.headers["Location"] == f"/r/{receipt.code}"


def test_an_unknown_receipt_address_offers_the_code_to_correct(client, receipt):
    # An address typed by hand from the slip, one letter wrong: not a dead end.
    wrong = receipt.code[:-1] + ("A" if receipt.code[-1] != "A" else "B")
    response = client.get(f"/r/{wrong}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Không tìm thấy mã này." in html and 'aria-describedby="code-error"' in html
    form = page_forms(html)[-1]
    assert (form["id"], form["action"], form["fields"]["code"]) == ("receipt", "/r", wrong)
    corrected = client.post("/r", data=form["fields"] | {"code": receipt.code})
    assert corrected.headers["Location"] == f"/r/{receipt.code}"


def test_an_unknown_receipt_code_typed_in_is_shown_again_to_be_corrected(client, receipt):
    page = client.get("/r").get_data(as_text=True)
    typed = receipt.code[:-1] + ("2" if receipt.code[-1] != "2" else "3")  # one key wrong
    response = client.post("/r", data={"code": typed, "csrf_token": csrf_token(page)})
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Không tìm thấy mã này. Vui lòng kiểm tra lại mã in trên giấy hẹn." in html
    assert f'name="code" value="{typed}"' in html and 'aria-describedby="code-error"' in html
    assert 'action="/r"' in html


def test_a_receipt_code_changed_by_vietnamese_typing_says_so(client, receipt):
    page = client.get("/r").get_data(as_text=True)
    typed = "Â" + receipt.code[2:]  # Telex makes Â of AA
    response = client.post("/r", data={"code": typed, "csrf_token": csrf_token(page)})
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert (
        "Mã trên giấy hẹn không có chữ có dấu: bộ gõ tiếng Việt (Telex hoặc VNI) đã đổi những gì "
        "ông/bà gõ. Xin tắt bộ gõ rồi gõ lại mã."
    ) in html
    assert "Không tìm thấy mã này" not in html
    assert f'name="code" value="{typed}"' in html


def test_receipts_cli(runner, tree, questionnaire):
    result = runner.invoke(
        args=["receipts", "issue", "26734", "--count", "3", "--procedure", "cu-tru"]
    )
    assert result.exit_code == 0, result.output
    urls = result.output.split()
    assert len(urls) == 3 and all(
        re.fullmatch(r"http://survey\.test/r/[A-Z0-9-]{14}", u) for u in urls
    )
    assert db.session.scalar(select(func.count()).select_from(ReceiptCode)) == 3
    bad = runner.invoke(args=["receipts", "issue", "nope"])
    assert bad.exit_code != 0 and "no unit" in bad.output
    assert runner.invoke(args=["receipts", "issue", "26734", "--count", "0"]).exit_code != 0


def test_receipts_api(client, tree):
    _, key = create_key("one-stop system", Scope.RECEIPTS)
    _, other = create_key("hotline", Scope.OPEN311)
    db.session.commit()
    auth = {"Authorization": f"Bearer {key}"}
    made = client.post("/api/v1/receipts", json={"unit_code": "26734", "count": 2}, headers=auth)
    assert made.status_code == 201
    assert [r["url"].split("/r/")[1] for r in made.json["receipts"]] == [
        r["code"] for r in made.json["receipts"]
    ]
    for headers in ({}, {"Authorization": f"Bearer {other}"}, {"X-API-Key": "garbage"}):
        refused = client.post("/api/v1/receipts", json={"unit_code": "26734"}, headers=headers)
        assert refused.status_code == 401 and "error" in refused.json
    for body in ({"unit_code": "nope"}, {"unit_code": "26734", "count": 10_000},
                 {"unit_code": "26734", "count": "x"}, [1, 2]):  # fmt: skip
        assert client.post("/api/v1/receipts", json=body, headers=auth).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ReceiptCode)) == 2


@pytest.mark.parametrize("closed_days_ago, refused", [(0, True), (30, True), (-1, False)])
def test_the_receipts_api_issues_no_code_for_a_closed_unit(client, tree, closed_days_ago, refused):
    """A code for a unit that has closed would open a survey that says the unit is gone; the
    back office and `receipts issue` offer no closed unit either. Closing tomorrow: still open."""
    closing = local_today() - timedelta(days=closed_days_ago)
    tree["26734"].closed_on = closing
    _, key = create_key("one-stop system", Scope.RECEIPTS)
    db.session.commit()
    auth = {"Authorization": f"Bearer {key}"}
    answer = client.post("/api/v1/receipts", json={"unit_code": "26734"}, headers=auth)
    if refused:
        assert answer.status_code == 400
        assert answer.json["error"]["message"] == f"unit_code: 26734 closed on {closing}"
        assert db.session.scalar(select(func.count()).select_from(ReceiptCode)) == 0
    else:
        assert answer.status_code == 201 and len(answer.json["receipts"]) == 1


def test_a_receipts_key_for_a_unit_issues_codes_in_its_subtree_only(client, tree):
    _, district = create_key("Một cửa Quận 1", Scope.RECEIPTS, tree["760"])
    revoked, gone = create_key("Một cửa cũ", Scope.RECEIPTS, tree["760"])
    revoked.revoked_at = utcnow()
    db.session.commit()
    auth = {"X-API-Key": district}

    def issued() -> dict[str, int]:
        rows = db.session.execute(
            select(ReceiptCode.unit_id, func.count()).group_by(ReceiptCode.unit_id)
        )
        codes = {u.id: code for code, u in tree.items()}
        return {codes[unit_id]: n for unit_id, n in rows}

    for code in ("760", "26734", "26737"):
        made = client.post("/api/v1/receipts", json={"unit_code": code}, headers=auth)
        assert made.status_code == 201 and made.json["unit_code"] == code, code
    for code in ("79", "769", "26800"):
        refused = client.post("/api/v1/receipts", data={"unit_code": code}, headers=auth)
        assert refused.status_code == 403, code
        assert refused.json == {"error": {"status": 403, "message": (
            f"unit_code: {code} is outside this API key's units")}}  # fmt: skip
    unknown = client.post("/api/v1/receipts", json={"unit_code": "nope"}, headers=auth)
    assert unknown.status_code == 400 and unknown.json["error"]["message"] == (
        "unit_code: no such unit"
    )
    old = client.post("/api/v1/receipts", json={"unit_code": "26734"}, headers={"X-API-Key": gone})
    assert old.status_code == 401
    assert issued() == {"760": 1, "26734": 1, "26737": 1}


# --- repeats, bursts, patterns ------------------------------------------------------------------


def test_same_phone_twice_is_flagged_another_phone_is_not(app, point):
    phone, other = app.test_client(), app.test_client()
    for client, value in ((phone, "5"), (phone, "3"), (other, "2")):
        with app.app_context():
            assert thanked(fill_in(client, f"/s/{point.token}", value=value))
    flags = [r.flags for r in db.session.scalars(select(Response).order_by(Response.id))]
    assert flags == ["", "repeat_device", ""]
    hashes = [r.device_hash for r in stored()]
    assert hashes[0] == hashes[1] != hashes[2] and len(hashes[0]) == 32


def test_two_receipts_answered_alike_on_one_phone_are_two_answers(app, tree, questionnaire):
    """Each receipt is a transaction of its own, not the one before sent again."""
    codes = issue_receipts(tree["26734"], 2, timedelta(days=30), issued_by=None)
    db.session.commit()
    phone = app.test_client()
    for code in codes:
        with app.app_context():
            sent = fill_in(phone, f"/r/{code.code}", value="5")
            assert thanked(sent)
            assert phone.get(f"/r/{code.code}/thanks").status_code == 200
    saved = stored(channel="receipt")
    assert len(saved) == 2
    db.session.expire_all()
    assert sorted(c.response_id for c in codes) == sorted(r.id for r in saved)


def test_same_answers_sent_again_after_back_count_once(app, point):
    phone, other = app.test_client(), app.test_client()
    for client in (phone, phone, other):  # Back, then Send again: a fresh form, same answers
        with app.app_context():
            assert thanked(fill_in(client, f"/s/{point.token}", value="2"))
    assert len(stored()) == 2  # the other phone's identical answers are another citizen's


def _history(point, per_day: int, days: int = 28):
    now = utcnow()
    questionnaire_id = current_questionnaire().id
    db.session.add_all(
        Response(questionnaire_id=questionnaire_id, unit_id=point.unit_id, point_id=point.id,
                 channel="static",
                 hk=False, submitted_at=now - timedelta(days=d, hours=2, minutes=i), a1=(i % 5) + 1)
        for d in range(1, days + 1) for i in range(per_day)
    )  # fmt: skip
    db.session.commit()


def test_burst_at_a_quiet_point_is_flagged(app, point, questionnaire):
    _history(point, per_day=2)
    clients = [app.test_client() for _ in range(14)]
    for i, c in enumerate(clients):
        with app.app_context():
            fill_in(c, f"/s/{point.token}", value=str(i % 5 + 1))
    recent = db.session.scalars(
        select(Response).where(Response.submitted_at > utcnow() - timedelta(minutes=5))
        .order_by(Response.id)
    ).all()  # fmt: skip
    flagged = ["burst" in r.flags for r in recent]
    assert flagged[:9] == [False] * 9 and all(flagged[9:])


def test_busy_point_is_not_a_burst(app, point, questionnaire):
    _history(point, per_day=120)  # a busy city counter: 14 answers in ten minutes is normal
    for i in range(14):
        with app.app_context():
            fill_in(app.test_client(), f"/s/{point.token}", value=str(i % 5 + 1))
    recent = stored()[-14:]
    assert not any("burst" in r.flags for r in recent)


@pytest.mark.parametrize(
    ("per_day", "in_window"),
    [(0, 8), (0, 9), (0, 400), (120, 15), (120, 16), (120, 17), (120, 400), (400, 400)],
)
def test_the_burst_decision_is_the_one_every_answer_counted_makes(
    app, point, questionnaire, per_day, in_window
):
    # The window's answers are counted only as far as the decision needs; the decision must be
    # the rule's, worked out here from plain counts of every answer: a burst when the window
    # holds, with this answer, at least BURST_MIN and BURST_FACTOR times the usual rate (the
    # 28 days before, over about 8 open hours on 5 days of 7). Each pair brackets a threshold.
    _history(point, per_day)
    now = utcnow()
    db.session.add_all(
        Response(questionnaire_id=current_questionnaire().id, unit_id=point.unit_id,
                 point_id=point.id, channel="static", hk=False, a1=4,
                 submitted_at=now - timedelta(seconds=1 + i))
        for i in range(in_window)
    )  # fmt: skip
    db.session.commit()

    def count(since, until):
        at = Response.submitted_at
        return db.session.scalar(
            select(func.count()).where(Response.point_id == point.id, at >= since, at < until)
        )

    window_start = now - timedelta(minutes=10)
    recent = count(window_start, now)
    usual = count(now - timedelta(days=28), window_start)
    windows_open = 28 * 24 * 6 * (5 / 7) * (8 / 24)
    expected = recent + 1 >= max(10, 5 * usual / windows_open)
    assert (recent, usual) == (in_window, 27 * per_day)
    assert (app.config["BURST_MIN"], app.config["BURST_FACTOR"]) == (10, 5)  # as worked out
    answer = Response(point_id=point.id, submitted_at=now, a1=2)
    with app.test_request_context():
        flags = integrity.detect_flags(answer, app.config, device_history=[])
    assert ("burst" in flags) is expected


def test_identical_answers_in_a_row_are_flagged(app, point):
    for _ in range(4):
        with app.app_context():
            fill_in(app.test_client(), f"/s/{point.token}", value="5", hk="no")
    assert ["same_pattern" in r.flags for r in stored()] == [False, False, False, True]


def test_a_points_responses_name_channels_and_flags_in_the_staffs_language(app, point, make_user):
    phone = app.test_client()
    for value in "54":  # the same phone twice: the second is flagged
        with app.app_context():
            assert thanked(fill_in(phone, f"/s/{point.token}", value=value))
    db.session.add(
        Response(questionnaire_id=current_questionnaire().id, unit_id=point.unit_id,
                 point_id=point.id, channel="paper", hk=False, a1=3, flags="a_later_flag")
    )  # fmt: skip
    db.session.commit()
    make_user("m@x.vn", "manager", point.unit)
    url = f"/staff/points/{point.token}/responses"
    seen = {}
    for lang in ("vi", "en"):
        html = signed_in(app, "m@x.vn", language=lang).get(url).get_data(as_text=True)
        cells = re.findall(r"<tr>\n<td>[^<]*</td>\n<td>([^<]*)</td>\n<td><code>.*?</code></td>\n"
                           r"<td>([^<]*)</td>", html)  # fmt: skip
        seen[lang] = cells
        assert "repeat_device" not in html and ">static<" not in html and ">paper<" not in html
    # Newest first: the paper form typed in last, then the phone's second answer, then its first.
    assert seen["vi"] == [("Phiếu giấy", "a_later_flag"), ("Mã QR in sẵn", "cùng điện thoại"),
                          ("Mã QR in sẵn", "")]  # fmt: skip
    assert seen["en"] == [("Paper form", "a_later_flag"), ("Printed QR", "same phone"),
                          ("Printed QR", "")]  # fmt: skip
    html = signed_in(app, "m@x.vn", language="vi").get(url).get_data(as_text=True)
    assert "cùng một điện thoại đã trả lời tại đơn vị này trong 24 giờ trước" in html
    assert "ít nhất 10 phiếu tại quầy này trong 10 phút" in html


# --- exclusion and its undo, in the figures ---------------------------------------------------


def overall_n(unit_code):
    today = local_today()  # the figures count Vietnam days, not the test machine's
    _, rows = build_rows(Request(Query(today - timedelta(days=1), today), unit_code=unit_code,
                                 measures=("overall",)))  # fmt: skip
    return rows[0]["n"]


def test_exclusion_and_undo_change_the_figures(client, point, make_user):
    for value in "345":
        fill_in(client, f"/s/{point.token}", value=value)
    assert overall_n("26734") == 3
    make_user("m@x.vn", "manager", point.unit)
    login(client, "m@x.vn")
    page = client.get(f"/staff/points/{point.token}/responses").get_data(as_text=True)
    form = next(f for f in page_forms(page) if f["action"] and f["action"].endswith("/exclude"))
    no_reason = client.post(form["action"], data=form["fields"] | {"reason": ""})
    assert no_reason.status_code == 302 and overall_n("26734") == 3
    client.post(form["action"], data=form["fields"] | {"reason": "Nhân viên tự điền thử"})
    assert overall_n("26734") == 2
    assert overall_n("760") == 2  # the district above leaves it out too
    exclusion = db.session.scalar(select(Exclusion))
    assert exclusion.reason == "Nhân viên tự điền thử" and exclusion.excluded_by_id is not None
    page = client.get(f"/staff/points/{point.token}/responses").get_data(as_text=True)
    assert "Nhân viên tự điền thử" in page
    undo = next(f for f in page_forms(page) if f["action"] and f["action"].endswith("/restore"))
    client.post(undo["action"], data=undo["fields"])
    assert overall_n("26734") == 3
    db.session.refresh(exclusion)
    assert exclusion.undone_at is not None  # kept on record, never deleted
    assert db.session.scalar(select(func.count()).select_from(Response)) == 3


@pytest.mark.parametrize(
    ("language", "shown"),
    [("en", "at least 1,200 answers at this counter within 10 minutes, 2.5 times"),
     ("vi", "ít nhất 1.200 phiếu tại quầy này trong 10 phút, gấp 2,5 lần")],
)  # fmt: skip
def test_the_flags_thresholds_are_numbers_of_the_pages_language(
    app, point, make_user, monkeypatch, language, shown
):
    monkeypatch.setitem(app.config, "BURST_MIN", 1200)
    monkeypatch.setitem(app.config, "BURST_FACTOR", 2.5)
    make_user("m@x.vn", "manager", point.unit)
    client = signed_in(app, "m@x.vn", language=language)
    assert shown in client.get(f"/staff/points/{point.token}/responses").text


def test_a_page_of_responses_past_any_list_is_missing(client, point, make_user):
    fill_in(client, f"/s/{point.token}")
    make_user("h@x.vn", "handler", point.unit)
    login(client, "h@x.vn")
    url = f"/staff/points/{point.token}/responses"
    assert client.get(url + "?page=1").status_code == 200
    for page in ("2", "1000000", "99999999999999999999"):
        assert client.get(f"{url}?page={page}").status_code == 404, page


def test_a_points_responses_show_a_comment_never_backwards(client, point, make_user):
    """A comment is the citizen's own words, shown to the unit's staff (as the comments page
    shows it): one stored with a right-to-left override is shown as written, never backwards."""
    fill_in(client, f"/s/{point.token}")
    db.session.add(
        Response(
            questionnaire_id=current_questionnaire().id, unit_id=point.unit_id,
            point_id=point.id, channel="static", hk=False, a1=2,
            comment="\u202eGọi 0901234567",
        )
    )  # fmt: skip
    db.session.commit()
    make_user("m@x.vn", "manager", point.unit)
    login(client, "m@x.vn")
    page = client.get(f"/staff/points/{point.token}/responses").get_data(as_text=True)
    assert page.count("/exclude") == 2  # both responses listed
    assert "Gọi 0901234567" in page and "\u202e" not in page


def test_the_units_own_handlers_see_its_answers_but_cannot_leave_any_out(client, point, make_user):
    """The figures rate the counter's own staff: excluding answers is for managers."""
    fill_in(client, f"/s/{point.token}")
    response = stored()[0]
    make_user("h@x.vn", "handler", point.unit)
    login(client, "h@x.vn")
    page = client.get(f"/staff/points/{point.token}/responses").get_data(as_text=True)
    assert "/exclude" not in page  # the answers are shown, without the form
    data = {"reason": "không thích", "csrf_token": csrf_token(page)}
    for action in ("exclude", "restore"):
        result = client.post(f"/staff/responses/{response.id}/{action}", data=data)
        assert result.status_code == 403, action
    assert db.session.scalar(select(Exclusion)) is None


def test_staff_outside_the_unit_cannot_exclude(client, point, make_user, tree):
    fill_in(client, f"/s/{point.token}")
    response = stored()[0]
    make_user("other@x.vn", "manager", tree["769"])
    login(client, "other@x.vn")
    page = client.get("/staff/").get_data(as_text=True)
    result = client.post(f"/staff/responses/{response.id}/exclude",
                         data={"reason": "x", "csrf_token": csrf_token(page)})  # fmt: skip
    assert result.status_code == 403
    assert db.session.scalar(select(Exclusion)) is None


# --- paper forms ------------------------------------------------------------------------------


def test_paper_form_typed_with_the_keyboard(client, point, make_user):
    make_user("h@x.vn", "handler", point.unit)
    login(client, "h@x.vn")
    page = client.get("/staff/paper").get_data(as_text=True)
    form = page_forms(page)[-1]["fields"]
    good = form | {"unit": "26734", "day": "2026-01-15", "answers": "4455344455555444-05",
                   "hk": "c", "comment": "<b>ghi tay</b>"}  # fmt: skip
    assert client.post("/staff/paper", data=good).status_code == 302
    saved = stored(channel="paper")
    assert len(saved) == 1
    r = saved[0]
    assert (r.a1, r.a3, r.e1, r.e2, r.e3, r.hk) == (4, 5, None, 0, 5, True)
    assert r.unit_id == point.unit_id and r.point_id is None
    assert r.comment == "<b>ghi tay</b>"
    for bad in ({"answers": "4455"}, {"answers": "6455344455555444-05"}, {"hk": "x"},
                {"day": "2999-01-01"}, {"unit": "26800"}, {"answers": "4455344455555444-0\n"},
                {"hk": "c\n"}):  # fmt: skip
        page = client.get("/staff/paper").get_data(as_text=True)
        fields = page_forms(page)[-1]["fields"] | good | bad
        result = client.post("/staff/paper", data=fields)
        assert result.status_code == 200, bad
        assert "<b>ghi tay</b>" not in result.get_data(as_text=True)
    assert len(stored(channel="paper")) == 1


def test_the_next_paper_form_keeps_the_unit_and_the_day_of_the_one_before(client, point, make_user):
    """A pile of paper forms is typed from one unit and one day: the page offers both again
    after each, so the clerk does not date the rest of the pile today by mistake."""
    make_user("h@x.vn", "handler", point.unit)
    login(client, "h@x.vn")
    fields = page_forms(client.get("/staff/paper").get_data(as_text=True))[-1]["fields"]
    typed = {"unit": "26734", "day": "2026-01-15", "answers": "4" * 19, "hk": "n"}
    answer = client.post("/staff/paper", data=fields | typed)
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Đã ghi nhận phiếu giấy" in page
    fields = page_forms(page)[-1]["fields"]
    assert (fields["unit"], fields["day"]) == ("26734", "2026-01-15")
    assert (
        client.post("/staff/paper", data=fields | {"answers": "5" * 19, "hk": "n"}).status_code
        == 302
    )
    assert [(r.a1, r.submitted_at.date()) for r in stored(channel="paper")] == [
        (4, date(2026, 1, 15)),
        (5, date(2026, 1, 15)),
    ]


@pytest.mark.parametrize("day", ["2999-01-01", "1999-12-31", "15/01/2026", "", "2026-02-30"])
def test_a_day_in_the_address_that_the_form_would_refuse_offers_today(
    client, point, make_user, day
):
    make_user("h@x.vn", "handler", point.unit)
    login(client, "h@x.vn")
    page = client.get("/staff/paper", query_string={"unit": "26734", "day": day})
    fields = page_forms(page.get_data(as_text=True))[-1]["fields"]
    assert page.status_code == 200 and fields["day"] == local_today().isoformat()


def test_paper_form_procedure_not_listed_is_said_beside_its_field(client, point, make_user):
    make_user("h@x.vn", "handler", point.unit)
    login(client, "h@x.vn")
    page = client.get("/staff/paper").get_data(as_text=True)
    label = re.search(r'<label class="block" for="procedure">([^<]+)</label>', page).group(1)
    fields = page_forms(page)[-1]["fields"] | {
        "unit": "26734",
        "answers": "4455344455555444-05",
        "hk": "n",
        "procedure": "KHONG-CO",
    }
    html = client.post("/staff/paper", data=fields).get_data(as_text=True)
    # Beside its field, under the label, and named in the summary at the top.
    beside = re.search(rf">{re.escape(label)}</label>\n<p class=\"msg\"[^>]*>([^<]+)</p>", html)
    assert beside and "thủ tục" in beside.group(1)
    alert = re.search(r'<div class="error" role="alert"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert f'<a href="#procedure">{label}</a>' in alert
    assert not stored(channel="paper")


def test_paper_form_dated_today_in_vietnam(client, point, make_user, monkeypatch):
    """The form's day is Vietnam's, whatever the server's own zone says it is."""
    make_user("h@x.vn", "handler", point.unit)
    login(client, "h@x.vn")
    # 18:00 UTC on 1 January 2099 is 01:00 on the 2nd in Vietnam.
    monkeypatch.setattr("core.models.utcnow", lambda: datetime(2099, 1, 1, 18))
    page = client.get("/staff/paper").get_data(as_text=True)
    assert 'value="2099-01-02"' in page  # the day offered by default
    base = page_forms(page)[-1]["fields"] | {"unit": "26734", "answers": "4" * 19, "hk": "n"}
    assert client.post("/staff/paper", data=base | {"day": "2099-01-03"}).status_code == 200
    assert client.post("/staff/paper", data=base | {"day": "2099-01-02"}).status_code == 302
    assert [r.submitted_at for r in stored(channel="paper")] == [datetime(2099, 1, 2, 5)]


def test_counter_display_shows_a_presence_url(client, point, make_user):
    make_user("h@x.vn", "handler", point.unit)
    login(client, "h@x.vn")
    page = client.get(f"/staff/points/{point.token}/display")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    url = re.search(r'data-url="([^"]+)"', html).group(1)
    assert url.startswith(f"http://survey.test/s/{point.token}?c=")
    assert '<noscript><meta http-equiv="refresh"' in html
    state = client.get(f"/staff/points/{point.token}/display.json").json
    assert state["static_url"] == f"http://survey.test/s/{point.token}"
    code = url.split("?c=")[1]
    import time

    assert is_present(point.secret, point.token, code, time.time(), WINDOW, GRACE)


WTFORMS_ENGLISH = ("Not a valid", "Field cannot be longer", "This field is required")


def test_the_receipts_form_ties_each_mistake_to_its_field(client, make_user, tree):
    make_user("m@x.vn", "manager", tree["760"])
    login(client, "m@x.vn")
    fields = page_forms(client.get("/staff/receipts").get_data(as_text=True))[-1]["fields"]
    typed = {"unit": "26734", "count": "abc"}
    html = client.post("/staff/receipts", data=fields | typed).get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="count"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in tag
    described = re.search(r'aria-describedby="([^"]+)"', tag).group(1).split()
    assert described and all(f'<p class="msg" id="{i}">' in html for i in described)
    unit = re.search(r'<select[^>]*name="unit"[^>]*>', html).group(0)
    assert "aria-describedby" not in unit and "aria-invalid" not in unit  # no mistake there


@pytest.mark.parametrize("path", ["/staff/receipts", "/staff/paper"])
def test_a_unit_must_be_chosen_where_there_are_several(
    client, make_user, tree, questionnaire, path
):
    """A manager's list starts with their district: a form left as it came would have put the
    receipts or the paper form on the district, not on the commune whose counter it was."""
    make_user("m@x.vn", "manager", tree["760"])
    login(client, "m@x.vn")
    page = client.get(path).get_data(as_text=True)
    options = re.findall(r'<option[^>]*value="([^"]*)"', page.split('name="unit"')[1])
    assert options[0] == "" and "760" in options and "26734" in options
    fields = page_forms(page)[-1]["fields"] | {"count": "3", "answers": "4" * 19, "hk": "n"}
    answer = client.post(path, data=fields)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Chọn đơn vị." in html
    assert 'aria-invalid="true"' in re.search(r'<select[^>]*name="unit"[^>]*>', html).group(0)
    assert db.session.scalar(select(func.count(ReceiptCode.id))) == 0 and not stored()


def test_the_paper_forms_mistakes_are_tied_to_their_fields(client, point, make_user):
    """A screen reader reads the message with the field it is about, as on the receipts page."""
    make_user("h@x.vn", "handler", point.unit)
    login(client, "h@x.vn")
    fields = page_forms(client.get("/staff/paper").get_data(as_text=True))[-1]["fields"]
    typed = {"answers": "6" * 19, "hk": "x", "day": "2999-01-01"}
    html = client.post("/staff/paper", data=fields | typed).get_data(as_text=True)
    for name in typed:
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in tag, tag
        ids = re.search(r'aria-describedby="([^"]+)"', tag).group(1).split()
        assert ids and all(f'<p class="msg" id="{i}">' in html for i in ids), tag
    assert not stored()


def test_a_handler_of_one_unit_has_it_chosen(client, point, make_user):
    make_user("h@x.vn", "handler", point.unit)
    login(client, "h@x.vn")
    page = client.get("/staff/receipts").get_data(as_text=True)
    options = re.findall(
        r'<option[^>]*value="([^"]*)"', page.split('name="unit"')[1].split("</select>")[0]
    )
    assert options == ["26734"]
    fields = page_forms(page)[-1]["fields"] | {"count": "2"}
    assert client.post("/staff/receipts", data=fields).status_code == 200
    assert db.session.scalar(select(func.count(ReceiptCode.id))) == 2


def test_counter_forms_explain_mistakes_in_the_users_language(client, point, make_user, tree):
    """WTForms has no Vietnamese: its own messages must come through the app's catalogue."""
    make_user("m@x.vn", "manager", tree["760"])
    login(client, "m@x.vn")
    receipts = page_forms(client.get("/staff/receipts").get_data(as_text=True))[-1]["fields"]
    paper = page_forms(client.get("/staff/paper").get_data(as_text=True))[-1]["fields"]
    paper |= {"unit": "26734", "day": "2026-01-15", "answers": "4" * 19, "hk": "n"}
    cases = [
        ("/staff/receipts", receipts | {"unit": "26800", "count": "abc"}, "Vui lòng chọn một"),
        ("/staff/receipts", receipts | {"unit": "", "count": "2"}, "Chọn đơn vị."),
        ("/staff/paper", paper | {"unit": "26800"}, "Vui lòng chọn một"),
        ("/staff/paper", paper | {"day": "abc"}, "Mục này là bắt buộc."),
    ]
    for url, data, vietnamese in cases:
        html = client.post(url, data=data).get_data(as_text=True)
        assert vietnamese in html, data
        assert not any(english in html for english in WTFORMS_ENGLISH), data
    english = {"Accept-Language": "en"}
    for url, data, text in [
        ("/staff/receipts", receipts | {"unit": "26734", "count": "abc"}, "Write a whole number."),
        ("/staff/paper", paper | {"procedure": "x" * 121}, "Write at most 120 characters."),
        ("/staff/paper", paper | {"comment": "x" * 1001}, "Write at most 1000 characters."),
    ]:
        html = client.post(url, data=data, headers=english).get_data(as_text=True)
        assert text in html, data
        assert not any(e in html for e in WTFORMS_ENGLISH), data
    assert db.session.scalar(select(func.count()).select_from(ReceiptCode)) == 0
    assert stored() == []
