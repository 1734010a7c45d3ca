"""The citizen's survey page, filled in and posted as a browser would."""

import json
import re
import unicodedata

from sqlalchemy import func, select

from core.extensions import db
from survey.models import CRITERIA, Response
from survey.questionnaires import DEFAULT_QUESTIONNAIRE, load_questionnaire
from survey.services import (
    add_point,
    retire_point,
)
from tests.conftest import page_forms, thanked


def count_responses():
    return db.session.scalar(select(func.count()).select_from(Response))


def survey_form(client, point, **headers):
    page = client.get(f"/s/{point.token}", headers=headers)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    form = page_forms(html)[-1]
    return html, form


def answer_all(form, value="4", hk="no"):
    data = dict(form["fields"])
    for code in CRITERIA:
        data[code] = value
    data["HK"] = hk
    return data


def test_page_shows_unit_questionnaire_and_scale_in_vietnamese(client, point):
    html, form = survey_form(client, point)
    assert "Phường Bến Nghé" in html
    assert '<html lang="vi">' in html
    assert "sổ hộ khẩu" in html
    for code in CRITERIA:
        assert form["radios"][code] == ["1", "2", "3", "4", "5", "0"]
    assert form["radios"]["HK"] == ["yes", "no"]
    assert html.count("<fieldset") == len(CRITERIA) + 1
    assert html.count("<legend>") == len(CRITERIA) + 1
    assert "Không có ý kiến" in html


def test_english_by_browser_language_and_by_switch(client, point):
    html, _ = survey_form(client, point, **{"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in html
    assert "paper household register" in html
    assert "No opinion" in html

    html, _ = survey_form(client, point, **{"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"})
    assert '<html lang="vi">' in html

    switch = client.get(f"/lang/en?next=/s/{point.token}")
    assert switch.status_code == 302
    assert switch.headers["Location"] == f"/s/{point.token}"
    html, _ = survey_form(client, point, **{"Accept-Language": "vi"})
    assert '<html lang="en">' in html


def test_language_switch_refuses_to_redirect_off_site(client):
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.get("/lang/en", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_submitting_records_one_response_and_thanks(client, point, questionnaire):
    _, form = survey_form(client, point)
    data = answer_all(form)
    data["A1"], data["E2"], data["E3"] = "5", "0", ""
    data["procedure"] = "ho-tich"
    data["comment"] = "  Cán bộ nhiệt tình  "
    response = client.post(form["action"], data=data)
    assert thanked(response)
    assert "Cảm ơn ông/bà!" in response.get_data(as_text=True)

    saved = db.session.scalars(select(Response)).one()
    assert (saved.a1, saved.a2, saved.e2, saved.e3) == (5, 4, 0, None)
    assert saved.hk is False
    assert saved.procedure == "ho-tich"
    assert saved.comment == "Cán bộ nhiệt tình"
    assert saved.channel == "static"
    assert saved.point_id == point.id
    assert saved.unit_id == point.unit_id
    assert saved.questionnaire_id == questionnaire.id


def test_submitting_twice_records_one_response(client, point):
    _, form = survey_form(client, point)
    data = answer_all(form, hk="yes")
    first = client.post(form["action"], data=data)
    again = client.post(form["action"], data=data)
    assert thanked(first) and thanked(again)
    assert count_responses() == 1


def test_two_separate_visits_record_two_responses(client, point):
    for value in ("3", "5"):
        _, form = survey_form(client, point)
        assert thanked(client.post(form["action"], data=answer_all(form, value)))
    assert count_responses() == 2


def test_missing_household_register_answer_keeps_other_answers(client, point):
    _, form = survey_form(client, point)
    data = answer_all(form, value="2")
    del data["HK"]
    data["comment"] = "Chờ lâu"
    response = client.post(form["action"], data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "bắt buộc" in html
    kept = page_forms(html)[-1]["fields"]
    assert all(kept[code] == "2" for code in CRITERIA)
    assert "Chờ lâu" in html
    assert count_responses() == 0


def test_out_of_range_and_hostile_values_are_refused(client, point):
    for bad in ("6", "-1", "4.5", "55", "<script>", "١"):
        _, form = survey_form(client, point)
        data = answer_all(form)
        data["B2"] = bad
        response = client.post(form["action"], data=data)
        assert response.status_code == 422, bad
        assert "<script>" not in response.get_data(as_text=True)
    _, form = survey_form(client, point)
    data = answer_all(form, hk="maybe")
    assert client.post(form["action"], data=data).status_code == 422
    data = answer_all(form)
    data["procedure"] = "not-a-procedure"
    assert client.post(form["action"], data=data).status_code == 422
    # A presence code longer than any the counter screen shows: refused with a word.
    refused = client.post(form["action"], data=answer_all(form) | {"presence": "x" * 41})
    assert refused.status_code == 422 and "Nhập tối đa 40 ký tự" in refused.get_data(as_text=True)
    assert count_responses() == 0


def test_comment_is_escaped_and_bounded(client, point):
    _, form = survey_form(client, point)
    data = answer_all(form)
    data["comment"] = "<b>x</b>" * 200
    response = client.post(form["action"], data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert count_responses() == 0


def test_a_comment_the_textarea_allows_is_accepted(client, point):
    """maxlength counts a line break once; browsers send it as CRLF, stored as one LF."""
    html, form = survey_form(client, point)
    assert 'maxlength="1000"' in html
    lines = ["Chờ lâu quá ở quầy số 1"] * 40  # 23 characters a line, 39 line breaks: 959
    data = answer_all(form) | {"comment": "\r\n".join(lines)}
    assert thanked(client.post(form["action"], data=data))
    saved = db.session.scalars(select(Response.comment)).one()
    assert saved == "\n".join(lines) and len(saved) == 959
    _, form = survey_form(client, point)
    too_long = answer_all(form) | {"comment": "\r\n".join(["x" * 99] * 11)}  # 1,099
    assert client.post(form["action"], data=too_long).status_code == 422
    assert count_responses() == 1


def test_a_comment_is_kept_without_direction_controls(client, point):
    """A right-to-left override would show staff and analysts the comment backwards; accents
    typed as combining marks (NFD) stay as sent."""
    _, form = survey_form(client, point)
    nfd = unicodedata.normalize("NFD", "Cán bộ nhiệt tình")
    data = answer_all(form) | {"comment": f"\u202eSĐT 0912\u2066 345\u2069 678\u200f {nfd}"}
    assert thanked(client.post(form["action"], data=data))
    saved = db.session.scalars(select(Response.comment)).one()
    assert saved == f"SĐT 0912 345 678 {nfd}"


def test_the_comment_box_asks_for_no_name_nor_phone_number_in_each_language(client, point):
    """Decree 13/2023: the survey names no one, and a comment is free text."""
    for language, words in (("vi", "đừng ghi họ tên hay số điện thoại"),
                            ("en", "do not write your name or phone number")):  # fmt: skip
        html = client.get(f"/s/{point.token}", headers={"Accept-Language": language}).text
        note = re.search(r'<p class="note" id="comment-note">([^<]+)</p>', html)
        assert note is not None and words in note[1], language
        assert re.search(r'<textarea id="comment"[^>]* aria-describedby="comment-note"', html)
    # The form sent back with a problem still says it, beside the comment as written.
    _, form = survey_form(client, point)
    data = answer_all(form) | {"comment": "Chờ lâu", "HK": ""}
    html = client.post(form["action"], data=data, headers={"Accept-Language": "vi"}).text
    assert 'id="comment-note"' in html and ">Chờ lâu</textarea>" in html


def test_the_error_summary_names_each_question_in_the_citizens_language(client, point):
    _, form = survey_form(client, point)
    data = answer_all(form) | {"comment": "x" * 1200, "procedure": "không-có", "B2": "9"}
    del data["HK"]
    html = client.post(form["action"], data=data).get_data(as_text=True)
    summary = re.search(r'<div class="error" role="alert" id="errors"[^>]*>(.*?)</div>', html, re.S)
    links = re.findall(r'<a href="#(q-[^"]+)">([^<]+)</a>', summary.group(1))
    assert links == [  # in the page's order
        ("q-HK", "Câu hỏi về sổ hộ khẩu"),
        ("q-B2", "B2"),
        ("q-procedure", "Thủ tục ông/bà đến làm"),
        ("q-comment", "Ý kiến của ông/bà"),
    ]
    for anchor, _label in links:
        assert f'id="{anchor}"' in html
    _, form = survey_form(client, point)
    forged = answer_all(form) | {"key": "not-a-key"}
    html = client.post(form["action"], data=forged).get_data(as_text=True)
    assert "Phiếu không hợp lệ" in html and 'href="#q-key"' not in html


def test_a_pakn_sent_from_the_survey_page_comes_from_the_counter(client, point):
    html, _ = survey_form(client, point)
    link = re.search(r'href="(/pakn/new\?[^"]+)"', html).group(1)
    assert link == f"/pakn/new?point={point.token}"


def test_oversized_body_is_refused(client, point):
    _, form = survey_form(client, point)
    data = answer_all(form)
    data["comment"] = "x" * 100_000
    assert client.post(form["action"], data=data).status_code == 413
    assert count_responses() == 0


def test_forged_or_expired_form_keeps_answers_and_records_nothing(client, point):
    _, form = survey_form(client, point)
    data = answer_all(form, value="3")
    data["csrf_token"] = "forged"
    response = client.post(form["action"], data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "hết hạn" in html
    refreshed = page_forms(html)[-1]["fields"]
    assert refreshed["A1"] == "3" and refreshed["csrf_token"] != "forged"
    assert count_responses() == 0
    # Sending the corrected page again works.
    assert thanked(client.post(form["action"], data=refreshed | {"HK": "no"}))
    assert count_responses() == 1


def test_forged_submission_key_is_refused(client, point):
    _, form = survey_form(client, point)
    data = answer_all(form)
    data["key"] = "' OR 1=1 --"
    refused = client.post(form["action"], data=data)
    assert refused.status_code == 422
    assert count_responses() == 0
    # The page kept the answers under a new key: sent again, it is recorded once.
    again = page_forms(refused.get_data(as_text=True))[-1]["fields"]
    assert re.fullmatch(r"[0-9a-f]{32}", again["key"]) and again["A1"] == "4"
    assert thanked(client.post(form["action"], data=again | {"HK": "no"}))
    assert count_responses() == 1


def test_unknown_and_retired_tokens(client, point):
    response = client.get("/s/not-a-real-token")
    assert response.status_code == 404
    assert "quét" in response.get_data(as_text=True).lower()
    _, form = survey_form(client, point)
    retire_point(point, actor=None)
    db.session.commit()
    gone = client.get(f"/s/{point.token}", headers={"Accept-Language": "en"})
    assert gone.status_code == 410
    assert "no longer in use" in gone.get_data(as_text=True)
    assert client.post(form["action"], data=answer_all(form)).status_code == 410
    assert count_responses() == 0


def test_page_weight_and_headers(client, point):
    page = client.get(f"/s/{point.token}")
    css = client.get("/static/style.css")
    total = len(page.data) + len(css.data)
    assert total <= 30 * 1024, total
    assert not re.search(
        r"<script|<img|@font-face|url\(", page.get_data(as_text=True) + css.get_data(as_text=True)
    )
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    css.close()


# --- what is rendered once and kept: each page must still be right for its request ------------


def test_fresh_forms_get_their_own_key_and_token_around_the_kept_questions(
    app, client, point, tree
):
    other = add_point(tree["26800"], "Quầy A", actor=None)
    db.session.commit()
    first, second = client, app.test_client()  # two phones
    html_a, form_a = survey_form(first, point)
    html_b, form_b = survey_form(second, other, **{"Accept-Language": "vi"})
    assert form_a["fields"]["key"] != form_b["fields"]["key"]
    assert form_a["fields"]["csrf_token"] != form_b["fields"]["csrf_token"]
    assert "<h1>Phường Bến Nghé</h1>" in html_a and "<h1>Phường Thảo Điền</h1>" in html_b
    assert form_b["action"] == f"/s/{other.token}"
    _, again = survey_form(first, point)
    assert again["fields"]["key"] != form_a["fields"]["key"]
    presence = first.get(f"/s/{point.token}?c=ABC123").get_data(as_text=True)
    assert page_forms(presence)[-1]["fields"]["presence"] == "ABC123"
    assert "presence" not in form_a["fields"]


def test_new_questionnaire_version_replaces_the_kept_form(client, point, questionnaire, tmp_path):
    html_vi, old_form = survey_form(client, point)
    html_en, _ = survey_form(client, point, **{"Accept-Language": "en"})
    assert 'name="E3"' in html_vi and 'name="E3"' in html_en
    data = json.loads(DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8"))
    data["elements"][0]["criteria"][0]["text"]["vi"] = "Thông tin thủ tục rõ ràng"
    data["elements"][4]["criteria"].pop()  # drop E3
    changed = tmp_path / "q.json"
    changed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    version_2, new = load_questionnaire(changed)
    db.session.commit()
    assert new

    html_vi, form = survey_form(client, point)
    html_en, _ = survey_form(client, point, **{"Accept-Language": "en"})
    assert "Thông tin thủ tục rõ ràng" in html_vi and 'name="E3"' not in html_vi
    assert 'name="E3"' not in html_en
    assert thanked(client.post(form["action"], data=answer_all(form)))
    # A page fetched before the change is recorded under the version current when it is sent.
    assert thanked(client.post(old_form["action"], data=answer_all(old_form, "2")))
    saved = db.session.scalars(select(Response).order_by(Response.id)).all()
    assert [r.questionnaire_id for r in saved] == [version_2.id, version_2.id]
    assert saved[1].a1 == 2 and saved[1].e3 is None


def test_thank_you_page_is_in_each_language(client, point):
    thanks = f"/s/{point.token}/thanks"
    assert "Cảm ơn" in client.get(thanks).get_data(as_text=True)
    english = client.get(thanks, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Thank you" in english and "Cảm ơn" not in english
    assert "Cảm ơn" in client.get(thanks, headers={"Accept-Language": "vi"}).get_data(as_text=True)
    client.set_cookie("lang", "en")
    assert "Thank you" in client.get(thanks).get_data(as_text=True)


def test_thank_you_page_follows_the_point(client, point):
    thanks = f"/s/{point.token}/thanks"
    assert "Phường Bến Nghé" in client.get(thanks).get_data(as_text=True)
    point.unit.name = "Phường Bến Nghé mới"
    db.session.commit()
    assert "Phường Bến Nghé mới" in client.get(thanks).get_data(as_text=True)
    with client.session_transaction() as session:
        session["_flashes"] = [("ok", "Một thông báo đang chờ")]
    assert "Một thông báo đang chờ" in client.get(thanks).get_data(as_text=True)
    retire_point(point, actor=None)
    db.session.commit()
    assert client.get(thanks).status_code == 410


def test_a_citizen_gets_no_session_cookie(client, point):
    """Citizens have no account, and the survey form's token is signed without a session: no
    session cookie on the form, on a refused or a recorded answer, or on the thank-you page."""
    page = client.get(f"/s/{point.token}")
    form = page_forms(page.get_data(as_text=True))[-1]
    refused = client.post(form["action"], data=form["fields"])  # HK unanswered
    posted = client.post(form["action"], data=answer_all(form))
    thanks = client.get(f"/s/{point.token}/thanks")
    assert refused.status_code == 422 and thanked(posted) and thanks.status_code == 200
    for response in (page, refused, posted, thanks):
        cookies = response.headers.getlist("Set-Cookie")
        assert not [c for c in cookies if c.startswith("session=")], cookies


def test_a_token_works_for_its_own_form_only(client, point):
    # Each form's token signs its own key: one copied onto another form, or onto the same form
    # with its key changed, is refused as an expired form would be, and nothing is recorded.
    _, first = survey_form(client, point)
    _, second = survey_form(client, point)
    swapped = answer_all(first) | {"csrf_token": second["fields"]["csrf_token"]}
    refused = client.post(first["action"], data=swapped)
    assert refused.status_code == 422 and "hết hạn" in refused.get_data(as_text=True)
    rekeyed = answer_all(second) | {"key": first["fields"]["key"]}
    assert client.post(second["action"], data=rekeyed).status_code == 422
    assert count_responses() == 0
    assert thanked(client.post(second["action"], data=answer_all(second)))
    assert count_responses() == 1
