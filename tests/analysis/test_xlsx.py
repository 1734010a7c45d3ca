"""The workbook writer: a valid package that openpyxl and LibreOffice read back as written.

test_export.py reads whole exports back through the CLI; these tests give the writer columns
directly, with text no export of real units is likely to hold.
"""

import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from datetime import datetime

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from analysis.spreadsheetml import column_letters
from analysis.xlsx import to_xlsx

NAMES = ["unit_code", "unit_name", "level", "period_start", "period_end", "measure", "n",
         "estimate", "ci_low", "ci_high", "significant", "rank_low", "flag"]  # fmt: skip
AWKWARD = [
    "Phường Bến Nghé",
    "a & b < c > d \"e\" 'f'",
    "  two spaces before, one after ",
    "tab\there",
    "line\nbreak",
    "bell\x07 and nul\x00 and escape\x1b",
    "_x0041_ is not an A",
    "emoji 🙂 and ư ơ ă đ",
    '=HYPERLINK("http://x","y")',
    "-2+3",
    "@SUM(1)",
    "",
]
REPORT = "Bảng tổng hợp"
# ECMA-376 part 1, 22.9.2.19 (ST_Xstring): _xHHHH_ in text stands for the character U+HHHH.
XSTRING_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
INFO = {
    "filters": {"unit": None, "level": None, "channels": ["paper"], "questionnaire_versions": [],
                "compare": "previous", "ranks": True, "shrink": False},
    "period": {"start": "2025-01-01", "end": "2025-03-31"},
    "comparison_period": {"start": "2024-10-01", "end": "2024-12-31"},
    "weighting": "respondents",
    "units": "then",
    "generated_at": "2025-04-02T08:00:00Z",
}  # fmt: skip


def columns(levels=("Xã", "Phường", "Xã")):
    """One row per awkward name and level, cycling through the levels given."""
    count = len(AWKWARD)
    level = [levels[i % len(levels)] for i in range(count)]
    return {
        "unit_code": [f"{i:05d}" for i in range(count)],
        "unit_name": AWKWARD,
        "level": level,
        "period_start": ["2025-01-01"] * count,
        "period_end": ["2025-03-31"] * count,
        "measure": ["overall"] * count,
        "n": [i * 1000 for i in range(count)],
        "estimate": [None if i == 0 else round(i / count, 6) for i in range(count)],
        "ci_low": [None if i < 2 else 1e-06 for i in range(count)],
        "ci_high": [None if i == 0 else 1.0 for i in range(count)],
        "significant": [None, True, False] * (count // 3),
        "rank_low": [i + 1 for i in range(count)],
        "flag": ["suppressed", "few"] + [""] * (count - 2),
    }


def unescaped(text):
    return XSTRING_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if text else text


def test_the_package_is_well_formed_and_every_part_is_declared():
    values = columns()
    data = to_xlsx(INFO, NAMES, values)
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        assert book.testzip() is None
        # The writer's own output, parsed to check it.
        parts = {n: ET.fromstring(book.read(n)) for n in book.namelist()}  # noqa: S314
    types = parts["[Content_Types].xml"]
    declared = {e.get("PartName") for e in types if e.tag.endswith("Override")}
    assert declared == {"/" + n for n in parts if n.startswith("xl/") and n.endswith(".xml")}
    for rels_name in ("_rels/.rels", "xl/_rels/workbook.xml.rels"):
        base = rels_name.split("_rels/")[0]
        for relation in parts[rels_name]:
            assert base + relation.get("Target") in parts, relation.get("Target")
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    sheets = [s.get("name") for s in parts["xl/workbook.xml"].iter(main + "sheet")]
    assert sheets == ["Phương pháp", "Bảng tổng hợp", "Xã", "Phường"]
    styles = parts["xl/styles.xml"]
    count = len(list(styles.find(main + "cellXfs")))
    used = {int(c.get("s", 0)) for p in parts.values() for c in p.iter(main + "c")}
    assert max(used) < count
    assert not [c for p in parts.values() for c in p.iter(main + "f")]  # no formula anywhere
    assert to_xlsx(INFO, NAMES, values) == data  # the same figures make the same bytes


def test_openpyxl_reads_back_every_value_and_format():
    values = columns()
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(INFO, NAMES, values)))
    assert book.sheetnames == ["Phương pháp", "Bảng tổng hợp", "Xã", "Phường"]
    for level in ("Xã", "Phường"):
        sheet = book[level]
        rows = [i for i, v in enumerate(values["level"]) if v == level]
        assert [c.value for c in sheet[1]] == NAMES and all(c.font.b for c in sheet[1])
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:M{len(rows) + 1}"
        assert sheet.max_row == len(rows) + 1
        for cells, i in zip(sheet.iter_rows(min_row=2), rows, strict=True):
            got = dict(zip(NAMES, cells, strict=True))
            name = values["unit_name"][i]
            assert unescaped(got["unit_name"].value) == (name or None)
            if name:
                assert got["unit_name"].data_type == "s"
                assert got["unit_name"].quotePrefix == name.startswith(("=", "-", "@"))
            assert got["unit_code"].value == values["unit_code"][i]  # leading zeros kept
            assert got["period_start"].value == datetime(2025, 1, 1)
            assert got["period_end"].number_format == "dd/mm/yyyy"
            assert got["n"].value == i * 1000 and got["n"].number_format == "#,##0"
            for column in ("estimate", "ci_low", "ci_high"):
                want = values[column][i]
                if want is None:
                    assert got[column].value == ("—" if i == 0 else None)
                else:
                    assert got[column].value == want and got[column].number_format == "0.00%"
            assert got["significant"].value == values["significant"][i]
            assert got["rank_low"].value == i + 1
            assert got["flag"].value == (values["flag"][i] or None)
    method = book["Phương pháp"]
    assert method["A1"].value is None and method["B1"].font.b and method["B1"].alignment.wrap_text
    text = [c.value for row in method.iter_rows() for c in row if c.value]
    assert "1/1/2025 – 31/3/2025" in text and "1/10/2024 – 31/12/2024" in text
    assert "paper" in text and "rank_low" in text
    assert method.column_dimensions["B"].width == 80


def test_the_report_sheet_holds_a_unit_a_row_indented_by_depth():
    values = columns()
    depths = {code: 2 + i % 3 for i, code in enumerate(values["unit_code"])}  # from 2: as 0
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(INFO, NAMES, values, depths)))[REPORT]
    assert sheet.freeze_panes == "C2" and sheet.auto_filter.ref == "A1:H13"
    assert sheet.row_dimensions[1].height >= 30  # the bilingual headers wrap
    assert sheet.column_dimensions["B"].width >= max(map(len, AWKWARD)) + 2
    lines = list(sheet.iter_rows(min_row=2))
    assert [cells[0].value for cells in lines] == values["unit_code"]
    indents = [i % 3 if name else 0 for i, name in enumerate(AWKWARD)]  # no name: no cell
    assert [cells[1].alignment.indent for cells in lines] == indents
    for i, cells in enumerate(lines):
        assert unescaped(cells[1].value) == (AWKWARD[i] or None)
        assert cells[1].quotePrefix == AWKWARD[i].startswith(("=", "-", "@"))
        assert cells[3].value == i * 1000 and cells[3].number_format == "#,##0"
        for cell, column in zip(cells[4:7], ("estimate", "ci_low", "ci_high"), strict=True):
            want = values[column][i] if values["estimate"][i] is not None else None
            assert cell.value == want and cell.number_format == ("0.00%" if want else "General")
    assert lines[0][7].value == "dưới 10 phiếu: không hiển thị / fewer than 10 answers: not shown"
    assert [cells[7].value for cells in lines[1:]] == [None] * 11  # "few" is no flag of ours


# The level sheets' parts as the writer made them before it wrote a report sheet (3a7b4f8):
# adding that sheet changed not a byte of them.
LEVEL_SHEETS_SHA256 = {
    "Xã": "adeca68dfe6cac9192e1ba96ac169acd3b8f5ff895959a65d27d2f68c5f4f5be",
    "Phường": "c7dd78f5d023231bf82812a525ad5627751839bf9bcf186f3181cfc4bce339e1",
}


def test_the_level_sheets_are_unchanged_by_the_report_sheet():
    with zipfile.ZipFile(io.BytesIO(to_xlsx(INFO, NAMES, columns()))) as book:
        parts = {n: book.read(n) for n in book.namelist()}
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    workbook = ET.fromstring(parts["xl/workbook.xml"])  # noqa: S314
    titles = [s.get("name") for s in workbook.iter(main + "sheet")]
    for title, digest in LEVEL_SHEETS_SHA256.items():
        part = parts[f"xl/worksheets/sheet{titles.index(title) + 1}.xml"]
        assert hashlib.sha256(part).hexdigest() == digest, title


def test_carriage_returns_and_control_characters_survive():
    values = columns(levels=("Xã",))
    values["unit_name"] = ["a\r\nb", "\rstart", "x\x01\x02y", "_x000D_", "_xZZZZ_"] + [""] * 7
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(INFO, NAMES, values)))["Xã"]
    got = [unescaped(row[1].value) for row in sheet.iter_rows(min_row=2, max_row=6)]
    assert got == ["a\r\nb", "\rstart", "x\x01\x02y", "_x000D_", "_xZZZZ_"]


def test_no_figures_still_make_a_workbook_with_its_method_sheet():
    data = to_xlsx(INFO, NAMES, {name: [] for name in NAMES})
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Phương pháp"]
    assert b"definedName" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml")


def test_column_letters_match_openpyxl():
    letters = column_letters(1000)
    assert letters == [get_column_letter(i) for i in range(1, 1001)]
    assert letters[25:28] == ["Z", "AA", "AB"] and letters[701:703] == ["ZZ", "AAA"]


@pytest.fixture
def soffice():
    """LibreOffice's command line; skipped where there is none, required in CI."""
    path = shutil.which("soffice")
    if path is None:
        message = "needs LibreOffice: apt-get install libreoffice-calc-nogui"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true makes this test required)", pytrace=False)
        pytest.skip(message)
    return path


def convert(soffice, tmp_path, target: str, out) -> None:
    done = subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/lo",
         "--convert-to", target, "--outdir", str(out), str(tmp_path / "book.xlsx")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_libreoffice_opens_it_and_sees_the_same_text(soffice, tmp_path):
    values = columns()
    depths = {code: i % 3 for i, code in enumerate(values["unit_code"])}
    (tmp_path / "book.xlsx").write_bytes(to_xlsx(INFO, NAMES, values, depths))
    # Every sheet to its own CSV (the last field, -1), values as stored rather than as shown.
    csv_filter = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    convert(soffice, tmp_path, csv_filter, tmp_path)
    for level in ("Xã", "Phường"):
        with open(tmp_path / f"book-{level}.csv", encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        assert rows[0] == NAMES
        picked = [i for i, v in enumerate(values["level"]) if v == level]
        assert [r[1] for r in rows[1:]] == [values["unit_name"][i] for i in picked]
        assert [r[0] for r in rows[1:]] == [values["unit_code"][i] for i in picked]
        assert [r[6] for r in rows[1:]] == [str(i * 1000) for i in picked]
    method = (tmp_path / "book-Phương pháp.csv").read_text(encoding="utf-8")
    assert "1/1/2025 – 31/3/2025" in method and "Wilson" in method
    assert "Bảng tổng hợp / Summary" in method
    with open(tmp_path / f"book-{REPORT}.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:5] == ["Mã đơn vị / Code", "Tên đơn vị / Unit", "Cấp / Level",
                           "Số người trả lời / Respondents",
                           "Chỉ số hài lòng chung / Overall index"]  # fmt: skip
    assert [r[0] for r in rows[1:]] == values["unit_code"]
    assert [r[1] for r in rows[1:]][:3] == AWKWARD[:3]
    assert [r[3] for r in rows[1:]] == [str(i * 1000) for i in range(12)]
    # A number in a percent format, which LibreOffice writes with its % sign; empty if withheld.
    assert rows[1][4] == "" and rows[1][7].startswith("dưới 10 phiếu")
    for row, want in zip(rows[2:], values["estimate"][1:], strict=True):
        assert row[4].endswith("%") and abs(float(row[4][:-1]) / 100 - want) < 1e-6
    # And written back by LibreOffice as a workbook: the indents and formats were understood.
    convert(soffice, tmp_path, "xlsx", tmp_path / "again")
    sheet = openpyxl.load_workbook(tmp_path / "again" / "book.xlsx")[REPORT]
    lines = list(sheet.iter_rows(min_row=2))
    indents = [i % 3 if name else 0 for i, name in enumerate(AWKWARD)]
    assert [cells[1].alignment.indent for cells in lines] == indents
    assert {c[1].alignment.horizontal for c, i in zip(lines, indents, strict=True) if i} == {"left"}
    assert {cells[4].number_format for cells in lines[1:]} == {"0.00%"}
