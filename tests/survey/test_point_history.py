"""Who added, renamed and retired which survey point, and when: one history line per change,
through the real forms and the command line, none for a refused form or a change that changes
nothing; shown on the point's page and printed by `points history`."""

from datetime import datetime, timedelta

import pytest
from flask_babel import get_translations
from markupsafe import escape
from sqlalchemy import select

from core.extensions import db
from core.models import Role, User
from survey.history import HISTORY_SIZE
from survey.models import PointEvent, SurveyPoint
from survey.services import add_point
from tests.conftest import FAST_HASH, csrf_for, page_forms, shown_time, signed_in

INSIDE, OUTSIDE = "26734", "26800"  # under the manager's district 760, and under 769


@pytest.fixture
def world(tree, questionnaire):
    """The administrator, the manager of district 760, a handler of commune 26734, and a point
    in that commune added from the command line."""
    db.session.add_all([
        User(email="admin@x.vn", role=Role.ADMIN, password_hash=FAST_HASH),
        User(email="manager@x.vn", role=Role.MANAGER, unit=tree["760"], password_hash=FAST_HASH),
        User(email="handler@x.vn", role=Role.HANDLER, unit=tree[INSIDE], password_hash=FAST_HASH),
    ])  # fmt: skip
    point = add_point(tree[INSIDE], "Quầy 1", actor=None)
    db.session.commit()
    return point.token


def events(token: str | None = None) -> list[tuple]:
    """The history lines, oldest first: point's token, actor (None: command line), action,
    detail; of one point if a token is given."""
    db.session.expire_all()
    query = select(PointEvent).join(PointEvent.point).order_by(PointEvent.id)
    if token:
        query = query.where(SurveyPoint.token == token)
    return [
        (e.point.token, e.actor and e.actor.email, e.action, e.detail)
        for e in db.session.scalars(query)
    ]


def form_at(client, url, action) -> dict:
    html = client.get(url).get_data(as_text=True)
    return next(f for f in page_forms(html) if f["action"] == action)["fields"]


def rename(client, token: str, label: str) -> int:
    """Send the point page's rename form with this label; return the answer's status."""
    url = f"/staff/points/{token}"
    return client.post(url, data=form_at(client, url, url) | {"label": label}).status_code


def history_of(html: str) -> str:
    """The history table of a point's page."""
    return html.rsplit("<h2>", 1)[1].split("</table>")[0]


def vi_says(app, msgid: str) -> str:
    """The message as the Vietnamese catalogue gives it (its msgid until translated)."""
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        return get_translations().gettext(msgid)


# --- what the pages record -------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["admin", "manager"])
def test_adding_renaming_and_retiring_on_the_pages_record_who_did_it(app, world, actor):
    client = signed_in(app, f"{actor}@x.vn")
    email = f"{actor}@x.vn"
    data = form_at(client, "/staff/points/new", "/staff/points/new")
    response = client.post("/staff/points/new", data=data | {"unit": "26737", "label": "Quầy 2"})
    assert response.status_code == 303
    token = response.location.split("#point-")[1]
    assert rename(client, token, " Quầy một cửa 2 ") == 303
    url = f"/staff/points/{token}"
    retired = form_at(client, url, f"{url}/retire") | {"confirm": "y"}
    assert client.post(f"{url}/retire", data=retired).status_code == 303
    assert events(token) == [
        (token, email, "added", "Quầy 2"),
        (token, email, "renamed", "Quầy 2 → Quầy một cửa 2"),
        (token, email, "retired", None),
    ]
    assert events(world) == [(world, None, "added", "Quầy 1")]  # the other point's, untouched


def test_the_new_point_form_sent_twice_records_one_addition(app, world):
    client = signed_in(app, "manager@x.vn")
    data = form_at(client, "/staff/points/new", "/staff/points/new") | {
        "unit": INSIDE, "label": "Quầy 2"
    }  # fmt: skip
    first = client.post("/staff/points/new", data=data)
    second = client.post("/staff/points/new", data=data)
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    token = first.location.split("#point-")[1]
    assert events(token) == [(token, "manager@x.vn", "added", "Quầy 2")]
    assert len(events()) == 2  # with the command line's point of the fixture


def test_refused_forms_and_changes_that_change_nothing_record_nothing(app, world):
    manager, handler = signed_in(app, "manager@x.vn"), signed_in(app, "handler@x.vn")
    url = f"/staff/points/{world}"
    new = form_at(manager, "/staff/points/new", "/staff/points/new")
    token = csrf_for(handler)
    refused = [
        (manager, "/staff/points/new", new | {"unit": INSIDE, "label": ""}, 422),
        (manager, "/staff/points/new", new | {"unit": INSIDE, "label": "Quầy\t2"}, 422),
        (manager, "/staff/points/new", new | {"unit": OUTSIDE, "label": "Quầy 2"}, 422),
        (manager, url, form_at(manager, url, url) | {"label": "Q" * 121}, 422),
        (manager, f"{url}/retire", form_at(manager, url, f"{url}/retire"), 422),  # not ticked
        (handler, url, {"label": "Quầy 9", "csrf_token": token}, 403),
        (handler, f"{url}/retire", {"confirm": "y", "csrf_token": token}, 403),
    ]
    before = events()
    for client, action, data, status in refused:
        assert client.post(action, data=data).status_code == status, (action, data)
    assert events() == before
    # The same label, as it stands or with spaces around it: saved, nothing to record.
    for label in ("Quầy 1", "  Quầy 1 "):
        assert rename(manager, world, label) == 303
    assert events() == before
    # Retired, then sent again from the page opened before: the second records nothing.
    retire = form_at(manager, url, f"{url}/retire") | {"confirm": "y"}
    for _ in range(2):
        assert manager.post(f"{url}/retire", data=retire).status_code == 303
    assert events() == [*before, (world, "manager@x.vn", "retired", None)]


# --- what the command line records and prints ------------------------------------------------


def test_the_command_line_records_its_changes_as_the_command_lines(app, world, runner):
    added = runner.invoke(args=["points", "add", INSIDE, "--label", "Quầy 3"])
    assert added.exit_code == 0, added.output
    token = added.output.split("\t")[0]
    for _ in range(2):  # the second says it was retired already
        assert runner.invoke(args=["points", "retire", token]).exit_code == 0
    refused = runner.invoke(args=["points", "add", INSIDE, "--label", "Quầy\t4"])
    assert refused.exit_code == 1
    assert events(token) == [(token, None, "added", "Quầy 3"), (token, None, "retired", None)]
    assert len(events()) == 3


def test_points_history_prints_the_lines_newest_first_in_vietnam_time(app, world, runner):
    client = signed_in(app, "admin@x.vn")
    assert rename(client, world, "Quầy 1A") == 303
    assert runner.invoke(args=["points", "retire", world]).exit_code == 0
    point = db.session.scalar(select(SurveyPoint).where(SurveyPoint.token == world))
    first = db.session.scalar(select(PointEvent).where(PointEvent.point_id == point.id).limit(1))
    first.at = datetime(2024, 3, 1, 18, 7, 5)  # 2 March, 1:07:05 in Vietnam
    db.session.commit()
    result = runner.invoke(args=["points", "history", world])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines()]
    # As `users history` prints an account's: when, who, action, detail.
    assert [line[1:] for line in lines[:2]] == [
        ["command line", "retired", "-"],
        ["admin@x.vn", "renamed", "Quầy 1 → Quầy 1A"],
    ]
    assert lines[2] == ["2024-03-02 01:07:05", "command line", "added", "Quầy 1"]
    stamp = db.session.scalars(select(PointEvent.at).order_by(PointEvent.id.desc())).first()
    assert lines[0][0] == f"{stamp + timedelta(hours=7):%Y-%m-%d %H:%M:%S}"


def test_points_history_refuses_an_unknown_token(app, world, runner):
    for token in ("unknown", "x" * 41):
        result = runner.invoke(args=["points", "history", token])
        assert result.exit_code == 1 and f"no survey point with token {token}" in result.output
    assert runner.invoke(args=["points", "history"]).exit_code == 2  # no token given
    help_ = runner.invoke(args=["points", "history", "--help"])
    assert help_.exit_code == 0 and "Show who added, renamed and retired" in help_.output


# --- what the point's page shows -------------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_page_shows_the_history_newest_first_in_the_pages_language(app, world, language):
    client = signed_in(app, "manager@x.vn", language=language)
    url = f"/staff/points/{world}"
    assert rename(client, world, "Quầy 1A") == 303
    added = db.session.scalar(select(PointEvent).where(PointEvent.action == "added"))
    added.at = datetime(2024, 3, 1, 18, 7)  # 2 March, 1:07 in Vietnam: another day than UTC's
    db.session.commit()
    table = history_of(client.get(url).get_data(as_text=True))

    def say(msgid: str) -> str:
        return vi_says(app, msgid) if language == "vi" else msgid

    assert table.startswith(say("Change history"))
    when = shown_time(added.at, language)
    assert f"<td>{when}</td><td>{say('command line')}</td>" in table
    assert f"<td>{say('Survey point added')}<br><small>Quầy 1</small></td>" in table
    renamed = f"<td>manager@x.vn</td><td>{say('Survey point renamed')}<br><small>Quầy 1 → Quầy 1A"
    assert renamed in table
    assert table.index(renamed) < table.index(say("Survey point added"))
    if language == "vi":
        assert "Lịch sử thay đổi" in table and "dòng lệnh" in table  # translated already


def test_a_hostile_label_is_shown_escaped_in_the_history(app, world):
    hostile = "<script>alert(1)</script>"
    client = signed_in(app, "admin@x.vn")
    data = form_at(client, "/staff/points/new", "/staff/points/new")
    response = client.post("/staff/points/new", data=data | {"unit": INSIDE, "label": hostile})
    token = response.location.split("#point-")[1]
    url = f"/staff/points/{token}"
    assert rename(client, token, "Quầy <b>2</b>") == 303
    html = client.get(url).get_data(as_text=True)
    assert "<script>" not in html and "<b>2</b>" not in html
    table = history_of(html)
    assert f"<small>{escape(hostile)}</small>" in table
    assert f"<small>{escape(hostile)} → {escape('Quầy <b>2</b>')}</small>" in table


def test_the_page_shows_the_latest_lines_and_says_when_there_are_none(app, world):
    point = db.session.scalar(select(SurveyPoint).where(SurveyPoint.token == world))
    db.session.execute(PointEvent.__table__.delete())
    db.session.commit()
    client = signed_in(app, "admin@x.vn")
    url = f"/staff/points/{world}"
    assert "Nothing recorded yet." in client.get(url).get_data(as_text=True)  # made before 0023
    start = datetime(2026, 3, 2, 1, 7)
    db.session.add_all(
        PointEvent(point=point, action="renamed", detail=f"line {i:02}",
                   at=start + timedelta(minutes=i))
        for i in range(HISTORY_SIZE + 5)
    )  # fmt: skip
    db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert html.count("<small>line ") == HISTORY_SIZE
    assert html.index("line 54") < html.index("line 53") and "line 04" not in html
    assert signed_in(app, "handler@x.vn").get(url).status_code == 403  # as before
