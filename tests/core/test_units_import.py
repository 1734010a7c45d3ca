"""Importing the unit tree from CSV, through the CLI."""

import unicodedata

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.forms import name_fault
from core.models import Unit
from survey.demo import DISTRICTS, PROVINCE

GOOD = """code,name,level,parent_code,population
79,Thành phố Hồ Chí Minh,Tỉnh,,9000000
760,Quận 1,Quận,79,
26734,Phường Bến Nghé,Phường,760,15000
26737,Phường Đa Kao,Phường,760,
"""


def run_import(runner, tmp_path, text, encoding="utf-8"):
    path = tmp_path / "units.csv"
    path.write_bytes(text.encode(encoding))
    return runner.invoke(args=["units", "import", str(path)])


def units():
    return {u.code: u for u in db.session.scalars(select(Unit))}


def test_import_builds_the_tree(runner, tmp_path):
    result = run_import(runner, tmp_path, GOOD)
    assert result.exit_code == 0, result.output
    assert "Imported 4 units: 4 new, 0 changed, 0 unchanged." in result.output
    tree = units()
    assert tree["26734"].parent.code == "760"
    assert tree["760"].parent.code == "79"
    assert tree["79"].parent is None
    assert tree["79"].population == 9_000_000
    assert tree["26734"].name == "Phường Bến Nghé"
    assert (
        tree["26734"].path.startswith(tree["760"].path) and tree["760"].path != tree["26734"].path
    )
    assert set(tree["760"].subtree_ids()) == {tree[c].id for c in ("760", "26734", "26737")}


def test_reimport_updates_without_duplicating(runner, tmp_path):
    run_import(runner, tmp_path, GOOD)
    moved = GOOD.replace("26737,Phường Đa Kao,Phường,760,", "26737,Phường Đa Kao mới,Phường,79,")
    moved += "761,Quận 3,Quận,79,\n"
    result = run_import(runner, tmp_path, moved)
    assert result.exit_code == 0, result.output
    assert "Imported 5 units: 1 new, 1 changed, 3 unchanged." in result.output
    tree = units()
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 5
    assert tree["26737"].name == "Phường Đa Kao mới"
    assert tree["26737"].parent.code == "79"
    assert not tree["26737"].path.startswith(tree["760"].path)


def test_reimport_can_move_a_subtree_under_a_unit_from_the_file(runner, tmp_path):
    run_import(runner, tmp_path, GOOD)
    result = run_import(
        runner, tmp_path, "code,name,level,parent_code\n80,Tỉnh mới,Tỉnh,\n760,Quận 1,Quận,80\n"
    )
    assert result.exit_code == 0, result.output
    tree = units()
    assert tree["26734"].path.startswith(tree["80"].path)


def assert_refused(result, *fragments):
    assert result.exit_code != 0
    for fragment in fragments:
        assert fragment in result.output, result.output
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


def test_unknown_parent_refuses_the_whole_file(runner, tmp_path):
    bad = GOOD + "26800,Phường Thảo Điền,Phường,769,\n"
    assert_refused(run_import(runner, tmp_path, bad), "line 6", "unknown parent_code 769")


def test_duplicate_code_names_both_lines(runner, tmp_path):
    bad = GOOD + "760,Quận Một,Quận,79,\n"
    assert_refused(run_import(runner, tmp_path, bad), "line 6", "already appears on line 3")


def test_cycle_is_refused_with_its_lines(runner, tmp_path):
    bad = "code,name,level,parent_code\n1,A,x,3\n2,B,x,1\n3,C,x,2\n4,D,x,\n"
    result = run_import(runner, tmp_path, bad)
    assert_refused(result, "line 2", "line 3", "line 4", "cycle")
    assert "line 5" not in result.output


def test_cycle_through_existing_units_is_refused(runner, tmp_path):
    run_import(runner, tmp_path, GOOD)
    result = run_import(runner, tmp_path, "code,name,level,parent_code\n79,HCM,Tỉnh,26734\n")
    assert result.exit_code != 0 and "cycle" in result.output
    assert units()["79"].parent is None  # nothing changed


def test_missing_column(runner, tmp_path):
    assert_refused(
        run_import(runner, tmp_path, "code,name,parent_code\n1,A,\n"),
        "line 1",
        "missing column(s): level",
    )


def test_wrong_encoding_says_which_line(runner, tmp_path):
    # Windows-1258, as an old spreadsheet saves it: "à" is the single byte 0xE0.
    path = tmp_path / "units.csv"
    path.write_bytes(b"code,name,level,parent_code\n79,HCM,Tinh,\n760,Qu\xe0n 1,Quan,79\n")
    assert_refused(runner.invoke(args=["units", "import", str(path)]), "line 3", "not UTF-8")


def test_a_nul_character_is_refused_with_its_line(runner, tmp_path):
    text = "code,name,level,parent_code\n79,HCM,Tỉnh,\n760,Quận\x001,Quận,79\n"
    assert_refused(run_import(runner, tmp_path, text), "line 3", "NUL character")
    assert units() == {}


def test_bom_and_windows_line_endings_are_fine(runner, tmp_path):
    result = run_import(runner, tmp_path, "\ufeff" + GOOD.replace("\n", "\r\n"))
    assert result.exit_code == 0, result.output
    assert len(units()) == 4


def test_bad_values_are_listed(runner, tmp_path):
    bad = "code,name,level,parent_code,population\n79,,Tỉnh,,abc\nx y,Z,Tỉnh,,\n1,A,,,\n"
    assert_refused(
        run_import(runner, tmp_path, bad),
        "line 2",
        "name is required",
        "population 'abc'",
        "line 3",
        "line 4",
        "level is required",
    )


def test_empty_and_short_rows(runner, tmp_path):
    assert_refused(run_import(runner, tmp_path, ""), "empty")
    assert_refused(run_import(runner, tmp_path, "code,name,level,parent_code\n"), "no units")
    assert_refused(
        run_import(runner, tmp_path, "code,name,level,parent_code\n1,A\n"),
        "line 2",
        "expected 4 columns",
    )


def test_missing_file(runner):
    result = runner.invoke(args=["units", "import", "/no/such/file.csv"])
    assert result.exit_code != 0 and "does not exist" in result.output


def test_population_up_to_a_hundred_million_is_accepted(runner, tmp_path):
    text = "code,name,level,parent_code,population\n01,Hà Nội,Tỉnh,,100000000\n"
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    assert units()["01"].population == 100_000_000


@pytest.mark.parametrize(
    "written",
    [
        "9000000",
        "9.000.000",
        '"9,000,000"',
        "9 000 000",
        "9\u00a0000\u00a0000",
        "9\u202f000\u202f000",
    ],
)
def test_population_in_groups_of_three_is_accepted(runner, tmp_path, written):
    # 9.000.000 is how Vietnamese write nine million; a spreadsheet may group with a comma or a
    # (no-break) space. A comma inside a comma-separated file comes quoted.
    text = f"code,name,level,parent_code,population\n79,Hồ Chí Minh,Tỉnh,,{written}\n"
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    assert units()["79"].population == 9_000_000


def test_population_grouped_in_a_semicolon_file_is_accepted(runner, tmp_path):
    text = "code;name;level;parent_code;population\n79;HCM;Tỉnh;;9,000,000\n760;Q1;Quận;79;1.500\n"
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    assert units()["79"].population == 9_000_000 and units()["760"].population == 1500


@pytest.mark.parametrize(
    "written",
    ['"9,5"', '"9.000,5"', "90.00", '"9.000,000"', '"9,00,000"', "9 00 0000", "9..000", ".900"],
)
def test_population_that_could_be_a_decimal_or_a_slip_is_refused(runner, tmp_path, written):
    text = f"code,name,level,parent_code,population\n79,Hồ Chí Minh,Tỉnh,,{written}\n"
    shown = written.strip('"')
    assert_refused(
        run_import(runner, tmp_path, text),
        "line 2",
        f"population {shown!r} is not a whole number written with digits alone (9000000) or in "
        "groups of three (9.000.000, 9,000,000 or 9 000 000)",
    )


@pytest.mark.parametrize("population", ["100.000.001", "1,000,000,000"])
def test_grouped_population_above_a_hundred_million_is_refused(runner, tmp_path, population):
    text = f'code,name,level,parent_code,population\n01,Hà Nội,Tỉnh,,"{population}"\n'
    assert_refused(
        run_import(runner, tmp_path, text), "line 2", "population must be at most 100,000,000"
    )


@pytest.mark.parametrize("population", ["100000001", "99999999999999999999", "9" * 5000])
def test_population_above_a_hundred_million_is_refused(runner, tmp_path, population):
    text = f"code,name,level,parent_code,population\n01,Hà Nội,Tỉnh,,{population}\n"
    assert_refused(
        run_import(runner, tmp_path, text), "line 2", "population must be at most 100,000,000"
    )


def test_unclosed_quote_is_refused_at_the_line_it_opens(runner, tmp_path):
    # A long file: the open quote swallows more than the csv module's field limit.
    rows = "".join(f"{i},Xã {i},Xã,79\n" for i in range(100, 10_000))
    bad = GOOD + '26800,"Phường Thảo Điền,Phường,760\n' + rows
    assert_refused(run_import(runner, tmp_path, bad), "line 6", "closing quote")
    # A short one: the quoted value runs to the end of the file, the row is short.
    bad = GOOD + '26800,"Phường Thảo Điền,Phường,760\n26801,Phường An Khánh,Phường,760\n'
    assert_refused(run_import(runner, tmp_path, bad), "line 6", "closing quote")


def test_excel_trailing_empty_columns_are_ignored(runner, tmp_path):
    text = "code,name,level,parent_code,,\n79,HCM,Tỉnh,,,\n760,Quận 1,Quận,79,,\n,,,,,\n"
    result = run_import(runner, tmp_path, "\ufeff" + text.replace("\n", "\r\n"))
    assert result.exit_code == 0, result.output
    assert units()["760"].parent.code == "79"


def test_a_column_without_a_name_must_be_empty(runner, tmp_path):
    text = "code,name,level,parent_code,,\n79,HCM,Tỉnh,,,\n760,Quận 1,Quận,79,,9\n"
    assert_refused(
        run_import(runner, tmp_path, text), "line 3", "column 6 has no name in line 1 but holds '9'"
    )


def test_semicolon_separated_file_is_read(runner, tmp_path):
    # Excel saves CSV with ';' where the list separator is ';' (Vietnamese Windows).
    text = (
        "code;name;level;parent_code;population\n79;HCM;Tỉnh;;9000000\n760;Quận 1, HCM;Quận;79;\n"
    )
    result = run_import(runner, tmp_path, "\ufeff" + text.replace("\n", "\r\n"))
    assert result.exit_code == 0, result.output
    tree = units()
    assert tree["760"].name == "Quận 1, HCM" and tree["760"].parent.code == "79"
    assert tree["79"].population == 9_000_000


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("760,Quận \u202e1 nàoQ,Quận,79,", "name must not hold"),  # a right-to-left override
        ("760,Quận\u200b 1,Quận,79,", "name must not hold"),  # a zero-width space
        ("760,\u2066Quận 1\u2069,Quận,79,", "name must not hold"),  # an isolate
        ('760,"Quận\t1",Quận,79,', "name must not hold"),
        ('760,"Quận\n1",Quận,79,', "name must not hold"),
        ("760,Quận 1,\u200fQuận,79,", "level must not hold"),  # a right-to-left mark
    ],
)
def test_invisible_or_control_characters_refuse_the_whole_file_with_their_lines(
    runner, tmp_path, line, problem
):
    bad = GOOD.replace("760,Quận 1,Quận,79,", line) + "26800,Phường \u202dThảo Điền,Phường,79,\n"
    result = run_import(runner, tmp_path, bad)
    assert_refused(result, f"line 3: {problem} line breaks, tabs or invisible characters")
    last = 6 + line.count("\n")  # a quoted line break: the row runs over two lines
    assert f"line {last}: name must not hold" in result.output
    assert "line 2" not in result.output and "line 4" not in result.output


def test_a_reimport_with_an_override_leaves_the_names_as_they_were(runner, tmp_path):
    run_import(runner, tmp_path, GOOD)
    bad = GOOD.replace("Phường Đa Kao", "Phường \u202eoaK aĐ")
    result = run_import(runner, tmp_path, bad)
    assert result.exit_code != 0 and "line 5: name must not hold" in result.output
    db.session.expire_all()
    assert units()["26737"].name == "Phường Đa Kao"


def test_vietnamese_names_in_any_normal_form_go_through(runner, tmp_path):
    decomposed = unicodedata.normalize("NFD", "Phường Bến Nghé")
    text = GOOD.replace("Phường Bến Nghé", decomposed).replace("Quận 1", "Quận\u00a01")
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    assert units()["26734"].name == decomposed and units()["760"].name == "Quận\u00a01"


def test_the_demo_provinces_units_obey_the_same_rule():
    names = [PROVINCE[1]] + [d[1] for d in DISTRICTS] + [c[1] for d in DISTRICTS for c in d[3]]
    levels = {d[2] for d in DISTRICTS}
    assert len(names) == 16
    assert all(name_fault(n, 200) is None for n in names)
    assert all(name_fault(level, 40) is None for level in levels)
