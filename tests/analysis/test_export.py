"""Exports read back (csv, openpyxl, json) equal the API's rows; spreadsheet text stays text."""

import csv
import io
import json
from datetime import datetime

import openpyxl
import pytest

from analysis import warm
from analysis.export import PROPORTIONS, to_csv
from analysis.spreadsheetml import sheet_names
from core.apikeys import Scope, create_key
from core.extensions import db
from survey.models import Response
from tests.analysis.test_indexes import hand_example, import_rows, response

FILTERS = {"from": "2024-03-01", "to": "2024-03-31", "compare": "previous", "ranks": "1"}
HOSTILE = {
    "H1": '=HYPERLINK("http://x","y")',
    "H2": "+cmd|' /C calc'!A0",
    "H3": "@SUM(1+1)*cmd|' /C calc'!A0",
    "H4": "-2+3",
}


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    monkeypatch.setattr(warm, "_cache", {})


@pytest.fixture
def figures(runner, tmp_path, tree, questionnaire):
    """The hand-worked example, plus communes with formula-like names imported from CSV."""
    units = tmp_path / "units.csv"
    with units.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["code", "name", "level", "parent_code"])
        writer.writerows([code, name, "Phường", "769"] for code, name in HOSTILE.items())
    result = runner.invoke(args=["units", "import", str(units)])
    assert result.exit_code == 0, result.output
    hand_example()
    import_rows([response(code, 4, 2) for code in HOSTILE for _ in range(12)])
    return tree


def export(runner, tmp_path, name, *extra, **filters):
    out = tmp_path / name
    chosen = {**FILTERS, **filters}
    args = [f"--{k}={v}" for k, v in chosen.items() if k != "ranks" and v is not None]
    result = runner.invoke(args=["analysis", "export", *args, "--ranks", *extra, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    return out


def api(client, **filters):
    record, secret = create_key("export test", Scope.ANALYSIS)
    db.session.commit()
    query = "&".join(f"{k}={v}" for k, v in {**FILTERS, **filters}.items())
    response = client.get(f"/api/v1/indexes?{query}", headers={"X-API-Key": secret})
    assert response.status_code == 200, response.json
    return response.json


def test_csv_reads_back_as_the_api_rows(runner, client, tmp_path, figures):
    raw = export(runner, tmp_path, "march.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # BOM for Excel; RFC 4180 lines
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    body = api(client)
    # The API's columns (the weighting last), then the units, which JSON says in its meta.
    assert reader.fieldnames == [*body["columns"], "units"] and body["columns"][-1] == "weighting"
    rows = list(reader)
    assert len(rows) == len(body["rows"]) == 10 * 26
    assert {row["weighting"] for row in rows} == {body["meta"]["weighting"]} == {"respondents"}
    assert {row["units"] for row in rows} == {body["meta"]["units"]} == {"then"}
    for got, want in zip(rows, body["rows"], strict=True):
        for column, value in want.items():
            if value is None:
                assert got[column] == ""
            elif isinstance(value, bool):
                assert got[column] == str(value).lower()
            elif isinstance(value, int | float):
                assert float(got[column]) == value and "," not in got[column]
            elif value.startswith(("=", "+", "-", "@")):
                assert got[column] == "'" + value  # Excel shows it as text, never runs it
            else:
                assert got[column] == value
    assert "Phường Bến Nghé" in raw.decode("utf-8-sig")


def weightings_by_format(runner, tmp_path, weighting):
    """Export March as CSV, JSON and XLSX; return {format: {(unit, measure): weighting}}."""
    found = {}
    for fmt in ("csv", "json", "xlsx"):
        out = tmp_path / f"{weighting}.{fmt}"
        args = ["--from", "2024-03-01", "--to", "2024-03-31", "--weighting", weighting]
        result = runner.invoke(args=["analysis", "export", *args, "--out", str(out)])
        assert result.exit_code == 0, result.output
        if fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
        elif fmt == "json":
            rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
        else:
            book = openpyxl.load_workbook(out)
            rows = []
            for sheet in book.sheetnames[2:]:  # after the method and report sheets
                lines = list(book[sheet].iter_rows(values_only=True))
                rows += [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]
        found[fmt] = {(r["unit_code"], r["measure"]): r["weighting"] for r in rows}
    return found


def test_each_row_says_which_weighting_made_its_figure(runner, tmp_path, figures):
    # Quận 1's two wards have a population; Thủ Đức's Thảo Điền has one, but its four other
    # wards (the hostile names), which have answers to A1 and B1, have none; neither district
    # has one.
    for code, population in {"26734": 30000, "26737": 10000, "26800": 50000}.items():
        figures[code].population = population
    db.session.commit()
    by_respondents = weightings_by_format(runner, tmp_path, "respondents")
    by_population = weightings_by_format(runner, tmp_path, "population")
    for fmt in ("csv", "json", "xlsx"):
        assert set(by_respondents[fmt].values()) == {"respondents"}, fmt
        said = by_population[fmt]
        for measure in ("overall", "criterion:A1"):
            # Quận 1 weighs its wards by population; Thủ Đức falls back to respondents for
            # want of its wards' population, and so does the province for its districts'.
            assert said[("760", measure)] == "population", fmt
            assert said[("769", measure)] == "respondents", fmt
            assert said[("79", measure)] == "respondents", fmt
            assert said[("26734", measure)] == said[("H1", measure)] == "population", fmt
        # Nobody answered C1: no child with answers, nothing to fall back from.
        assert said[("769", "criterion:C1")] == "population", fmt


def test_json_is_the_api_document(runner, client, tmp_path, figures):
    document = json.loads(export(runner, tmp_path, "march.json").read_text(encoding="utf-8"))
    body = api(client)
    assert document["columns"] == body["columns"] and document["rows"] == body["rows"]
    for meta in (document["meta"], body["meta"]):
        meta.pop("generated_at")
    assert document["meta"] == body["meta"]
    estimates = [r["estimate"] for r in document["rows"] if r["estimate"] is not None]
    assert estimates and all(0 <= e <= 1 for e in estimates)


def test_xlsx_reads_back_as_the_api_rows(runner, client, tmp_path, figures):
    book = openpyxl.load_workbook(export(runner, tmp_path, "march.xlsx"))
    body = api(client)
    levels = list(dict.fromkeys(r["level"] for r in body["rows"]))
    # Tỉnh, Quận, Phường, Thành phố, after the report sheet (test_report_sheet.py)
    assert book.sheetnames == ["Phương pháp", "Bảng tổng hợp", *levels]
    for level in levels:
        sheet = book[level]
        header = [c.value for c in sheet[1]]
        assert header == body["columns"] and all(c.font.bold for c in sheet[1])
        assert sheet.freeze_panes == "A2"
        want = [r for r in body["rows"] if r["level"] == level]
        got = list(sheet.iter_rows(min_row=2))
        assert len(got) == len(want)
        for cells, row in zip(got, want, strict=True):
            for cell, column in zip(cells, body["columns"], strict=True):
                value = row[column]
                if column in PROPORTIONS:
                    if value is None:
                        assert cell.value in (None, "—")
                        assert cell.value == "—" or row["flag"] != "suppressed"
                    else:
                        assert cell.value == value and cell.number_format == "0.00%"
                elif column in ("period_start", "period_end"):
                    assert cell.value.date().isoformat() == value
                    assert cell.number_format == "dd/mm/yyyy"
                else:
                    assert cell.value == (value if value != "" else None), (column, value)
    method = book["Phương pháp"]
    text = "\n".join(str(c.value) for row in method.iter_rows() for c in row if c.value)
    for expected in ("Wilson", "Trọng số", "Weights by number of respondents", "suppressed",
                     "Dưới 10 phiếu", "1/3/2024 – 31/3/2024", "1/2/2024 – 29/2/2024",
                     "rank_low"):  # fmt: skip
        assert expected in text, expected


def test_xlsx_never_holds_a_formula(runner, tmp_path, figures):
    book = openpyxl.load_workbook(export(runner, tmp_path, "all.xlsx", level="Phường"))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    names = {c.value: c for c in cells if c.value in HOSTILE.values()}
    assert set(names) == set(HOSTILE.values())
    assert all(c.data_type == "s" and c.quotePrefix for c in names.values())
    assert book.sheetnames == ["Phương pháp", "Bảng tổng hợp", "Phường"]


def test_population_weighting_and_preset(runner, tmp_path, figures):
    period = {"from": None, "to": None, "preset": "quarter", "anchor": "2024-02-14"}
    out = export(runner, tmp_path, "q1.json", "--shrink", weighting="population", **period)
    meta = json.loads(out.read_text(encoding="utf-8"))["meta"]
    assert meta["weighting"] == "population" and "population" in meta["method"]
    assert meta["period"] == {"start": "2024-01-01", "end": "2024-03-31"}
    assert meta["comparison_period"] == {"start": "2023-10-01", "end": "2023-12-31"}


def test_format_from_option_or_extension(runner, tmp_path, figures):
    out = export(runner, tmp_path, "figures.data", "--format", "csv", unit="760")
    assert out.read_bytes().startswith(b"\xef\xbb\xbfunit_code,unit_name")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2024-03-01", "--to", "2024-03-31", "--out", "x.pdf"], "--out must end in"),
        (["--from", "2024-02-30", "--to", "2024-03-31", "--out", "x.csv"], "--from: '2024-02-30'"),
        (["--from", "2024-03-31", "--to", "2024-03-01", "--out", "x.csv"], "--to: 2024-03-01 is"),
        (["--from", "2024-03-01", "--out", "x.csv"], "--to: is required"),
        (["--from", "2024-03-01", "--to", "2024-03-31", "--unit", "nope", "--out", "x.csv"],
         "--unit: no unit with code nope"),
        (["--from", "2024-03-01", "--to", "2024-03-31", "--level", "Xóm", "--out", "x.csv"],
         "--level: no unit has level 'Xóm'"),
        (["--from", "2024-03-01", "--to", "2024-03-31", "--channel", "fax", "--out", "x.csv"],
         "Invalid value for '--channel'"),
        (["--from", "2024-03-01", "--to", "2024-03-31", "--out", "/nonexistent/dir/x.csv"],
         "cannot write"),
    ],
)  # fmt: skip
def test_export_errors(runner, tmp_path, figures, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(args=["analysis", "export", *args])
    assert result.exit_code != 0 and message in result.output, result.output
    assert not (tmp_path / "x.csv").exists()


def test_sheet_names_are_safe_and_unique():
    names = sheet_names(
        ["Phường/xã [mới]: *?", "A" * 40, "A" * 40, "phương pháp", "history", ""],
        {"Phương pháp"},
    )
    assert names[0] == "Phường_xã _mới__ __"
    assert names[1] == "A" * 31 and names[2] == "A" * 29 + " 2"
    assert names[3] == "phương pháp 2" and names[4] == "history 2" and names[5] == "Sheet"
    assert all(len(n) <= 31 for n in names) and len({n.casefold() for n in names}) == len(names)


def test_csv_fields_are_quoted_as_the_csv_module_quotes_them():
    names = ["unit_name", "n", "estimate", "significant", "flag"]
    awkward = ['Phường "Mới", Q.1', "dòng\nhai", "về\rđầu", "", "a,b", "=1+2", "bình thường"]
    values = {
        "unit_name": awkward,
        "n": [0, 12, 7, 1, 30, 5, 2],
        "estimate": [None, 0.5, 1.0, 0.000001, 0.123457, 0.0, 0.25],
        "significant": [None, True, False, None, True, False, None],
        "flag": ["suppressed", "ok", "x,y", 'say "hi"', "", "ok", "ok"],
    }
    want = io.StringIO(newline="")
    writer = csv.writer(want, lineterminator="\r\n")
    writer.writerow(names)
    for i in range(len(awkward)):
        name = awkward[i] if not awkward[i].startswith("=") else "'" + awkward[i]
        estimate = values["estimate"][i]
        significant = values["significant"][i]
        writer.writerow([
            name, values["n"][i],
            "" if estimate is None else {0.5: "0.5", 1.0: "1", 0.000001: "0.000001",
                                         0.123457: "0.123457", 0.0: "0", 0.25: "0.25"}[estimate],
            "" if significant is None else str(significant).lower(), values["flag"][i],
        ])  # fmt: skip
    assert to_csv(names, values) == ("\ufeff" + want.getvalue()).encode("utf-8")
    back = list(csv.reader(io.StringIO(to_csv(names, values).decode("utf-8-sig"), newline="")))
    assert [row[0] for row in back[1:]] == ["'=1+2" if a.startswith("=") else a for a in awkward]


def test_no_export_holds_a_survey_comment(runner, tmp_path, figures, questionnaire):
    """Comments never leave in an export (personal data), so one stored before the survey form
    took out direction controls cannot show an analyst anything backwards."""
    db.session.add(
        Response(
            questionnaire_id=questionnaire.id, unit_id=figures["26734"].id, channel="paper",
            submitted_at=datetime(2024, 3, 15, 2), a1=4, hk=False,
            comment="\u202eGọi 0901234567, Nguyễn Văn A",
        )
    )  # fmt: skip
    db.session.commit()
    csv_text = export(runner, tmp_path, "march.csv").read_text(encoding="utf-8")
    json_text = export(runner, tmp_path, "march.json").read_text(encoding="utf-8")
    book = openpyxl.load_workbook(export(runner, tmp_path, "march.xlsx"))
    cells = " ".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row)
    for text in (csv_text, json_text, cells):
        assert "0901234567" not in text and "Nguyễn Văn A" not in text and "\u202e" not in text
    rows = json.loads(json_text)["rows"]
    a1 = next(r for r in rows if r["unit_code"] == "26734" and r["measure"] == "criterion:A1")
    assert a1["n"] == 12  # the hand example's 11 answers and this one: it is in the export
