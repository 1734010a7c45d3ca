"""Survey points from the CLI, and questionnaire versions."""

import json
from datetime import datetime

import pytest
from sqlalchemy import func, select

from core.extensions import db
from survey import services
from survey.forms import SurveyForm
from survey.models import PointEvent, Questionnaire, SurveyPoint
from survey.questionnaires import DEFAULT_QUESTIONNAIRE, current_questionnaire
from survey.tokens import new_token


def test_points_add_and_list(runner, tree):
    result = runner.invoke(args=["points", "add", "26734", "--label", "Quầy 1"])
    assert result.exit_code == 0, result.output
    token, url = result.output.strip().split("\t")
    assert url == f"http://survey.test/s/{token}"
    assert len(token) == 19 and token.count("-") == 3
    runner.invoke(args=["points", "add", "26800", "--label", "Quầy A"])

    listed = runner.invoke(args=["points", "list"]).output.strip().splitlines()
    assert len(listed) == 2
    district = runner.invoke(args=["points", "list", "760"]).output.strip().splitlines()
    assert len(district) == 1 and district[0].startswith(token) and "Phường Bến Nghé" in district[0]


def test_a_label_with_a_line_break_tab_or_hidden_character_is_refused(runner, tree):
    for label in ("Quầy\n1", "Quầy\t1", "Quầy \u202e1"):  # the last reverses what follows
        result = runner.invoke(args=["points", "add", "26734", "--label", label])
        assert result.exit_code != 0 and "invisible characters" in result.output, label
    assert runner.invoke(args=["points", "list"]).output == ""


# The labels the back office's forms refuse (tests/survey/test_staff_points_manage.py).
REFUSED = ["", "   ", "Q" * 121, "Quầy\t1", "Quầy 1\n", "Quầy\u200b1", "Quầy \u202e1", "\u2066"]


@pytest.mark.parametrize("label", REFUSED)
def test_the_service_refuses_what_the_forms_refuse(tree, label):
    """Whoever calls it (a form, the command line, a script), no point is added or renamed to
    a label nobody could tell apart, and no line of history says it was."""
    kept = services.add_point(tree["26734"], "Quầy 1", actor=None)
    db.session.commit()
    calls = [
        lambda: services.add_point(tree["26734"], label, actor=None),
        lambda: services.add_point_once(tree["26734"], label, "k" * 32, "secret", actor=None),
        lambda: services.rename_point(kept, label, actor=None),
    ]
    for call in calls:
        with pytest.raises(services.PointLabelError, match="the label must"):
            call()
    db.session.flush()
    assert db.session.scalars(select(SurveyPoint.label)).all() == ["Quầy 1"]
    assert db.session.scalar(select(func.count()).select_from(PointEvent)) == 1  # its adding


def test_the_service_takes_a_label_the_forms_take(tree):
    point = services.add_point(tree["26734"], "  Quầy 120 ký tự" + "x" * 104, actor=None)
    assert point.label == "Quầy 120 ký tự" + "x" * 104
    services.rename_point(point, " Quầy 2 ", actor=None)
    assert point.label == "Quầy 2"


def test_tokens_are_unguessable_and_distinct(runner, tree):
    tokens = set()
    for i in range(50):
        tokens.add(
            runner.invoke(args=["points", "add", "26734", "--label", f"Q{i}"]).output.split("\t")[0]
        )
    assert len(tokens) == 50
    assert all(len(t.replace("-", "")) == 16 for t in tokens)


def test_points_errors(runner, tree):
    result = runner.invoke(args=["points", "add", "00000", "--label", "X"])
    assert result.exit_code != 0 and "no unit with code 00000" in result.output
    result = runner.invoke(args=["points", "add", "26734", "--label", "  "])
    assert result.exit_code != 0
    result = runner.invoke(args=["points", "add", "26734"])
    assert result.exit_code != 0 and "--label" in result.output
    assert db.session.scalar(select(func.count()).select_from(SurveyPoint)) == 0


def test_tokens_never_look_like_command_line_options():
    tokens = {new_token() for _ in range(5000)}  # one in 64 started with "-" before
    assert len(tokens) == 5000
    assert not any(t.startswith("-") for t in tokens)


def test_retire_point(runner, client, point):
    result = runner.invoke(args=["points", "retire", point.token])
    assert result.exit_code == 0, result.output
    assert client.get(f"/s/{point.token}").status_code == 410
    listed = runner.invoke(args=["points", "list"]).output
    assert "retired" in listed


def test_retiring_a_retired_point_keeps_the_day_it_was_retired(runner, point):
    runner.invoke(args=["points", "retire", point.token])
    first = db.session.scalar(select(SurveyPoint.retired_at))
    again = runner.invoke(args=["points", "retire", point.token])
    assert again.exit_code == 0, again.output
    assert "already retired" in again.output
    assert db.session.scalar(select(SurveyPoint.retired_at)) == first


# Vietnam is UTC+7: its day turns at 17:00 UTC, so the UTC date of a retirement in the evening
# is the day before the one the unit's staff saw.
NEAR_MIDNIGHT = [
    (datetime(2024, 12, 3, 16, 59), "2024-12-03"),
    (datetime(2024, 12, 3, 17, 0), "2024-12-04"),
    (datetime(2024, 12, 3, 20, 0), "2024-12-04"),
]


def state_columns(runner) -> list[str]:
    """The last columns `points list` gives the only point: its state, the day it was retired."""
    return runner.invoke(args=["points", "list"]).output.rstrip("\n").split("\t")[5:]


@pytest.mark.parametrize(("now", "day"), NEAR_MIDNIGHT)
def test_list_and_retire_give_the_day_of_retirement_in_vietnam(
    runner, point, monkeypatch, now, day
):
    assert state_columns(runner) == ["active", ""]
    monkeypatch.setattr(services, "utcnow", lambda: now)
    assert runner.invoke(args=["points", "retire", point.token]).exit_code == 0
    assert state_columns(runner) == ["retired", day]
    again = runner.invoke(args=["points", "retire", point.token])
    assert again.output == f"Quầy 1 of Phường Bến Nghé was already retired on {day}.\n"


def test_changed_questionnaire_makes_a_new_version(
    app, runner, questionnaire, tmp_path, point, client
):
    unchanged = runner.invoke(args=["questionnaire", "load"])
    assert "Unchanged: version 1" in unchanged.output
    data = json.loads(DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8"))
    data["elements"][0]["criteria"][0]["text"]["vi"] = "Thông tin thủ tục rõ ràng"
    data["elements"][4]["criteria"].pop()  # drop E3
    changed = tmp_path / "q.json"
    changed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["questionnaire", "load", str(changed)])
    assert result.exit_code == 0 and "New version 2" in result.output

    assert current_questionnaire().version == 2
    old = db.session.get(Questionnaire, questionnaire.id)
    assert "Thông tin về thủ tục" in old.definition  # version 1 never changes
    html = client.get(f"/s/{point.token}").get_data(as_text=True)
    assert "Thông tin thủ tục rõ ràng" in html and 'name="E3"' not in html
    with app.test_request_context():
        assert "E3" not in SurveyForm(current_questionnaire(), {}).criterion_codes


def test_bad_questionnaire_files_are_refused(runner, questionnaire, tmp_path):
    data = json.loads(DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8"))
    cases = {
        "unknown criterion": lambda d: d["elements"][0]["criteria"].append(
            {"code": "Z9", "text": {"vi": "x", "en": "x"}}
        ),
        "missing English": lambda d: d["elements"][1]["criteria"][0]["text"].pop("en"),
        "duplicate": lambda d: d["elements"][0]["criteria"].append(d["elements"][0]["criteria"][0]),
        "no elements": lambda d: d["elements"].clear(),
        "an element not an object": lambda d: d["elements"].append("E"),
        "a criterion not an object": lambda d: d["elements"][2]["criteria"].append(["C9"]),
        "procedures not a list": lambda d: d.update(procedures={"code": "x"}),
        "a procedure not an object": lambda d: d["procedures"].append(None),
    }
    for name, damage in cases.items():
        broken = json.loads(json.dumps(data))
        damage(broken)
        path = tmp_path / "q.json"
        path.write_text(json.dumps(broken), encoding="utf-8")
        result = runner.invoke(args=["questionnaire", "load", str(path)])
        assert result.exit_code != 0, name
        assert "questionnaire not loaded" in result.output, (name, result.exception)
    (tmp_path / "q.json").write_bytes(b"\xff\xfe{")
    assert runner.invoke(args=["questionnaire", "load", str(tmp_path / "q.json")]).exit_code != 0
    assert current_questionnaire().version == 1
