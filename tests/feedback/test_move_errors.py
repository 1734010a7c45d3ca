"""Each move's form on the case page says what to fix beside the field, and keeps what was typed."""

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from core.extensions import db
from feedback.models import Case, CaseEvent
from feedback.services import apply_action
from feedback.workflow import Action
from tests.conftest import login, page_forms

LONG = "x" * 4001
REQUIRED_NOTE = "Please write a note: it is required for this action."
TOO_LONG = "Write at most 4000 characters."
HANDLER = "the handler's id"


def _received(case, user):
    return case


def _classified(outcome):
    def setup(case, user):
        apply_action(case, Action.CLASSIFY, user, case.version, outcome=outcome)
        db.session.commit()
        return case

    return setup


def _in_progress(case, user):
    _classified("competent")(case, user)
    apply_action(case, Action.ASSIGN, user, case.version)
    db.session.commit()
    return case


def _answered(case, user):
    _in_progress(case, user)
    apply_action(case, Action.ANSWER, user, case.version, answer="Đã hoàn trả phí.")
    db.session.commit()
    return case


# (the case's state, the move, what is typed, the field at fault, its message)
CASES = [
    (_received, "classify", {"outcome": ""}, "outcome", "Choose how the case is classified."),
    (_received, "classify", {"outcome": "everything"}, "outcome",
     "Choose one of the answers shown."),
    (_received, "classify", {"outcome": "competent", "note": LONG}, "note", TOO_LONG),
    (_received, "reject", {"note": "  \r\n "}, "note", REQUIRED_NOTE),
    (_received, "reject", {"note": LONG}, "note", TOO_LONG),
    (_classified("competent"), "assign", {"unit": "99999"}, "unit", "No unit has this code."),
    (_classified("competent"), "assign", {"unit": "7" * 21}, "unit",
     "Write at most 20 characters."),
    (_classified("competent"), "assign", {"handler": "424242"}, "handler",
     "Choose one of the answers shown."),
    (_classified("competent"), "assign", {"unit": "26800"}, "unit",
     "You can only assign to units in your scope."),
    # The handler works in commune 26734, not in district 760 itself.
    (_classified("competent"), "assign", {"unit": "760", "handler": HANDLER}, "handler",
     "The handler must be a staff member of that unit."),
    (_classified("outside"), "transfer", {"unit": ""}, "unit",
     "Choose the competent unit to transfer the case to."),
    (_classified("outside"), "transfer", {"unit": "7" * 21}, "unit",
     "Write at most 20 characters."),
    (_classified("outside"), "forward", {"agency": "   "}, "agency",
     "Name the competent agency (200 characters at most)."),
    (_classified("outside"), "forward", {"agency": "Sở " + "x" * 200}, "agency",
     "Write at most 200 characters."),
    (_in_progress, "answer", {"answer": " \n "}, "answer", "Write the answer."),
    (_in_progress, "answer", {"answer": LONG}, "answer", TOO_LONG),
    (_answered, "publish", {"summary": "  "}, "summary",
     "Write the summary to publish, without personal data."),
    (_answered, "publish", {"summary": LONG}, "summary", TOO_LONG),
    (_answered, "publish", {"published_answer": LONG}, "published_answer", TOO_LONG),
    (_answered, "close", {"note": LONG}, "note", TOO_LONG),
    (_answered, "reopen", {"note": ""}, "note", REQUIRED_NOTE),
    (_answered, "reopen", {"note": LONG}, "note", TOO_LONG),
    (_in_progress, "comment", {"note": " "}, "note", REQUIRED_NOTE),
    (_in_progress, "comment", {"note": LONG}, "note", TOO_LONG),
]  # fmt: skip


def _id(case):
    setup, action, typed, field, _message = case
    what = "long" if any(len(v) > 20 for v in typed.values()) else "missing-or-wrong"
    return f"{action}-{field}-{what}-{setup.__name__.strip('_')}"


@pytest.mark.parametrize(("setup", "action", "typed", "field", "message"), CASES,
                         ids=[_id(c) for c in CASES])  # fmt: skip
def test_a_move_refused_says_why_beside_the_field_and_keeps_what_was_typed(
    client, staff, make_case, setup, action, typed, field, message
):
    case = setup(make_case(), staff["manager"])
    state, events = case.state, db.session.scalar(select(func.count()).select_from(CaseEvent))
    login(client, "manager@x.vn")
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    form = next(f for f in page_forms(page) if f["fields"].get("action") == action)
    typed = {"note": "Ghi chú của cán bộ.", **typed} if field != "note" else typed
    if typed.get("handler") == HANDLER:
        typed["handler"] = str(staff["handler"].id)
    response = client.post(f"/staff/cases/{case.id}", data={**form["fields"], **typed})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # The page opens on the summary (autofocus), whose link takes the keyboard to the field.
    summary = re.search(
        r'<div class="error" role="alert" id="errors"([^>]*)>(.*?)</div>', html, re.S
    )
    assert "autofocus" in summary[1] and "The form has problems: see below." in summary[2]
    assert re.findall(r'<a href="#([^"]+)">', summary[2]) == [f"{field}-{action}"]
    error_id = f"e-{field}-{action}-1"
    assert f'<p class="msg" id="{error_id}">{message}</p>' in html
    control = re.search(rf'<(?:input|select|textarea)[^>]* id="{field}-{action}"[^>]*>', html)
    assert f'aria-invalid="true" aria-describedby="{error_id}"' in control.group(0)
    assert html.count('aria-invalid="true"') == 1  # the other moves' forms are untouched
    kept = next(f for f in page_forms(html) if f["fields"].get("action") == action)["fields"]
    for name, value in typed.items():
        offered = name not in ("outcome", "handler") or f'<option value="{value}"' in page
        if offered:  # a choice the page does not offer cannot be shown chosen
            assert kept[name] == value, name  # what was typed or chosen, not the page's default
    assert '<details class="act" open><summary>' in html.split(f'value="{action}"')[0][-300:]
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == state
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == events


def test_a_field_with_errors_and_a_note_has_one_aria_describedby_naming_both(app):
    """Two aria-describedby attributes on one element are invalid HTML; the second is lost."""
    fields = app.jinja_env.get_template("feedback/_fields.html").module
    with app.test_request_context():
        both = str(fields.described(SimpleNamespace(id="photos", errors=["a", "b"]), "again"))
        note_only = str(fields.described(SimpleNamespace(id="photos", errors=[]), "again"))
        errors_only = str(fields.described(SimpleNamespace(id="photos", errors=["a"])))
        neither = str(fields.described(SimpleNamespace(id="photos", errors=[])))
    assert both == ' aria-invalid="true" aria-describedby="e-photos-1 e-photos-2 again"'
    assert note_only == ' aria-describedby="again"'
    assert errors_only == ' aria-invalid="true" aria-describedby="e-photos-1"'
    assert neither == ""
