"""Closing units by the units file's closed_on column: checks, history, retired points."""

from datetime import timedelta

from sqlalchemy import func, select

from core.extensions import db
from core.models import Unit, local_today
from survey.models import PointEvent, SurveyPoint
from survey.services import add_point

TREE = """code,name,level,parent_code
79,Thành phố Hồ Chí Minh,Tỉnh,
760,Quận 1,Quận,79
26734,Phường Bến Nghé,Phường,760
26737,Phường Đa Kao,Phường,760
"""
# 1/7/2025: the district and its communes close; a new ward takes their work, under the province.
MERGER = """code,name,level,parent_code,closed_on
760,Quận 1,Quận,79,2025-07-01
26734,Phường Bến Nghé,Phường,760,2025-07-01
26737,Phường Đa Kao,Phường,760,2025-07-01
26740,Phường Sài Gòn,Phường,79,
"""


def run_import(runner, tmp_path, text):
    path = tmp_path / "units.csv"
    path.write_text(text, encoding="utf-8")
    return runner.invoke(args=["units", "import", str(path)])


def closed_on():
    return dict(db.session.execute(select(Unit.code, Unit.closed_on)).all())


def test_a_merger_closes_the_units_and_their_history_says_so(runner, tmp_path):
    assert run_import(runner, tmp_path, TREE).exit_code == 0
    result = run_import(runner, tmp_path, MERGER)
    assert result.exit_code == 0, result.output
    assert "Imported 4 units: 1 new, 3 changed, 0 unchanged." in result.output
    days = closed_on()
    assert str(days["760"]) == str(days["26734"]) == "2025-07-01"
    assert days["79"] is None and days["26740"] is None
    history = runner.invoke(args=["units", "history", "26734"]).output
    assert "closed_on: - → 2025-07-01" in history
    # A unit added open says nothing of a closing day; one added closed says which.
    added = runner.invoke(args=["units", "history", "26740"]).output
    assert "added" in added and "closed_on" not in added


def test_a_file_without_the_column_keeps_the_closing_days(runner, tmp_path):
    run_import(runner, tmp_path, TREE)
    run_import(runner, tmp_path, MERGER)
    result = run_import(runner, tmp_path, TREE.replace("Quận 1,", "Quận Một,"))
    assert result.exit_code == 0, result.output
    assert str(closed_on()["760"]) == "2025-07-01"


def test_an_empty_cell_reopens_a_closed_unit_and_says_so(runner, tmp_path):
    """The code is the unit's for ever: the same row, reopened, its history showing both."""
    run_import(runner, tmp_path, TREE)
    run_import(runner, tmp_path, MERGER)
    reopened = MERGER.replace("79,2025-07-01", "79,").replace("760,2025-07-01", "760,")
    result = run_import(runner, tmp_path, reopened)
    assert result.exit_code == 0, result.output
    assert closed_on()["26734"] is None
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 5
    assert "closed_on: 2025-07-01 → -" in runner.invoke(args=["units", "history", "26734"]).output


def assert_refused(result, before, *fragments):
    assert result.exit_code != 0
    for fragment in fragments:
        assert fragment in result.output, result.output
    assert closed_on() == before  # nothing written


def test_bad_closing_days_refuse_the_whole_file_with_their_lines(runner, tmp_path):
    run_import(runner, tmp_path, TREE)
    before = closed_on()
    far = local_today() + timedelta(days=400)
    bad = (
        "code,name,level,parent_code,closed_on\n"
        "26734,Phường Bến Nghé,Phường,760,1/7/2025\n"
        "26737,Phường Đa Kao,Phường,760,2025-02-30\n"
        f"26740,Phường Sài Gòn,Phường,79,{far.isoformat()}\n"
        "26741,Phường Tân Định,Phường,79,2025-07-01 ; DROP\n"
    )
    assert_refused(
        run_import(runner, tmp_path, bad),
        before,
        "line 2: closed_on 1/7/2025 is not a day written YYYY-MM-DD",
        "line 3: closed_on 2025-02-30 is not a day written YYYY-MM-DD",
        f"line 4: closed_on {far.isoformat()} is more than a year from today",
        "line 5: closed_on 2025-07-01 ; DROP is not a day",
    )
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 4


def test_a_unit_cannot_close_while_one_under_it_stays_open(runner, tmp_path):
    run_import(runner, tmp_path, TREE)
    before = closed_on()
    # In the file: the district closes, a commune of the file under it stays open.
    in_file = (
        "code,name,level,parent_code,closed_on\n"
        "760,Quận 1,Quận,79,2025-07-01\n"
        "26734,Phường Bến Nghé,Phường,760,\n"
        "26737,Phường Đa Kao,Phường,760,2025-08-01\n"
    )
    assert_refused(
        run_import(runner, tmp_path, in_file),
        before,
        "line 3: unit 26734 would be open after its parent 760 closes on 2025-07-01",
        "line 4: unit 26737 would be open after its parent 760 closes on 2025-07-01",
    )
    # In the database: the district alone closes, its communes (not in the file) stay open.
    alone = "code,name,level,parent_code,closed_on\n760,Quận 1,Quận,79,2025-07-01\n"
    assert_refused(
        run_import(runner, tmp_path, alone),
        before,
        "line 2: unit 760 cannot close on 2025-07-01 while units under it stay open (2): "
        "26734, 26737",
    )
    # A new unit under a closed one, or moved under it, is open under it too.
    run_import(runner, tmp_path, MERGER)
    before = closed_on()
    new = "code,name,level,parent_code\n26799,Phường Mới,Phường,760\n"
    assert_refused(
        run_import(runner, tmp_path, new),
        before,
        "line 2: unit 26799 would be open after its parent 760 closes on 2025-07-01",
    )
    assert db.session.scalar(select(Unit).where(Unit.code == "26799")) is None


def test_closing_retires_the_units_points_when_its_day_has_come(runner, tmp_path, app):
    run_import(runner, tmp_path, TREE)
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    closing = add_point(units["26734"], "Quầy 1", actor=None)
    later = add_point(units["26737"], "Quầy 2", actor=None)
    db.session.commit()
    soon = local_today() + timedelta(days=30)
    text = MERGER.replace(
        "26737,Phường Đa Kao,Phường,760,2025-07-01", f"26737,Phường Đa Kao,Phường,760,{soon}"
    )
    text = text.replace("760,Quận 1,Quận,79,2025-07-01", f"760,Quận 1,Quận,79,{soon}")
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert not closing.active and closing.retired_at is not None
    assert later.active  # its unit closes in a month: its page refuses answers from that day
    event = db.session.scalars(
        select(PointEvent).where(PointEvent.point_id == closing.id).order_by(PointEvent.id.desc())
    ).first()
    assert (event.action, event.actor_id, event.detail) == (
        "retired",
        None,
        "closed_on: 2025-07-01",
    )
    listed = runner.invoke(args=["points", "list"]).output
    assert f"{closing.token}" in listed and "retired" in listed
    # Retiring is done once: a second import records nothing more.
    run_import(runner, tmp_path, text)
    count = select(func.count()).select_from(PointEvent).where(PointEvent.point_id == closing.id)
    assert db.session.scalar(count) == 2  # added, retired
    assert db.session.scalar(select(func.count()).select_from(SurveyPoint)) == 2
