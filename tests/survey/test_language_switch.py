"""The language switch on the survey page and the receipt code entry: a button of the form, so
what was typed comes back."""

import re
import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from core.extensions import db
from survey.forms import FORM_TOKEN_SALT
from survey.integrity import issue_receipts
from tests.conftest import page_forms, thanked
from tests.survey.test_survey_page import count_responses, survey_form

ANSWERS = {"HK": "yes", "A1": "5", "B2": "0", "C3": "2", "comment": "Cán bộ <b>tận tình</b>\r\n."}


def switch_button(form) -> dict:
    [button] = [b for b in form["buttons"] if b["name"] == "switch_language"]
    return button


def switch(client, form, **changes):
    """Press the header's language button of the form, after answering part of it."""
    button = switch_button(form)
    data = {**form["fields"], **ANSWERS, button["name"]: button["value"], **changes}
    return client.post(form["action"], data=data)


def assert_kept(form):
    fields = form["fields"]
    for name, value in ANSWERS.items():
        # The textarea's line break comes back as one "\n", as the comment is stored.
        assert fields[name] == value.replace("\r\n", "\n"), name
    assert "A2" not in fields and fields["procedure"] == ""  # unanswered stays unanswered


def test_the_switch_is_a_button_of_the_survey_form(client, point):
    html, form = survey_form(client, point)
    button = switch_button(form)
    assert form["id"] == "survey"
    assert (button["value"], button["type"], button["lang"]) == ("en", "submit", "en")
    assert "formnovalidate" in button
    assert re.search(r'<button class="lang"[^>]*>English</button>', html)
    assert "/lang/en" not in html  # no link that would lose the answers


def test_switching_keeps_the_answers_records_nothing_and_sets_the_cookie(client, point):
    _, form = survey_form(client, point)
    response = switch(client, form)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html and "paper household register" in html
    assert 'role="alert"' not in html and 'class="msg"' not in html  # nothing to correct
    assert count_responses() == 0
    cookie = client.get_cookie("lang")
    assert cookie is not None and cookie.value == "en"
    assert "lang=en" in response.headers["Set-Cookie"] and "Max-Age=31536000" in str(
        response.headers.getlist("Set-Cookie")
    )
    again = page_forms(html)[-1]
    assert_kept(again)
    assert again["fields"]["key"] == form["fields"]["key"]  # the same one-time key
    assert switch_button(again)["value"] == "vi"
    assert re.search(r'<button class="lang"[^>]*lang="vi">Tiếng Việt</button>', html)

    # Back to Vietnamese, still kept; then sent as it is, it is recorded once.
    back = switch(client, again, **again["fields"])
    html = back.get_data(as_text=True)
    assert back.status_code == 200 and '<html lang="vi">' in html and "sổ hộ khẩu" in html
    assert client.get_cookie("lang").value == "vi"
    kept = page_forms(html)[-1]
    assert_kept(kept)
    assert count_responses() == 0
    assert thanked(client.post(kept["action"], data=kept["fields"]))
    assert count_responses() == 1


class _TwoDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 2 * 86400


def expired_token(client) -> str:
    """The page's CSRF token as it was signed two days ago."""
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    signer = URLSafeTimedSerializer(
        client.application.secret_key, salt="wtf-csrf-token", signer=_TwoDaysAgo
    )
    return signer.dumps(raw)


def expired_form_token(client, key: str) -> str:
    """A survey form's token for its key as it was signed two days ago."""
    return _TwoDaysAgo(client.application.secret_key, salt=FORM_TOKEN_SALT).sign(key).decode()


@pytest.mark.parametrize("token", ["expired", "forged", "other-key"],
                         ids=["expired-token", "forged-token", "another-forms-token"])  # fmt: skip
def test_an_expired_form_switches_without_an_error_and_with_a_fresh_token(client, point, token):
    _, form = survey_form(client, point)
    if token == "other-key":  # a token taken from another form
        token = survey_form(client, point)[1]["fields"]["csrf_token"]
    elif token == "expired":
        token = expired_form_token(client, form["fields"]["key"])
        sent = client.post(form["action"], data={**form["fields"], **ANSWERS, "csrf_token": token})
        assert sent.status_code == 422 and "hết hạn" in sent.get_data(as_text=True)
    response = switch(client, form, csrf_token=token)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="en">' in html
    assert "expired" not in html and 'role="alert"' not in html
    again = page_forms(html)[-1]
    assert_kept(again)
    assert again["fields"]["csrf_token"] not in ("", "forged", token)
    assert count_responses() == 0
    # The fresh token works: the form is recorded.
    assert thanked(client.post(again["action"], data=again["fields"]))
    assert count_responses() == 1


def test_a_switch_with_an_unknown_language_is_an_ordinary_submission(client, point):
    _, form = survey_form(client, point)
    response = switch(client, form, switch_language="fr", HK="")
    assert response.status_code == 422  # checked as a submission: HK is required
    assert client.get_cookie("lang") is None and count_responses() == 0


def test_the_receipt_survey_switches_and_keeps_the_answers(client, tree, questionnaire):
    # Issued for no procedure, so that the page asks what the citizen came for.
    receipt = issue_receipts(tree["26737"], 1, timedelta(days=30), None, issued_by=None)[0]
    db.session.commit()
    page = client.get(f"/r/{receipt.code}").get_data(as_text=True)
    form = page_forms(page)[-1]
    assert form["id"] == "survey"
    response = switch(client, form)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html and client.get_cookie("lang").value == "en"
    again = page_forms(html)[-1]
    assert_kept(again)
    assert again["action"] == f"/r/{receipt.code}"
    db.session.refresh(receipt)
    assert receipt.used_at is None and count_responses() == 0


def test_other_pages_keep_the_switch_as_a_link(client, point):
    html = client.get(f"/s/{point.token}/thanks").get_data(as_text=True)
    assert f'href="/lang/en?next=/s/{point.token}/thanks"' in html
    assert 'name="switch_language"' not in html


@pytest.mark.parametrize("token", ["expired", "forged", None],
                         ids=["expired-token", "forged-token", "no-session"])  # fmt: skip
def test_the_receipt_code_entry_switches_and_keeps_the_code(client, tree, token):
    receipt = issue_receipts(tree["26737"], 1, timedelta(days=30), "ho-tich", issued_by=None)[0]
    db.session.commit()
    [form] = [f for f in page_forms(client.get("/r").get_data(as_text=True)) if f["id"]]
    button = switch_button(form)
    assert (button["form"], button["value"]) == ("receipt", "en") and "formnovalidate" in button
    if token is None:
        client.delete_cookie("session")
    elif token == "expired":
        token = expired_token(client)
    typed = receipt.code.lower().replace("-", " ")
    data = {**form["fields"], "code": typed, button["name"]: button["value"]}
    if token:
        data["csrf_token"] = token
    response = client.post(form["action"], data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="en">' in html
    assert "expired" not in html and 'role="alert"' not in html
    assert client.get_cookie("lang").value == "en"
    again = next(f for f in page_forms(html) if f["id"] == "receipt")
    assert again["fields"]["code"] == typed and again["fields"]["csrf_token"] != token
    db.session.refresh(receipt)
    assert receipt.used_at is None
    # Sent as it is now, the code leads to its survey.
    sent = client.post(again["action"], data=again["fields"])
    assert sent.status_code == 302 and sent.headers["Location"] == f"/r/{receipt.code}"


def test_the_receipt_code_entry_still_refuses_a_forged_form(client, tree):
    response = client.post("/r", data={"code": "ABCD-EFGH-JKMN", "csrf_token": "forged"})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn hoặc không được gửi từ trang này" in response.get_data(as_text=True)
