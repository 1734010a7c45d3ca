"""The XLSX export's report sheet: a unit a row in tree order, the tidy sheets' figures."""

import io
import json
import re
from datetime import timedelta

import openpyxl
import pytest
from flask_babel import force_locale, gettext

from analysis import method, report_table, warm
from analysis.export import PROPORTIONS
from core.extensions import db
from core.models import Unit, utcnow
from survey.questionnaires import DEFAULT_QUESTIONNAIRE
from tests.analysis.test_indexes import hand_example, import_rows, response
from tests.analysis.test_pakn import answered_case
from tests.conftest import add_units, signed_in

REPORT = "Bảng tổng hợp"
# The report sheet's columns: header, then the tidy row (measure) and column (field) it shows.
COLUMNS = [
    ("Mã đơn vị / Code", None, "unit_code"),
    ("Tên đơn vị / Unit", None, "unit_name"),
    ("Cấp / Level", None, "level"),
    ("Số người trả lời / Respondents", "overall", "n"),
    ("Chỉ số hài lòng chung / Overall index", "overall", "estimate"),
    ("Cận dưới khoảng tin cậy 95% / 95% interval, low", "overall", "ci_low"),
    ("Cận trên khoảng tin cậy 95% / 95% interval, high", "overall", "ci_high"),
    ("Cảnh báo chỉ số chung / Overall index flag", "overall", "flag"),
    ("A. Tiếp cận dịch vụ / A. Access to the service", "element:A", "estimate"),
    ("B. Thủ tục hành chính / B. Administrative procedure", "element:B", "estimate"),
    ("C. Công chức giải quyết thủ tục / C. The civil servant", "element:C", "estimate"),
    ("D. Kết quả giải quyết / D. The result", "element:D", "estimate"),
    ("E. Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị / E. Handling of feedback", "element:E",
     "estimate"),
    ("Tỷ lệ bị yêu cầu sổ hộ khẩu giấy / Asked for the paper household register",
     "household_register_asked", "estimate"),
    ("n: câu trả lời về sổ hộ khẩu / n: answers on the household register",
     "household_register_asked", "n"),
    ("PAKN giải quyết đúng hạn / PAKN handled on time", "pakn:handled_on_time", "estimate"),
    ("n: PAKN đã trả lời hoặc quá hạn / n: PAKN answered or past due",
     "pakn:handled_on_time", "n"),
    ("Hài lòng về xử lý PAKN / Satisfaction with PAKN handling", "pakn:handling_satisfaction",
     "estimate"),
    ("n: PAKN đã trả lời trong kỳ / n: PAKN answered in the period",
     "pakn:handling_satisfaction", "n"),
    ("Hài lòng về thủ tục hành chính / Satisfaction with procedures",
     "pakn:procedure_satisfaction", "estimate"),
    ("n: hồ sơ có mã trên giấy hẹn / n: dossiers with a receipt code",
     "pakn:procedure_satisfaction", "n"),
    ("Số PAKN tiếp nhận / PAKN received", "pakn:received", "n"),
    ("Cảnh báo khác / Other flags", None, "notes"),
    ("Trọng số / Weighting", None, "weighting"),
]  # fmt: skip
WITHHELD = "dưới 10 phiếu: không hiển thị / fewer than 10 answers: not shown"


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    monkeypatch.setattr(warm, "_cache", {})


@pytest.fixture
def deeper(tree, questionnaire):
    """The test tree, plus a commune of Quận 1 added last and a counter team under Bến Nghé:
    province, district, communes, a team, in that order of depth."""
    team = Unit(code="26734.1", name="Tổ một cửa", level="Tổ", parent=tree["26734"])
    late = Unit(code="26740", name="=Phường Tân Định", level="Phường", parent=tree["760"])
    add_units(team, late)
    return tree | {u.code: u for u in (team, late)}


# Parents before their children, each unit's children after it: the page's order.
TREE_ORDER = ["79", "760", "26734", "26734.1", "26737", "26740", "769", "26800"]
DEPTHS = [0, 1, 2, 3, 2, 2, 1, 2]


@pytest.fixture
def figures(deeper, make_user):
    """The hand-worked survey example, 15 answers at the team, and PAKN cases at Bến Nghé."""
    hand_example()
    import_rows([response("26734.1", 4, 4 if i < 9 else 2) for i in range(15)])
    admin = make_user("admin@x.vn", "admin")
    for i in range(12):
        answered_case(deeper["26734"], admin, satisfied=i >= 2)
    db.session.commit()
    return deeper


def period() -> dict:
    today = (utcnow() + timedelta(hours=7)).date()
    return {"from": "2024-03-01", "to": today.isoformat()}


def export(runner, tmp_path, *extra):
    out = tmp_path / "book.xlsx"
    args = [f"--{k}={v}" for k, v in period().items()]
    result = runner.invoke(args=["analysis", "export", *args, *extra, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return openpyxl.load_workbook(out)


def tidy_rows(book) -> dict[tuple[str, str], dict]:
    """Every row of the tidy sheets (those after the report sheet), by unit and measure."""
    rows = {}
    for sheet in book.worksheets[2:]:
        header = [c.value for c in sheet[1]]
        for cells in sheet.iter_rows(min_row=2, values_only=True):
            row = dict(zip(header, cells, strict=True))
            assert (row["unit_code"], row["measure"]) not in rows
            rows[row["unit_code"], row["measure"]] = row
    return rows


def test_every_figure_is_the_tidy_rows_and_every_unit_has_one_row(runner, tmp_path, figures):
    book = export(runner, tmp_path)
    assert book.sheetnames[:2] == ["Phương pháp", REPORT]
    sheet = book[REPORT]
    assert [c.value for c in sheet[1]] == [header for header, _m, _f in COLUMNS]
    assert all(c.font.b and c.alignment.wrap_text for c in sheet[1])
    tidy = tidy_rows(book)
    lines = list(sheet.iter_rows(min_row=2))
    codes = [cells[0].value for cells in lines]
    # Both ways: a row for every unit of the tidy sheets, and none else, each once.
    assert sorted(codes) == sorted({code for code, _measure in tidy}) and len(set(codes)) == 8
    shown = withheld = 0
    for cells in lines:
        code = cells[0].value
        for cell, (header, measure, field) in zip(cells, COLUMNS, strict=True):
            if measure is None:
                continue
            row = tidy[code, measure]
            if field == "n":
                assert cell.value == row["n"] and cell.number_format == "#,##0", (code, header)
            elif field == "flag":
                words = {
                    "": None,
                    "few_answers": "ít phiếu / few answers",
                    "imprecise": "kém chính xác / imprecise",
                    "suppressed": WITHHELD,
                }
                assert cell.value == words[row["flag"] or ""], (code, header)  # fmt: skip
            elif row["flag"] == "suppressed":
                assert row[field] in (None, "—") and cell.value is None, (code, header)
                withheld += 1
            else:
                assert field in PROPORTIONS and isinstance(row[field], float)
                assert cell.value == row[field], (code, header)
                assert cell.data_type == "n" and cell.number_format == "0.00%"
                shown += 1
    assert shown > 40 and withheld > 20  # both kinds of figure were met


def test_flags_are_the_pages_words_beside_the_figures(runner, tmp_path, figures):
    sheet = export(runner, tmp_path)[REPORT]
    by_code = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    flag, notes = 7, len(COLUMNS) - 2
    # Đa Kao: 8 answers, every figure withheld: empty, as the page's "—", the overall's flag
    # saying why; nothing shown, so nothing to caution about.
    dakao = by_code["26737"]
    assert dakao[3] == 8 and dakao[4:7] == (None, None, None) and dakao[flag] == WITHHELD
    assert dakao[8:14] == (None,) * 6 and dakao[14] == 8 and dakao[notes] is None
    # The team: 15 respondents, A1 15 of 15, B1 9 of 15: few answers, said beside each figure.
    team = by_code["26734.1"]
    assert team[3:9] == (15, 0.8, 0.62451, 0.905839, "ít phiếu / few answers", 1.0)
    assert team[9:15] == (0.6, None, None, None, 0.0, 15)
    assert team[notes] == (
        "A: ít phiếu; B: ít phiếu; Sổ hộ khẩu: ít phiếu / "
        "A: few answers; B: few answers; household register: few answers"
    )
    # Bến Nghé's 12 PAKN, answered on time, 10 to the citizen's liking, count up the tree.
    for code in ("26734", "760", "79"):
        assert by_code[code][15:22] == (1.0, 12, round(10 / 12, 6), 12, None, 0, 12)
        assert "PAKN đúng hạn: ít phiếu; Hài lòng xử lý PAKN: ít phiếu /" in by_code[code][notes]
    # Quận 1's B is shown, but its interval is 0.30 wide or more.
    assert by_code["760"][notes].startswith("B: kém chính xác; ")
    assert "/ B: imprecise; PAKN on time: few answers" in by_code["760"][notes]


def test_each_row_says_the_weighting_of_its_figures(runner, tmp_path, figures):
    weighting = len(COLUMNS) - 1
    sheet = export(runner, tmp_path)[REPORT]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    # Đa Kao's figures are all withheld, Tân Định has no answers: no weighting to say.
    assert {row[0] for row in rows if row[weighting] is None} == {"26737", "26740"}
    assert {row[weighting] for row in rows} == {"theo số người trả lời / respondents", None}
    # Bến Nghé and Đa Kao have a population, Quận 1's other wards none; Quận 1 itself none.
    for code, population in {"26734": 30000, "26737": 10000, "26740": 5000}.items():
        figures[code].population = population
    db.session.commit()
    book = export(runner, tmp_path, "--weighting", "population")
    by_code = {row[0]: row for row in book[REPORT].iter_rows(min_row=2, values_only=True)}
    tidy = tidy_rows(book)
    # Quận 1 weighs its wards by population; the province falls back to respondents for want
    # of Quận 1's and Thủ Đức's; a ward is its own answers, "population" as the tidy rows say.
    assert tidy["760", "overall"]["weighting"] == "population"
    assert tidy["79", "overall"]["weighting"] == "respondents"
    assert by_code["760"][weighting] == "theo dân số / population"
    assert by_code["79"][weighting] == "theo số người trả lời / respondents"
    for code, row in by_code.items():
        if row[4] is not None:  # the overall index is shown: the column says its weighting
            words = report_table.WEIGHTING_WORDS[tidy[code, "overall"]["weighting"]]
            assert row[weighting].startswith(words[0]), code
    # Only PAKN figures: no satisfaction figure to say the weighting of, so no column.
    book = export(runner, tmp_path, "--measure", "pakn:received")
    assert "Trọng số / Weighting" not in [c.value for c in book[REPORT][1]]


def test_a_figure_weighted_otherwise_is_named(app):
    values = {
        "unit_code": ["1"] * 4, "unit_name": ["Tỉnh"] * 4, "level": ["Tỉnh"] * 4,
        "measure": ["overall", "element:A", "element:C", "household_register_asked"],
        "n": [40, 40, 12, 40], "estimate": [0.8, 0.7, 0.5, 0.1], "flag": ["", "", "", ""],
        "weighting": ["respondents", "respondents", "population", "population"],
    }  # fmt: skip
    unit = report_table.units_of(values)[0]
    columns = report_table.columns_for(set(values["measure"]))
    assert report_table.weighting(unit, columns, values) == (
        "theo số người trả lời; C: theo dân số; Sổ hộ khẩu: theo dân số / "
        "respondents; C: population; household register: population"
    )
    values["estimate"][0] = None  # the overall index withheld: the first shown figure leads
    assert report_table.weighting(unit, columns, values) == (
        "theo số người trả lời; C: theo dân số; Sổ hộ khẩu: theo dân số / "
        "respondents; C: population; household register: population"
    )
    values["flag"][1] = "suppressed"
    assert report_table.weighting(unit, columns, values) == "theo dân số / population"


def test_the_words_are_the_catalogues_and_the_questionnaires(app):
    for flag, (vi, en) in report_table.FLAG_WORDS.items():
        msgid = "fewer than 10 answers: not shown" if flag == "suppressed" else en
        assert en == msgid
        with app.test_request_context(), force_locale("vi"):
            assert gettext(msgid) == vi
        # The method sheet names each flag with the same words, in both languages.
        vi_rule, en_rule = method.FLAGS[flag]
        assert vi_rule.casefold().startswith(vi.split(":")[0].casefold()), (vi_rule, vi)
        name = {"suppressed": "under 10 answers"}.get(flag, en)
        assert en_rule.casefold().startswith(name), (en_rule, en)
    elements = json.loads(DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8"))["elements"]
    titles = {e["code"]: (e["title"]["vi"], e["title"]["en"]) for e in elements}
    assert titles == report_table.ELEMENT_TITLES


def test_units_follow_the_tree_indented_by_depth_as_on_the_page(app, figures, make_user):
    make_user("analyst@x.vn", "analyst")
    client = signed_in(app, "analyst@x.vn", language="vi")
    query = "&".join(f"{k}={v}" for k, v in period().items())
    page = client.get(f"/staff/analysis/?{query}").get_data(as_text=True)
    indexes = page.split('id="pakn"')[0]  # the PAKN table below repeats the units
    on_page = re.findall(r'<th scope="row" class="d(\d)">.*?<small>([^<]+)</small>', indexes)
    assert [code for _depth, code in on_page] == TREE_ORDER
    response = client.get(f"/staff/analysis/export.xlsx?{query}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))[REPORT]
    lines = list(sheet.iter_rows(min_row=2))
    assert [cells[0].value for cells in lines] == TREE_ORDER
    assert [int(cells[1].alignment.indent) for cells in lines] == DEPTHS
    # Excel and LibreOffice indent only text aligned to the left.
    assert {cells[1].alignment.horizontal for cells in lines[1:]} == {"left"}
    assert [str(min(d, 3)) for d in DEPTHS] == [depth for depth, _code in on_page]
    assert [cells[1].value for cells in lines][:3] == ["Thành phố Hồ Chí Minh", "Quận 1",
                                                       "Phường Bến Nghé"]  # fmt: skip
    # A name Excel would take for a formula stays text, indented all the same.
    tan_dinh = lines[TREE_ORDER.index("26740")][1]
    assert tan_dinh.value == "=Phường Tân Định" and tan_dinh.data_type == "s"
    assert tan_dinh.quotePrefix and tan_dinh.alignment.indent == 2
    assert sheet.freeze_panes == "C2" and sheet.auto_filter.ref == f"A1:X{len(TREE_ORDER) + 1}"


def test_a_subtree_counts_depth_from_its_top_and_a_level_is_flat(runner, tmp_path, figures):
    sheet = export(runner, tmp_path, "--unit", "760")[REPORT]
    lines = list(sheet.iter_rows(min_row=2))
    assert [c[0].value for c in lines] == ["760", "26734", "26734.1", "26737", "26740"]
    assert [int(c[1].alignment.indent) for c in lines] == [0, 1, 2, 1, 1]
    sheet = export(runner, tmp_path, "--level", "Phường")[REPORT]
    lines = list(sheet.iter_rows(min_row=2))
    assert [c[0].value for c in lines] == ["26734", "26737", "26740", "26800"]
    assert {int(c[1].alignment.indent) for c in lines} == {0}


def test_only_the_measures_exported_have_columns(runner, tmp_path, figures):
    book = export(runner, tmp_path, "--measure", "overall", "--measure", "element:E")
    header = [c.value for c in book[REPORT][1]]
    assert header == [h for h, measure, _f in COLUMNS if measure in (None, "overall", "element:E")]
    book = export(runner, tmp_path, "--measure", "criterion:A1")
    assert REPORT not in book.sheetnames  # none of its figures: no report sheet
    assert book.sheetnames[0] == "Phương pháp" and len(book.sheetnames) > 1
