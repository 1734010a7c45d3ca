"""The back office through its pages: queue, moves, conflicts, intake, calendar, API keys."""

import html
import re
from datetime import date, timedelta

from sqlalchemy import func, select

from core.apikeys import ApiKey, Scope, check_key
from core.extensions import db
from core.models import utcnow
from feedback.models import Case, DeclaredDay
from feedback.workdays import local_today
from tests.conftest import csrf_token, login, new_client, page_forms, signed_in


def act(client, case_id, action, **fields):
    page = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    form = next(f for f in page_forms(page) if f["fields"].get("action") == action)
    data = {**form["fields"], **fields}
    return client.post(f"/staff/cases/{case_id}", data=data)


def test_a_case_from_classification_to_publication(client, staff, make_case):
    case = make_case(content="Phí chứng thực cao hơn quy định.")
    login(client, "manager@x.vn")
    assert act(client, case.id, "classify", outcome="competent").status_code == 303
    assert act(client, case.id, "assign").status_code == 303  # to the signed-in manager
    assert act(client, case.id, "answer", answer="Đã hoàn trả phí thu thừa.").status_code == 303
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Đã hoàn trả phí thu thừa." in page and "manager@x.vn" in page
    assert act(client, case.id, "publish", summary="Thu phí sai quy định.").status_code == 303
    public = client.get("/pakn/published?unit=760").get_data(as_text=True)
    assert "Thu phí sai quy định." in public and "Đã hoàn trả phí thu thừa." in public
    assert "Phí chứng thực cao hơn quy định." not in public  # the content stays private
    track = client.get(f"/track/{case.code}").get_data(as_text=True)
    rating = next(f for f in page_forms(track) if f["action"].endswith("/rating"))
    response = client.post(rating["action"], data={**rating["fields"], "satisfied": "no"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Case, case.id).satisfied is False
    assert "Thank you for your rating" in client.get(f"/track/{case.code}").get_data(as_text=True)


def test_a_handler_classifies_a_case_in_progress_again_on_its_page(client, staff, make_case):
    case = make_case()
    login(client, "handler@x.vn")
    assert act(client, case.id, "classify", outcome="competent").status_code == 303
    assert act(client, case.id, "assign").status_code == 303
    assert act(client, case.id, "classify", outcome="difficulty").status_code == 303
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.state, case.outcome) == ("classified", "difficulty")
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert {"assign", "transfer"} <= {f["fields"].get("action") for f in page_forms(page)}


def test_illegal_moves_are_refused_with_a_message(client, staff, make_case):
    case = make_case()
    login(client, "handler@x.vn")
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    token = csrf_token(page)
    response = client.post(
        f"/staff/cases/{case.id}",
        data={"csrf_token": token, "action": "answer", "version": case.version, "answer": "x"},
    )
    assert response.status_code == 409
    assert "is not possible while the case is" in response.get_data(as_text=True)
    response = client.post(
        f"/staff/cases/{case.id}",
        data={"csrf_token": token, "action": "explode", "version": case.version},
    )
    assert response.status_code == 422


def test_the_second_editor_gets_a_conflict_and_keeps_the_text(client, app, staff, make_case):
    case = make_case()
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, "handler@x.vn")
    login(other, "manager@x.vn")
    first = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    second = other.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    reject = next(f for f in page_forms(second) if f["fields"].get("action") == "reject")
    classify = next(f for f in page_forms(first) if f["fields"].get("action") == "classify")
    assert (
        client.post(
            f"/staff/cases/{case.id}", data={**classify["fields"], "outcome": "competent"}
        ).status_code
        == 303
    )
    response = other.post(
        f"/staff/cases/{case.id}",
        data={**reject["fields"], "note": "Nội dung đã được giải quyết ở kỳ trước."},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "Someone else changed this case" in html
    assert "Nội dung đã được giải quyết ở kỳ trước." in html  # nothing lost
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "classified"
    retry = next(f for f in page_forms(html) if f["fields"].get("action") == "reject")
    kept = "Nội dung đã được giải quyết ở kỳ trước."
    response = other.post(f"/staff/cases/{case.id}", data={**retry["fields"], "note": kept})
    assert response.status_code == 303


def test_queue_tabs_filters_and_pages(client, app, staff, make_case, tree):
    app.config["FEEDBACK_PAGE_SIZE"] = 2
    today = local_today()
    late = make_case(topic="attitude", received_at=utcnow() - timedelta(days=40))
    fresh = [make_case("26737", channel="phone") for _ in range(3)]
    login(client, "manager@x.vn")
    html = client.get("/staff/cases?tab=overdue").get_data(as_text=True)
    assert f'/staff/cases/{late.id}"' in html and "Overdue (1)" in html
    assert late.due_on < today
    html = client.get("/staff/cases?tab=new").get_data(as_text=True)
    assert "New (3)" in html and "All (4)" in html and "Page 1 of 2" in html
    html = client.get("/staff/cases?tab=all&channel=phone&unit=26737&page=2").get_data(as_text=True)
    shown = set(re.findall(r'href="/staff/cases/(\d+)"', html))
    assert len(shown) == 1 and shown <= {str(c.id) for c in fresh}
    html = client.get("/staff/cases?tab=all&topic=attitude").get_data(as_text=True)
    assert set(re.findall(r'href="/staff/cases/(\d+)"', html)) == {str(late.id)}
    iso = today.isoformat()
    html = client.get(f"/staff/cases?tab=all&from={iso}&to={iso}").get_data(as_text=True)
    assert str(late.id) not in set(re.findall(r'href="/staff/cases/(\d+)"', html))
    assert client.get("/staff/cases?unit=nope").status_code == 404


def test_the_queue_counts_its_cases_in_each_language(app, staff, make_case):
    make_case(topic="attitude")
    english = signed_in(app, "manager@x.vn")
    vietnamese = signed_in(app, "manager@x.vn", language="vi")
    count = re.compile(r'<p class="note">([^.<]+)\. ')
    assert count.search(english.get("/staff/cases?tab=all").text)[1] == "1 case"
    assert count.search(vietnamese.get("/staff/cases?tab=all").text)[1] == "1 PAKN"
    make_case(topic="delay")
    assert count.search(english.get("/staff/cases?tab=all").text)[1] == "2 cases"


def test_the_day_a_case_came_is_headed_as_a_day_not_as_its_state(app, staff, make_case):
    # "Received" is also a state ("Đã tiếp nhận"): above a date it read as one.
    case = make_case()
    vietnamese = signed_in(app, "manager@x.vn", language="vi")
    for url in ("/staff/cases?tab=all", f"/staff/cases/{case.id}"):
        text = vietnamese.get(url).text
        assert re.search(r">Ngày tiếp nhận</(th|dt)>", text)
        assert not re.search(r">Đã tiếp nhận</(th|dt)>", text)
    english = signed_in(app, "manager@x.vn").get("/staff/cases?tab=all").text
    assert '<th scope="col">Received on</th>' in english


def test_each_tab_counts_the_cases_its_link_lists_under_the_filters(client, staff, make_case):
    late = make_case(topic="attitude", received_at=utcnow() - timedelta(days=40))
    make_case("26737", channel="phone")
    make_case("26737", topic="attitude")
    login(client, "manager@x.vn")
    tab_link = re.compile(r'<a href="([^"]+)"[^>]*>([^<(]+) \((\d+)\)</a>')
    page = client.get("/staff/cases?tab=all&unit=26737&topic=attitude").get_data(as_text=True)
    tabs = {label: (html.unescape(href), int(n)) for href, label, n in tab_link.findall(page)}
    assert tabs["All"][1] == 1 and tabs["Overdue"][1] == 0 and tabs["New"][1] == 1
    for label, (href, count) in tabs.items():
        listed = client.get(href).get_data(as_text=True)
        assert len(set(re.findall(r'href="/staff/cases/(\d+)"', listed))) == count, label
    page = client.get("/staff/cases?tab=all&topic=attitude").get_data(as_text=True)
    assert "Overdue (1)" in page and "All (2)" in page and f'/staff/cases/{late.id}"' in page


def test_a_unit_code_typed_wrong_in_the_filter_is_said_beside_it(client, staff, make_case):
    ours = make_case("26737")
    make_case("26800")
    login(client, "manager@x.vn")
    links = re.compile(r'href="/staff/cases/(\d+)"')
    page = client.get("/staff/cases?tab=all&unit=+26737+").get_data(as_text=True)
    assert set(links.findall(page)) == {str(ours.id)} and 'value="26737"' in page
    for typed, status, message in (("26999", 404, "No unit has this code."),
                                   ("26800", 403, "This unit is not in your scope.")):  # fmt: skip
        response = client.get(f"/staff/cases?tab=all&topic=delay&unit={typed}")
        page = response.get_data(as_text=True)
        assert response.status_code == status
        assert f'<span class="msg" id="e-unit" role="alert">{message}</span>' in page
        assert f'value="{typed}"' in page and '<option value="delay" selected>' in page
        assert links.findall(page) == [] and "All (0)" in page


def test_the_first_tab_holds_cases_to_classify_and_cases_to_assign(client, staff, make_case):
    received, classified, assigned = make_case(), make_case(), make_case()
    login(client, "manager@x.vn")
    for case in (classified, assigned):
        assert act(client, case.id, "classify", outcome="competent").status_code == 303
    assert act(client, assigned.id, "assign").status_code == 303
    html = client.get("/staff/cases").get_data(as_text=True)
    assert "To classify or assign (2)" in html
    shown = set(re.findall(r'href="/staff/cases/(\d+)"', html))
    assert shown == {str(received.id), str(classified.id)}


def test_numbers_and_dates_out_of_range_are_explained(client, staff, make_case):
    case = make_case()
    login(client, "manager@x.vn")
    for url in (
        "/staff/cases?page=99999999999999999999",
        "/staff/cases/99999999999999999999",
        "/staff/cases/2147483648",  # past PostgreSQL's integer, within SQLite's
        f"/staff/cases/{case.id}/photos/99999999999999999999.jpg",
        f"/staff/cases/{case.id}/photos/2147483648.jpg",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "This page does not exist." in response.get_data(as_text=True)
    for dates in ("from=0001-01-01", "to=9999-12-31"):
        response = client.get(f"/staff/cases?tab=all&{dates}")
        assert response.status_code == 400, dates
        assert "This date is out of range. Check the year." in response.get_data(as_text=True)
    html = client.get("/staff/cases?tab=all&from=0002-01-01&to=9998-12-31").get_data(as_text=True)
    assert f'/staff/cases/{case.id}"' in html


def intake_form(client, tree, **fields) -> dict:
    """The staff intake page's form, signed in as the handler, filled in with a letter."""
    login(client, "handler@x.vn")
    page = client.get("/staff/cases/new").get_data(as_text=True)
    return dict(page_forms(page)[-1]["fields"]) | {
        "unit": tree["26734"].id, "kind": "report", "topic": "attitude",
        "content": "Cán bộ nói năng thiếu lịch sự.", **fields,
    }  # fmt: skip


def test_staff_enter_a_phone_call(client, staff, tree):
    data = intake_form(client, tree, channel="phone", name="Phạm D", phone="0987 654 321",
                       consent="y")  # fmt: skip
    data["received_on"] = (local_today() - timedelta(days=90)).isoformat()
    assert client.post("/staff/cases/new", data=data).status_code == 422
    blank = {**data, "received_on": local_today().isoformat(), "content": "Gọi\n" + " " * 12}
    assert client.post("/staff/cases/new", data=blank).status_code == 422
    data["received_on"] = (local_today() - timedelta(days=2)).isoformat()
    response = client.post("/staff/cases/new", data=data)
    assert response.status_code == 303
    case = db.session.scalar(select(Case))
    assert case.channel == "phone" and case.person.name == "Phạm D"
    assert case.received_on == local_today() - timedelta(days=2)
    assert case.received_at < utcnow() - timedelta(days=1)  # the day it came, for the filters
    assert case.events[0].actor.email == "handler@x.vn"


def test_staff_enter_a_senders_address_only_with_their_consent(client, staff, tree):
    data = intake_form(client, tree, channel="paper", address="12 Lê Lợi, Phường Bến Nghé")
    response = client.post("/staff/cases/new", data=data)
    assert response.status_code == 422
    # Said to the staff member, who ticks the box for the sender, not to the sender.
    said = html.unescape(response.get_data(as_text=True))
    assert "Keep the sender's name or contact only if they agreed" in said
    assert "please agree to their use" not in said
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    response = client.post("/staff/cases/new", data={**data, "consent": "y"})
    assert response.status_code == 303
    case = db.session.scalar(select(Case))
    assert case.person.address == "12 Lê Lợi, Phường Bến Nghé" and case.person.consent_at


def test_the_consent_message_is_said_to_staff_in_vietnamese(app, staff, tree):
    # Waits for the catalogue to carry the staff's message (then "bạn"-side, no "ông/bà").
    client = new_client(app, "vi")
    data = intake_form(client, tree, channel="paper", name="Phạm D")
    said = html.unescape(client.post("/staff/cases/new", data=data).get_data(as_text=True))
    assert "Chỉ giữ họ tên hoặc liên hệ của người gửi khi họ đã đồng ý" in said
    assert "ông/bà" not in said.lower()


def test_staff_intake_refuses_an_address_with_a_hidden_character_and_keeps_the_form(
    client, staff, tree
):
    typed = "12 Lê Lợi,\u200b Phường Bến Nghé"  # a zero-width space, pasted
    data = intake_form(client, tree, channel="paper", address=typed, consent="y")
    response = client.post("/staff/cases/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "No line breaks, tabs or invisible characters here, please." in page
    assert dict(page_forms(page)[-1]["fields"])["address"] == typed
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_staff_intake_sent_twice_records_one_case(client, staff, tree):
    data = intake_form(client, tree, channel="paper")
    first = client.post("/staff/cases/new", data=data)
    second = client.post("/staff/cases/new", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    case = db.session.scalars(select(Case)).one()
    html = client.get(second.headers["Location"]).get_data(as_text=True)
    # In two groups, as the citizen's pages and e-mails write it, to be read out on the phone.
    grouped = f"{case.code[:5]}-{case.code[5:]}"
    assert f"Tracking code for the citizen: {grouped}" in html
    assert f"<dd><code>{grouped}</code></dd>" in html  # the case's page, where it leads
    data.pop("key")  # a page opened before the form had a key
    refused = client.post("/staff/cases/new", data=data)
    assert refused.status_code == 422
    assert "This form is not valid. Please submit it again." in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1
    data["key"] = page_forms(refused.get_data(as_text=True))[-1]["fields"]["key"]
    assert client.post("/staff/cases/new", data=data).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Case)) == 2


def test_admin_declares_a_day_and_deadlines_follow(client, staff):
    login(client, "admin@x.vn")
    page = client.get("/staff/calendar?year=2025").get_data(as_text=True)
    assert "27/1/2025" not in page or "Built-in" in page
    form = next(f for f in page_forms(page) if f["action"] == "/staff/calendar")
    data = {**form["fields"], "day": "2025-01-24", "working": "off", "note": "Nghỉ bù Tết"}
    assert client.post("/staff/calendar", data=data).status_code == 303
    day = db.session.scalar(select(DeclaredDay))
    assert (day.working, day.note, day.created_by_id) == (False, "Nghỉ bù Tết", staff["admin"].id)
    assert "Nghỉ bù Tết" in client.get("/staff/calendar?year=2025").get_data(as_text=True)


def test_the_same_day_declared_at_the_same_instant_is_saved_once(client, staff, monkeypatch):
    from feedback import views_admin

    login(client, "admin@x.vn")
    page = client.get("/staff/calendar?year=2025").get_data(as_text=True)
    form = next(f for f in page_forms(page) if f["action"] == "/staff/calendar")
    first = []

    def other_admin_saves_first():  # read just before the commit, after the check
        if not first:
            first.append(True)
            with db.engine.begin() as conn:
                row = {"day": date(2025, 1, 24), "working": True, "note": "khác",
                       "created_at": utcnow()}  # fmt: skip
                conn.execute(DeclaredDay.__table__.insert().values(**row))
        return utcnow()

    monkeypatch.setattr(views_admin, "utcnow", other_admin_saves_first)
    data = {**form["fields"], "day": "2025-01-24", "working": "off", "note": "Nghỉ bù Tết"}
    assert client.post("/staff/calendar", data=data).status_code == 303
    days = db.session.scalars(select(DeclaredDay)).all()
    assert [(d.working, d.note) for d in days] == [(False, "Nghỉ bù Tết")]  # the later one wins


def test_the_same_key_name_sent_at_the_same_instant_is_refused_once(client, staff, monkeypatch):
    from feedback import views_admin

    login(client, "admin@x.vn")
    page = client.get("/staff/apikeys").get_data(as_text=True)
    original = views_admin.create_key

    def another_admin_saves_first(name, scope, unit=None):
        row = {"name": name, "prefix": "x" * 8, "key_hash": "0" * 64, "scope": scope,
               "created_at": utcnow()}  # fmt: skip
        create_key_elsewhere = ApiKey.__table__.insert().values(**row)
        with db.engine.begin() as conn:
            conn.execute(create_key_elsewhere)
        return original(name, scope, unit)

    monkeypatch.setattr(views_admin, "create_key", another_admin_saves_first)
    response = client.post("/staff/apikeys", data={"csrf_token": csrf_token(page), "name": "1022"})
    assert response.status_code == 422
    assert "A key with this name already exists." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 1


def test_admin_creates_a_key_seen_once_and_revokes_it(client, staff):
    login(client, "admin@x.vn")
    page = client.get("/staff/apikeys").get_data(as_text=True)
    response = client.post("/staff/apikeys", data={"csrf_token": csrf_token(page), "name": "1022"})
    html = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    key = re.search(r'<code class="code">([^<]+)</code>', html).group(1)
    assert check_key(key, Scope.OPEN311) is not None
    again = client.get("/staff/apikeys").get_data(as_text=True)
    assert key not in again and key[:8] in again
    revoke = next(f for f in page_forms(again) if f["action"].endswith("/revoke"))
    assert client.post(revoke["action"], data=revoke["fields"]).status_code == 303
    assert check_key(key, Scope.OPEN311) is None
    duplicate = client.post(
        "/staff/apikeys", data={"csrf_token": csrf_token(again), "name": "1022"}
    )
    assert duplicate.status_code == 422
    assert db.session.scalar(select(ApiKey).where(ApiKey.name == "1022")).revoked_at is not None


def test_a_key_name_with_a_line_break_or_hidden_character_is_refused(client, staff, runner):
    login(client, "admin@x.vn")
    for name in ("Tổng đài\n1022", "Cổng \u202etrả lời"):
        page = client.get("/staff/apikeys").get_data(as_text=True)
        response = client.post(
            "/staff/apikeys", data={"csrf_token": csrf_token(page), "name": name}
        )
        assert response.status_code == 422
        assert "No line breaks, tabs or invisible characters" in response.get_data(as_text=True)
        result = runner.invoke(args=["apikeys", "create", name])
        assert result.exit_code != 0 and "invisible characters" in result.output
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_admin_actions_on_ids_past_the_databases_integers_are_missing_pages(client, staff):
    login(client, "admin@x.vn")
    token = csrf_token(client.get("/staff/apikeys").get_data(as_text=True))
    for big in ("2147483648", "9" * 30):
        for url in (f"/staff/apikeys/{big}/revoke", f"/staff/calendar/{big}/delete"):
            response = client.post(url, data={"csrf_token": token})
            assert response.status_code == 404, url
            assert "This page does not exist." in response.get_data(as_text=True)


def test_calendar_of_a_year_past_any_date_shows_this_year(client, staff):
    login(client, "admin@x.vn")
    this_year = client.get("/staff/calendar").get_data(as_text=True)
    for year in ("99999999999999999999", "10000", "0", "-1", "abc"):
        response = client.get(f"/staff/calendar?year={year}")
        assert response.status_code == 200, year
        assert response.get_data(as_text=True).count("<tr") == this_year.count("<tr"), year


def test_admin_forms_explain_mistakes_in_the_apps_words(client, staff):
    """WTForms' own messages come through the app's catalogue (WTForms has no Vietnamese)."""
    login(client, "admin@x.vn")
    token = csrf_token(client.get("/staff/calendar").get_data(as_text=True))
    for url, data, text in [
        ("/staff/apikeys", {"name": "x" * 121}, "Write at most 120 characters."),
        ("/staff/calendar", {"day": "abc", "working": "off"}, "This is not a valid date."),
        ("/staff/calendar", {"day": "2026-02-14", "working": "x"}, "Choose one of the answers"),
        ("/staff/calendar", {"day": "2026-02-14", "working": "off", "note": "n" * 201},
         "Write at most 200 characters."),
    ]:  # fmt: skip
        response = client.post(url, data={"csrf_token": token, **data})
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and text in html, data
        assert "Not a valid" not in html and "Field cannot be" not in html, data
    assert db.session.scalar(select(func.count()).select_from(DeclaredDay)) == 0
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_the_history_names_who_acted_without_an_account_in_the_pages_language(
    app, staff, make_case
):
    """The citizen, the system (a household-register answer, the mail sender) and a partner's
    API key: each named in Vietnamese or English, never as the stored label ("system")."""
    cases = {
        label: make_case(actor_label=label) for label in ("citizen", "system", "api:Tổng đài 1022")
    }
    expected = {
        "vi": {"citizen": "người dân", "system": "hệ thống",
               "api:Tổng đài 1022": "hệ thống đối tác “Tổng đài 1022” (khóa API)"},
        "en": {"citizen": "citizen", "system": "the system",
               "api:Tổng đài 1022": "partner system “Tổng đài 1022” (API key)"},
    }  # fmt: skip
    for language, names in expected.items():
        client = signed_in(app, "admin@x.vn", language=language)
        for label, case in cases.items():
            page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
            row = re.search(r"<tr><td>[^<]*</td><td>([^<]*)</td>", page.split("<tbody")[-1])
            assert html.unescape(row.group(1)) == names[label], (language, label)
