"""Units merged into others, by the units file's merged_into column: checks, history, the
download and the pages."""

import csv
import io

from sqlalchemy import func, select

from core.extensions import db
from core.models import Unit, UnitEvent
from tests.conftest import signed_in

TREE = """code,name,level,parent_code
79,Thành phố Hồ Chí Minh,Tỉnh,
760,Quận 1,Quận,79
26734,Phường Bến Nghé,Phường,760
26737,Phường Đa Kao,Phường,760
"""
# 1/7/2025: the district closes with no successor; its two wards merge into a new one.
MERGER = """code,name,level,parent_code,closed_on,merged_into
760,Quận 1,Quận,79,2025-07-01,
26734,Phường Bến Nghé,Phường,760,2025-07-01,26740
26737,Phường Đa Kao,Phường,760,2025-07-01,26740
26740,Phường Sài Gòn,Phường,79,,
"""


def run_import(runner, tmp_path, text):
    path = tmp_path / "units.csv"
    path.write_text(text, encoding="utf-8")
    return runner.invoke(args=["units", "import", str(path)])


def merged_into() -> dict[str, str | None]:
    db.session.expire_all()
    return {u.code: u.merged_into.code if u.merged_into else None
            for u in db.session.scalars(select(Unit))}  # fmt: skip


def history_lines() -> int:
    return db.session.scalar(select(func.count()).select_from(UnitEvent))


def test_a_merger_names_the_successor_and_the_history_says_so(runner, tmp_path):
    assert run_import(runner, tmp_path, TREE).exit_code == 0
    result = run_import(runner, tmp_path, MERGER)
    assert result.exit_code == 0, result.output
    assert merged_into() == {"79": None, "760": None, "26734": "26740", "26737": "26740",
                             "26740": None}  # fmt: skip
    history = runner.invoke(args=["units", "history", "26734"]).output
    assert "closed_on: - → 2025-07-01; merged_into: - → 26740" in history
    # The district closed with no successor: its line says nothing of one.
    assert "merged_into" not in runner.invoke(args=["units", "history", "760"]).output
    # A unit added closed and merged says so among its values.
    added = "code,name,level,parent_code,closed_on,merged_into\n26799,Xã Cũ,Xã,79,2025-07-01,26740"
    assert run_import(runner, tmp_path, added).exit_code == 0
    history = runner.invoke(args=["units", "history", "26799"]).output
    assert "closed_on: 2025-07-01; merged_into: 26740" in history


def test_a_file_without_the_column_keeps_the_successors(runner, tmp_path):
    run_import(runner, tmp_path, TREE)
    run_import(runner, tmp_path, MERGER)
    without = """code,name,level,parent_code,closed_on
760,Quận 1,Quận,79,2025-07-01
26734,Phường Bến Nghé,Phường,760,2025-07-01
26737,Phường Đa Kao,Phường,760,2025-07-01
26740,Phường Sài Gòn,Phường,79,
"""
    lines = history_lines()
    result = run_import(runner, tmp_path, without)
    assert result.exit_code == 0, result.output
    assert "0 new, 0 changed, 4 unchanged" in result.output
    assert merged_into()["26734"] == "26740" and history_lines() == lines
    # An empty cell takes the successor away, and the history says so.
    result = run_import(runner, tmp_path, MERGER.replace("760,2025-07-01,26740", "760,2025-07-01,"))
    assert result.exit_code == 0, result.output
    assert merged_into()["26734"] is None and merged_into()["26737"] is None
    assert "merged_into: 26740 → -" in runner.invoke(args=["units", "history", "26734"]).output


def assert_refused(result, *fragments):
    assert result.exit_code != 0
    for fragment in fragments:
        assert fragment in result.output, result.output


def test_wrong_mergers_refuse_the_whole_file_with_their_lines(runner, tmp_path):
    run_import(runner, tmp_path, TREE)
    before, lines = merged_into(), history_lines()
    bad = (
        "code,name,level,parent_code,closed_on,merged_into\n"
        "760,Quận 1,Quận,79,2025-07-01,760\n"  # itself
        "26734,Phường Bến Nghé,Phường,760,2025-07-01,99999\n"  # unknown
        "26737,Phường Đa Kao,Phường,760,,26740\n"  # not closed
        "26740,Phường Sài Gòn,Phường,79,2025-07-01,\n"
        "26741,Phường Tân Định,Phường,79,2025-07-01,26740\n"  # into a unit closed that day
        "26742,Phường Cũ,Phường,79,2025-08-01,26740\n"  # into a unit closed before
    )
    assert_refused(
        run_import(runner, tmp_path, bad),
        "line 2: unit 760 cannot merge into itself",
        "line 3: unknown merged_into 99999",
        "line 4: unit 26737 has merged_into 26740 but no closed_on",
        "line 6: unit 26741 closes on 2025-07-01, so it cannot merge into 26740, which closes "
        "on 2025-07-01",
        "line 7: unit 26742 closes on 2025-08-01, so it cannot merge into 26740, which closes "
        "on 2025-07-01",
    )
    assert merged_into() == before and history_lines() == lines  # nothing written
    # A file without closed_on: a merger of a unit the database has open is refused too.
    alone = "code,name,level,parent_code,merged_into\n26734,Phường Bến Nghé,Phường,760,26737\n"
    assert_refused(
        run_import(runner, tmp_path, alone),
        "line 2: unit 26734 has merged_into 26737 but no closed_on",
    )
    assert merged_into() == before


def test_a_successor_closed_too_early_is_refused_on_its_own_line(runner, tmp_path):
    """The merger already stored, the successor's closing in the file: a chain that would go
    back in time (or loop) is refused where the file changes it."""
    run_import(runner, tmp_path, TREE)
    run_import(runner, tmp_path, MERGER)
    before = merged_into()
    early = "code,name,level,parent_code,closed_on\n26740,Phường Sài Gòn,Phường,79,2025-07-01\n"
    assert_refused(
        run_import(runner, tmp_path, early),
        "line 2: unit 26734 closes on 2025-07-01, so it cannot merge into 26740",
        "line 2: unit 26737 closes on 2025-07-01, so it cannot merge into 26740",
    )
    # A later closing, into a unit open after it, makes a chain: accepted.
    later = (
        "code,name,level,parent_code,closed_on,merged_into\n"
        "26740,Phường Sài Gòn,Phường,79,2026-01-01,26750\n"
        "26750,Phường Sài Gòn Mới,Phường,79,,\n"
    )
    result = run_import(runner, tmp_path, later)
    assert result.exit_code == 0, result.output
    assert merged_into() == {**before, "26740": "26750", "26750": None}
    # Reopening the unit it merged into through a file without merged_into: still a merger.
    reopen = "code,name,level,parent_code,closed_on\n26740,Phường Sài Gòn,Phường,79,\n"
    assert_refused(
        run_import(runner, tmp_path, reopen),
        "line 2: unit 26740 has merged_into 26750 but no closed_on",
    )


def test_the_pages_and_the_download_show_the_merger(app, tree, unit_staff, runner, tmp_path):
    text = MERGER.replace("760,Quận 1,Quận,79,2025-07-01,\n", "")
    result = run_import(runner, tmp_path, text)  # the wards merge; the district stays open
    assert result.exit_code == 0, result.output
    client = signed_in(app, "admin@x.vn")
    html = client.get("/staff/units").get_data(as_text=True)
    said = 'merged into <span lang="vi">Phường Sài Gòn</span> (26740) on 1 Jul 2025'
    assert html.count(said) == 2  # both wards
    page = client.get("/staff/units/26734/history").get_data(as_text=True)
    assert said in page
    assert "merged into: - → 26740" in page  # the history's line, its field named
    raw = client.get("/staff/units/units.csv").get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert rows[0].keys() >= {"closed_on", "merged_into"}
    by_code = {r["code"]: r for r in rows}
    assert by_code["26734"]["merged_into"] == "26740" and by_code["26740"]["merged_into"] == ""
    # The download of a district only still names the successor outside it, and imports back
    # as it was.
    part = client.get("/staff/units/units.csv?unit=760").get_data()
    assert b"2025-07-01,26740\r\n" in part
    path = tmp_path / "part.csv"
    path.write_bytes(part)
    result = runner.invoke(args=["units", "import", str(path)])
    assert "0 new, 0 changed, 3 unchanged" in result.output


def test_a_wrong_merger_stored_by_hand_does_not_stop_other_files(runner, tmp_path):
    """A merger the database holds but no file made (edited by hand) is no line of a file that
    names neither unit: the file is imported."""
    run_import(runner, tmp_path, TREE)
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    units["26734"].merged_into = units["26737"]  # open, yet merged: no file would allow it
    db.session.commit()
    result = run_import(runner, tmp_path, "code,name,level,parent_code\n79,TP HCM,Tỉnh,\n")
    assert result.exit_code == 0, result.output
