"""The language switch on the PAKN form: a button of the form, so what was typed comes back."""

import io

from sqlalchemy import func, select

from core.extensions import db
from feedback.models import Case, CasePhoto
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


def test_the_staff_intake_form_keeps_the_link(client, staff):
    login(client, "manager@x.vn")
    html = client.get("/staff/cases/new").get_data(as_text=True)
    assert 'name="switch_language"' not in html and 'href="/lang/vi?next=' in html
