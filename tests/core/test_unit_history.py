"""What each `units import` added or changed in the unit tree, with the file that did it: one
line per unit added or changed, none for a unit the file left as it was, for an identical file
or for a refused one; printed by `units history`."""

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import func, select

from core.extensions import db
from core.models import Unit, UnitEvent
from survey.demo import DISTRICTS, PROVINCE

FIRST = """code,name,level,parent_code,population
79,Thành phố Hồ Chí Minh,Tỉnh,,9000000
760,Quận 1,Quận,79,
769,Thành phố Thủ Đức,Thành phố,79,
26734,Phường Bến Nghé,Phường,760,15000
26737,Phường Đa Kao,Phường,760,
"""
# Đa Kao renamed and moved under Thủ Đức, Bến Nghé's population changed, Quận 1's population
# left out (kept), Thủ Đức as it was, a new commune.
SECOND = """code,name,level,parent_code,population
760,Quận 1,Quận,79,
769,Thành phố Thủ Đức,Thành phố,79,
26734,Phường Bến Nghé,Phường,760,16200
26737,Phường Đa Kao mới,Phường,769,
26800,Phường Thảo Điền,Phường,769,12000
"""


def run_import(runner, tmp_path, text, name="units.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return runner.invoke(args=["units", "import", str(path)])


def events() -> list[tuple]:
    """The history lines, oldest first: unit code, actor, action, detail, source, digest."""
    db.session.expire_all()
    query = select(UnitEvent).order_by(UnitEvent.id)
    return [
        (e.unit.code, e.actor_id, e.action, e.detail, e.source, e.source_sha256)
        for e in db.session.scalars(query)
    ]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_an_import_records_each_unit_it_adds_with_its_values(runner, tmp_path):
    assert run_import(runner, tmp_path, FIRST, "tree-2025.csv").exit_code == 0
    file = ("tree-2025.csv", digest(FIRST))
    assert events() == [
        ("79", None, "added", "name: Thành phố Hồ Chí Minh; level: Tỉnh; parent: -; "
         "population: 9000000", *file),
        ("760", None, "added", "name: Quận 1; level: Quận; parent: 79; population: -", *file),
        ("769", None, "added", "name: Thành phố Thủ Đức; level: Thành phố; parent: 79; "
         "population: -", *file),
        ("26734", None, "added", "name: Phường Bến Nghé; level: Phường; parent: 760; "
         "population: 15000", *file),
        ("26737", None, "added", "name: Phường Đa Kao; level: Phường; parent: 760; "
         "population: -", *file),
    ]  # fmt: skip


def test_a_reimport_records_what_it_renamed_moved_and_changed_and_nothing_else(runner, tmp_path):
    assert run_import(runner, tmp_path, FIRST, "tree-2025.csv").exit_code == 0
    result = run_import(runner, tmp_path, SECOND, "tree-2026.csv")
    assert result.exit_code == 0, result.output
    file = ("tree-2026.csv", digest(SECOND))
    assert events()[5:] == [
        ("26734", None, "changed", "population: 15000 → 16200", *file),
        ("26737", None, "changed", "name: Phường Đa Kao → Phường Đa Kao mới; parent: 760 → 769",
         *file),
        ("26800", None, "added", "name: Phường Thảo Điền; level: Phường; parent: 769; "
         "population: 12000", *file),
    ]  # fmt: skip
    # One import: its lines share its time, and no line of the first import has it.
    times = db.session.execute(select(UnitEvent.source, func.count(func.distinct(UnitEvent.at)))
                               .group_by(UnitEvent.source)).all()  # fmt: skip
    assert sorted(times) == [("tree-2025.csv", 1), ("tree-2026.csv", 1)]
    assert db.session.scalar(select(func.count(func.distinct(UnitEvent.at)))) == 2


def test_an_identical_reimport_and_a_refused_file_record_nothing(runner, tmp_path):
    assert run_import(runner, tmp_path, FIRST).exit_code == 0
    before = events()
    again = run_import(runner, tmp_path, FIRST, "the-same-again.csv")
    assert again.exit_code == 0 and "5 units: 0 new, 0 changed, 5 unchanged." in again.output
    assert events() == before
    # Renames and a move, refused for one unknown parent: nothing changes, nothing recorded.
    refused = run_import(runner, tmp_path, SECOND + "26900,Phường Mới,Phường,999,\n")
    assert refused.exit_code == 1 and "unknown parent_code 999" in refused.output
    assert events() == before
    assert db.session.scalar(select(Unit.name).where(Unit.code == "26737")) == "Phường Đa Kao"


def test_units_made_before_the_history_have_none(runner, tree):
    """As the units of a database migrated to 0025: the history starts empty."""
    result = runner.invoke(args=["units", "history", "26734"])
    assert result.exit_code == 0 and result.output == ""
    assert runner.invoke(args=["units", "history"]).output == ""


def test_units_history_prints_a_units_lines_newest_first_in_vietnam_time(runner, tmp_path):
    assert run_import(runner, tmp_path, FIRST, "tree-2025.csv").exit_code == 0
    assert run_import(runner, tmp_path, SECOND, "tree-2026.csv").exit_code == 0
    added = db.session.scalar(select(UnitEvent).join(UnitEvent.unit).where(Unit.code == "26737"))
    added.at = datetime(2025, 3, 1, 18, 7, 5)  # 2 March, 1:07:05 in Vietnam
    db.session.commit()
    result = runner.invoke(args=["units", "history", "26737"])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines()]
    # As `users history` prints an account's (when, who, action, detail), then the unit and
    # the file that did it.
    changed = db.session.scalars(select(UnitEvent.at).order_by(UnitEvent.id.desc())).first()
    assert lines == [
        [f"{changed + timedelta(hours=7):%Y-%m-%d %H:%M:%S}", "command line", "changed",
         "name: Phường Đa Kao → Phường Đa Kao mới; parent: 760 → 769", "26737",
         "tree-2026.csv", digest(SECOND)],
        ["2025-03-02 01:07:05", "command line", "added",
         "name: Phường Đa Kao; level: Phường; parent: 760; population: -", "26737",
         "tree-2025.csv", digest(FIRST)],
    ]  # fmt: skip


def test_units_history_without_a_code_prints_the_latest_of_every_unit(runner, tmp_path):
    assert run_import(runner, tmp_path, FIRST, "tree-2025.csv").exit_code == 0
    assert run_import(runner, tmp_path, SECOND, "tree-2026.csv").exit_code == 0
    every = runner.invoke(args=["units", "history"])
    assert every.exit_code == 0, every.output
    rows = [line.split("\t") for line in every.output.splitlines()]
    assert [(r[4], r[2], r[5]) for r in rows] == [
        ("26800", "added", "tree-2026.csv"),
        ("26737", "changed", "tree-2026.csv"),
        ("26734", "changed", "tree-2026.csv"),
        ("26737", "added", "tree-2025.csv"),
        ("26734", "added", "tree-2025.csv"),
        ("769", "added", "tree-2025.csv"),
        ("760", "added", "tree-2025.csv"),
        ("79", "added", "tree-2025.csv"),
    ]
    latest = runner.invoke(args=["units", "history", "--limit", "2"])
    assert latest.output.splitlines() == every.output.splitlines()[:2]
    one = runner.invoke(args=["units", "history", "26734", "--limit", "1"])
    assert one.output.splitlines() == [every.output.splitlines()[2]]


def test_units_history_refuses_an_unknown_code_and_a_limit_below_one(runner, tmp_path):
    assert run_import(runner, tmp_path, FIRST).exit_code == 0
    for code in ("99999", "x" * 300):
        result = runner.invoke(args=["units", "history", code])
        assert result.exit_code == 1
        assert f"Error: no unit with code {code[:40]!r}" in result.output, result.output
    assert runner.invoke(args=["units", "history", "--limit", "0"]).exit_code == 2
    help_ = runner.invoke(args=["units", "history", "--help"])
    assert help_.exit_code == 0 and "Show what the imports added or changed" in help_.output


def test_a_file_name_with_a_tab_keeps_the_lines_columns(runner, tmp_path):
    assert run_import(runner, tmp_path, FIRST, "cây\tđơn vị.csv").exit_code == 0
    line = runner.invoke(args=["units", "history", "79"]).output.splitlines()[0].split("\t")
    assert line[4:6] == ["79", "cây?đơn vị.csv"]


def test_the_demo_records_each_unit_as_added_from_the_command_line(runner, questionnaire):
    """As it records its survey points (point_event): added, by no account; its source is the
    demo, not a file."""
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    lines = events()
    codes = [PROVINCE[0]] + [d[0] for d in DISTRICTS] + [c for d in DISTRICTS for c, _n in d[3]]
    assert sorted(line[0] for line in lines) == sorted(codes)
    assert {(line[1], line[2], line[4], line[5]) for line in lines} == {
        (None, "added", "demo", None)
    }
    province = next(line for line in lines if line[0] == PROVINCE[0])
    assert province[3] == f"name: {PROVINCE[1]}; level: Tỉnh; parent: -; population: {PROVINCE[2]}"
    printed = runner.invoke(args=["units", "history", DISTRICTS[0][3][0][0]]).output.split("\t")
    assert printed[1:3] == ["command line", "added"] and printed[5:] == ["demo", "-\n"]
