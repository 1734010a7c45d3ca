"""A point of a unit closed from its day on is out of use in every list at once, before any
units import retires it, and reading a list writes nothing."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import local_today
from survey.models import PointEvent, SurveyPoint
from survey.services import active_points_by_unit, add_point
from tests.conftest import signed_in

CLOSING = "26737"  # Phường Đa Kao


@pytest.fixture
def points(app, tree, questionnaire, make_user):
    """A counter of the closing ward and one of its open sibling, and an administrator."""
    make_user("admin@x.vn", "admin")
    made = {
        code: add_point(tree[code], f"Quầy {code}", actor=None).token for code in (CLOSING, "26734")
    }
    db.session.commit()
    return made


def close(unit, days_from_today: int):
    unit.closed_on = local_today() + timedelta(days=days_from_today)
    db.session.commit()
    return unit.closed_on


def listed(runner) -> dict[str, list[str]]:
    result = runner.invoke(args=["points", "list"])
    assert result.exit_code == 0, result.output
    return {line.split("\t")[0]: line.split("\t")[5:] for line in result.output.splitlines()}


def point_rows(html: str) -> dict[str, str]:
    """The points page's rows by token."""
    rows = html.split('<tr id="point-')[1:]
    return {row.split('"', 1)[0]: row.split("</tr>", 1)[0] for row in rows}


def stored_state() -> list[tuple]:
    """What a reading must not change: each point's state and the points' history."""
    db.session.expire_all()
    states = db.session.execute(
        select(SurveyPoint.token, SurveyPoint.active, SurveyPoint.retired_at)
    )
    return [*sorted(states), db.session.scalar(select(func.count()).select_from(PointEvent))]


def test_the_command_lists_a_point_as_closed_from_its_units_closing_day(
    app, tree, points, runner, tmp_path
):
    close(tree[CLOSING], 1)
    assert listed(runner)[points[CLOSING]] == ["active", ""]
    day = close(tree[CLOSING], 0)
    before = stored_state()
    assert listed(runner)[points[CLOSING]] == ["closed", f"{day:%Y-%m-%d}"]
    assert listed(runner)[points["26734"]] == ["active", ""]  # its sibling, open
    assert stored_state() == before  # nothing written: the next units import retires it
    # That import retires it, as before: the list then gives the day it was retired.
    csv = tmp_path / "units.csv"
    csv.write_text("code,name,level,parent_code\n79,Thành phố Hồ Chí Minh,Tỉnh,\n")
    assert runner.invoke(args=["units", "import", str(csv)]).exit_code == 0
    assert listed(runner)[points[CLOSING]] == ["retired", f"{local_today():%Y-%m-%d}"]


@pytest.mark.parametrize(
    ("language", "said"),
    [("en", "(not in use from {day:%-d %b %Y}: its unit closed)"),
     ("vi", "(không còn sử dụng từ {day:%-d/%-m/%Y} vì đơn vị đã ngừng hoạt động)")],
)  # fmt: skip
def test_the_back_office_shows_it_out_of_use_without_posters(app, tree, points, language, said):
    admin = signed_in(app, "admin@x.vn", language=language)
    closing = points[CLOSING]
    day = close(tree[CLOSING], 1)
    rows = point_rows(admin.get("/staff/").get_data(as_text=True))
    assert "poster.pdf" in rows[closing] and said.format(day=day) not in rows[closing]
    day = close(tree[CLOSING], 0)
    before = stored_state()
    rows = point_rows(admin.get("/staff/").get_data(as_text=True))
    assert said.format(day=day) in rows[closing]
    assert "poster.pdf" not in rows[closing] and "/display" not in rows[closing]
    assert "poster.pdf" in rows[points["26734"]]  # its open sibling's
    page = admin.get(f"/staff/points/{closing}").get_data(as_text=True)
    status = said.format(day=day)[1:-1]
    assert f"<dd>{status}</dd>" in page
    for url in (f"/staff/points/{closing}/poster.pdf", f"/staff/points/{closing}/display"):
        assert admin.get(url).status_code == 410, url
    assert admin.get(f"/staff/points/{points['26734']}/poster.svg").status_code == 200
    assert stored_state() == before


def test_the_unit_trees_count_of_points_in_use_leaves_it_out(app, tree, points):
    close(tree[CLOSING], 1)
    assert active_points_by_unit(None)[tree[CLOSING].id] == 1
    close(tree[CLOSING], 0)
    counted = active_points_by_unit(tree["760"])
    assert tree[CLOSING].id not in counted and counted[tree["26734"].id] == 1
