"""The language switch on the PAKN form, staff intake and the tracking code entry: a button of
the form, so what was typed comes back."""

import io
from datetime import timedelta

from sqlalchemy import func, select

from core.extensions import db
from core.models import User, utcnow
from feedback import codes, mailer
from feedback.models import Case, CasePhoto
from feedback.workdays import local_today
from tests.conftest import login, page_forms
from tests.feedback.test_citizen import jpeg

TYPED = {
    "kind": "recommendation",
    "topic": "documents_fees",
    "content": "Đề nghị niêm yết phí rõ ràng.\nCán bộ thu phí <không> đưa biên lai & hẹn lại.",
    "name": "Trần Thị B",
    "phone": "0912 345 678",
    "email": "b@example.vn",
    "consent": "y",
}


def cases() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def pakn_form(client, url) -> dict:
    [form] = [f for f in page_forms(client.get(url).get_data(as_text=True)) if f["id"] == "pakn"]
    return form


def press_switch(client, url, form, files=(), **changes):
    [button] = [b for b in form["buttons"] if b["name"] == "switch_language"]
    data = {**form["fields"], **TYPED, button["name"]: button["value"], **changes}
    data.pop("photos", None)
    if files:
        data["photos"] = [(io.BytesIO(raw), name) for name, raw in files]
    return client.post(url, data=data, content_type="multipart/form-data")


def test_switching_keeps_what_was_typed_and_sends_nothing(client, point):
    url = f"/pakn/new?point={point.token}"
    form = pakn_form(client, url)  # in English: the browser asks for it
    [button] = form["buttons"]
    assert (button["form"], button["value"], button["type"]) == ("pakn", "vi", "submit")
    assert "formnovalidate" in button

    response = press_switch(client, url, form)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html and "Gửi PAKN" in html
    assert 'role="alert"' not in html and 'class="msg"' not in html  # nothing to correct
    assert 'aria-describedby="photos-again"' not in html  # no photo was attached
    assert client.get_cookie("lang").value == "vi"
    assert cases() == 0
    again = next(f for f in page_forms(html) if f["id"] == "pakn")
    kept = again["fields"]
    for name, value in TYPED.items():
        assert kept[name] == value, name
    assert kept["key"] == form["fields"]["key"]
    assert again["action"] == url
    assert '<input type="checkbox" id="consent" name="consent" value="y" checked' in html

    # The page sent as it is now makes the case, once.
    sent = client.post(url, data={**kept, "photos": []}, content_type="multipart/form-data")
    assert sent.status_code == 303 and cases() == 1


def test_attached_photos_are_said_to_be_dropped_and_nothing_is_stored(client, tree):
    client.set_cookie("lang", "vi")
    url = "/pakn/new?unit=26734"
    form = pakn_form(client, url)
    response = press_switch(client, url, form, files=[("a.jpg", jpeg())])
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="en">' in html
    assert html.count("The photos you attached could not be kept") == 1
    assert 'multiple aria-describedby="photos-again"' in html
    assert cases() == 0
    assert db.session.scalar(select(func.count()).select_from(CasePhoto)) == 0


def test_an_expired_form_switches_without_an_error(client, tree):
    url = "/pakn/new?unit=26734"
    form = pakn_form(client, url)
    client.delete_cookie("session")
    response = press_switch(client, url, form, csrf_token="forged", key="not a key")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'role="alert"' not in html
    kept = next(f for f in page_forms(html) if f["id"] == "pakn")["fields"]
    assert kept["content"] == TYPED["content"] and kept["csrf_token"] != "forged"
    assert len(kept["key"]) == 32 and cases() == 0
    sent = client.post(url, data={**kept, "photos": []}, content_type="multipart/form-data")
    assert sent.status_code == 303 and cases() == 1


def test_from_vietnamese_to_english(client, tree):
    client.set_cookie("lang", "vi")
    url = "/pakn/new?unit=26734"
    form = pakn_form(client, url)
    assert form["buttons"][0]["value"] == "en"
    response = press_switch(client, url, form)
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html and client.get_cookie("lang").value == "en"
    assert "Send the PAKN" in html and "Trần Thị B" in html and cases() == 0


INTAKE = {
    "channel": "phone",
    "kind": "report",
    "topic": "attitude",
    "content": "Cán bộ nói năng <thiếu> lịch sự & hẹn lại.\nĐề nghị xem xét.",
    "name": "Jane Roe",
    "phone": "0987 654 321",
    "email": "jane@example.org",
    "address": "12 Lý Tự Trọng",
    "consent": "y",
    "locale": "en",
}


def intake_form(client) -> dict:
    html = client.get("/staff/cases/new").get_data(as_text=True)
    [form] = [f for f in page_forms(html) if f["id"] == "intake"]
    return form


def switch_intake(client, tree, form, **changes):
    """Fill in the intake form as for a phone call, then press the header's language button."""
    [button] = form["buttons"]
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    data = {**form["fields"], **INTAKE, "unit": str(tree["26737"].id), "received_on": yesterday,
            button["name"]: button["value"], **changes}  # fmt: skip
    return client.post("/staff/cases/new", data=data), data


def test_the_staff_intake_form_switches_keeps_what_was_typed_and_mails_in_the_chosen_language(
    mailbox, client, staff, tree
):
    login(client, "manager@x.vn")  # the client's browser asks for English
    form = intake_form(client)
    assert form["fields"]["locale"] == "vi" and form["radios"]["locale"] == ["vi", "en"]
    [button] = form["buttons"]
    assert (button["form"], button["value"], button["type"]) == ("intake", "vi", "submit")
    assert "formnovalidate" in button

    response, typed = switch_intake(client, tree, form)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html and "Lưu PAKN" in html
    assert 'role="alert"' not in html and 'class="msg"' not in html  # nothing to correct
    assert cases() == 0 and client.get_cookie("lang").value == "vi"
    assert db.session.get(User, staff["manager"].id).locale == "vi"  # kept on the account
    again = next(f for f in page_forms(html) if f["id"] == "intake")
    for name in (*INTAKE, "unit", "received_on", "key"):
        assert again["fields"][name] == typed[name], name
    assert again["buttons"][0]["value"] == "en"

    # Sent as it is now: one case, whose e-mails to the citizen are in English.
    sent = client.post("/staff/cases/new", data=again["fields"])
    assert sent.status_code == 303 and cases() == 1
    case = db.session.scalar(select(Case))
    assert (case.locale, case.unit.code, case.person.name) == ("en", "26737", "Jane Roe")
    assert mailer.send_due(utcnow() + timedelta(minutes=1)).sent == 1
    _s, recipients, message, _e = mailbox.only()
    assert recipients == ["jane@example.org"] and message["Content-Language"] == "en"
    assert message["Subject"] == f"PAKN {codes.display(case.code)} – Received"


def test_a_case_entered_by_staff_is_in_vietnamese_unless_told(client, staff, tree):
    login(client, "handler@x.vn")
    form = intake_form(client)
    data = {**form["fields"], **INTAKE, "unit": str(tree["26734"].id)}
    data.pop("locale")  # as a page opened before the choice existed sends it
    assert client.post("/staff/cases/new", data=data).status_code == 303
    assert db.session.scalar(select(Case.locale)) == "vi"


def test_an_unknown_language_for_the_citizen_is_refused(client, staff, tree):
    login(client, "handler@x.vn")
    data = {**intake_form(client)["fields"], **INTAKE, "unit": str(tree["26734"].id),
            "locale": "fr"}  # fmt: skip
    response = client.post("/staff/cases/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and cases() == 0
    assert "Choose one of the answers shown." in html
    kept = next(f for f in page_forms(html) if f["id"] == "intake")["fields"]
    assert kept["content"] == INTAKE["content"]


def test_an_expired_intake_form_switches_without_an_error_and_then_says_it_expired(
    client, staff, tree
):
    login(client, "handler@x.vn")
    form = intake_form(client)
    response, _typed = switch_intake(client, tree, form, csrf_token="forged", key="not a key")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'role="alert"' not in html
    kept = next(f for f in page_forms(html) if f["id"] == "intake")["fields"]
    assert kept["content"] == INTAKE["content"] and kept["csrf_token"] != "forged"
    assert len(kept["key"]) == 32 and cases() == 0

    # Sent with the old token, it is kept and said to have expired; with the new one, recorded.
    refused = client.post("/staff/cases/new", data={**kept, "csrf_token": "forged"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Biểu mẫu đã hết hạn" in html and cases() == 0
    assert next(f for f in page_forms(html) if f["id"] == "intake")["fields"]["name"] == "Jane Roe"
    assert client.post("/staff/cases/new", data=kept).status_code == 303 and cases() == 1


def test_the_tracking_code_entry_switches_and_keeps_the_code(client, tree):
    html = client.get("/track").get_data(as_text=True)
    [form] = [f for f in page_forms(html) if f["id"] == "track"]
    [button] = form["buttons"]
    assert (button["form"], button["value"]) == ("track", "vi") and "formnovalidate" in button
    for _ in range(31):  # more than the unknown codes a client may try: none is looked up
        response = client.get(
            form["action"], query_string={"code": "ABCDE-FGHJ", button["name"]: button["value"]}
        )
        assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html and 'role="alert"' not in html
    assert client.get_cookie("lang").value == "vi"
    again = next(f for f in page_forms(html) if f["id"] == "track")
    assert again["fields"]["code"] == "ABCDE-FGHJ" and again["buttons"][0]["value"] == "en"
    # Sent as it is now, the code is looked up.
    looked_up = client.get(again["action"], query_string=again["fields"])
    assert looked_up.status_code == 404 and 'role="alert"' in looked_up.get_data(as_text=True)
