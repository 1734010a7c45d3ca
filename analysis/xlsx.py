"""Index columns as a formatted workbook: a method sheet, a report sheet (report_table.py: a unit
a row, the figures side by side), then one sheet of figures per level.

The workbook is written as SpreadsheetML (ECMA-376) directly: a zip of a few XML parts, each
sheet built column by column from the export's columns. openpyxl wrote the same workbook cell
object by cell object, 3.8 s for a year of 1,021 units; this takes a tenth of that. Strings are
inline strings (never formulas, and those that look like one also carry quotePrefix, so editing
the cell in Excel keeps it text); characters XML cannot hold are written as Excel's _xHHHH_.
"""

import io
import math
import re
import zipfile
from datetime import date
from xml.sax.saxutils import escape

from analysis import method, report_table
from analysis.export import DATES, PROPORTIONS, pooled_shrinkage
from core.csvfile import FORMULA_START

BAD_SHEET_CHARACTERS = re.compile(r"[\[\]:*?/\\]")

# Characters XML 1.0 cannot hold (and CR, which XML readers turn into LF), and any text that
# already looks like Excel's escape, whose underscore must then be escaped itself.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]|_(?=x[0-9A-Fa-f]{4}_)")
_DAY_ZERO = date(1899, 12, 30).toordinal()  # Excel's day 0 in the 1900 date system
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same figures make the same file

# Cell formats, the index of each in styles.xml's cellXfs. A method sheet cell wraps and is top
# aligned; its first row and first column are bold. The report sheet indents a unit's name by
# its depth (one step is three spaces wide; Excel and LibreOffice indent only left-aligned
# text), up to Excel's deepest indent, each plain then quoted.
PLAIN, BOLD, PERCENT, DAY, COUNT, TEXT = range(6)
WRAP, WRAP_BOLD, WRAP_TEXT, WRAP_BOLD_TEXT = range(6, 10)
MAX_INDENT = 15
INDENTED = 10  # depth d at INDENTED + 2 * (d - 1), quoted one after
_XF = (
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
    '<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>',
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>',
    '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>',
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>',
    *(
        f'<xf numFmtId="0" fontId="{font}" fillId="0" borderId="0" xfId="0"{quote} applyFont="1"'
        ' applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
        for quote in ("", ' quotePrefix="1"')
        for font in (0, 1)
    ),
    *(
        f'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"{quote} applyAlignment="1">'
        f'<alignment horizontal="left" indent="{depth}"/></xf>'
        for depth in range(1, MAX_INDENT + 1)
        for quote in ("", ' quotePrefix="1"')
    ),
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    f'<cellXfs count="{len(_XF)}">{"".join(_XF)}</cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def sheet_names(names: list[str], taken: set[str] = frozenset()) -> list[str]:
    """Return Excel-safe sheet names: at most 31 characters, no []:*?/\\, unique ignoring case."""
    seen, result = {t.casefold() for t in taken}, []
    for name in names:
        base = BAD_SHEET_CHARACTERS.sub("_", name).strip().strip("'")[:31] or "Sheet"
        candidate, number = base, 1
        while candidate.casefold() in seen or candidate.casefold() == "history":
            number += 1
            candidate = f"{base[: 31 - len(str(number)) - 1]} {number}"
        seen.add(candidate.casefold())
        result.append(candidate)
    return result


def column_letters(count: int) -> list[str]:
    """Return the names of the first count columns: A..Z, AA..AZ, BA and so on."""
    letters = []
    for number in range(1, count + 1):
        name = ""
        while number:
            number, rest = divmod(number - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


def _xml_text(text: str) -> str:
    """Return text as the content of an XML element: escaped, and unsafe characters as _xHHHH_."""
    text = escape(text)
    if _UNSAFE.search(text):
        text = _UNSAFE.sub(lambda m: f"_x{ord(m.group()[0]):04X}_", text)
    return text


def _string_cell(text: str, style: int, quoted_style: int) -> str:
    """Return the XML of a text cell after its reference, e.g. ' t="inlineStr"><is>...</c>'."""
    if text.startswith(FORMULA_START):
        style = quoted_style
    space = ' xml:space="preserve"' if text != text.strip() else ""
    s = f' s="{style}"' if style else ""
    return f'{s} t="inlineStr"><is><t{space}>{_xml_text(text)}</t></is></c>'


def _cells(column: str, values: list, flags: list) -> list[str]:
    """Return one column's cells, each the XML that follows '<c r="A1"'; '' for an empty cell."""
    if column in PROPORTIONS:
        dash = ' t="inlineStr"><is><t>—</t></is></c>'  # suppressed: too few answers to show
        return [
            f' s="{PERCENT}"><v>{value!r}</v></c>'
            if value is not None
            else (dash if flag == "suppressed" else "")
            for value, flag in zip(values, flags, strict=True)
        ]
    if column in DATES:
        days = {v: date.fromisoformat(v).toordinal() - _DAY_ZERO for v in set(values) if v}
        return [f' s="{DAY}"><v>{days[v]}</v></c>' if v else "" for v in values]
    style = COUNT if column == "n" else PLAIN
    number = f' s="{style}"><v>' if style else "><v>"
    texts = {}
    cells = []
    for value in values:
        if value is None or value == "":
            cells.append("")
        elif isinstance(value, str):
            if value not in texts:  # names, codes and flags repeat
                texts[value] = _string_cell(value, PLAIN, TEXT)
            cells.append(texts[value])
        elif isinstance(value, bool):
            cells.append(f' t="b"><v>{int(value)}</v></c>')
        else:
            cells.append(f"{number}{value!r}</v></c>")
    return cells


def _sheet(
    body: str, widths: list[float], *, dimension: str = "", tab: bool = False, frozen: int = 0
) -> str:
    """Return a worksheet part around its rows: its extent, the view and the column widths.

    A sheet given its extent (e.g. "A1:K27") has a header row, kept in view by a frozen pane,
    and with frozen its first columns too.
    """
    selected = ' tabSelected="1"' if tab else ""
    pane = (
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        if dimension
        else ""
    )
    if dimension and frozen:
        corner = f"{column_letters(frozen + 1)[-1]}2"
        pane = (
            f'<pane xSplit="{frozen}" ySplit="1" topLeftCell="{corner}" activePane="bottomRight"'
            ' state="frozen"/><selection pane="topRight"/><selection pane="bottomLeft"/>'
            f'<selection pane="bottomRight" activeCell="{corner}" sqref="{corner}"/>'
        )
    extent = f'<dimension ref="{dimension}"/>' if dimension else ""
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>' for i, w in enumerate(widths, 1)
    )
    return (
        f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}">{extent}'
        f'<sheetViews><sheetView{selected} workbookViewId="0">{pane}</sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>{body}</worksheet>'
    )


def _rows(cells: list[list[str]], letters: list[str], first: int, height: float = 0) -> str:
    """Return <sheetData> for rows of cells (XML after the reference), numbered from first;
    the first row height points high where given (a header whose words wrap)."""
    parts = ["<sheetData>"]
    for number, row in enumerate(cells, first):
        tall = f' ht="{height:g}" customHeight="1"' if height and number == first else ""
        parts.append(f'<row r="{number}"{tall}>')
        pairs = zip(letters, row, strict=True)
        parts.extend(f'<c r="{letter}{number}"{cell}' for letter, cell in pairs if cell)
        parts.append("</row>")
    parts.append("</sheetData>")
    return "".join(parts)


def _width(column: str, values: list) -> float:
    if column in PROPORTIONS:
        return 11
    longest = max((len(str(v or "")) for v in values[:5000]), default=0)
    return min(60, max(len(column), longest, 8) + 2)


def _figures_sheet(
    names: list[str], values: dict[str, list], picked: list[int], letters: list[str]
) -> str:
    flags = [values["flag"][i] for i in picked]
    columns = []
    for name in names:
        column = [values[name][i] for i in picked]
        columns.append((_width(name, column), _cells(name, column, flags)))
    header = [_string_cell(name, BOLD, BOLD) for name in names]
    body = _rows([header, *zip(*(cells for _, cells in columns), strict=True)], letters, 1)
    last = f"{letters[-1]}{len(picked) + 1}"
    body = f'{body}<autoFilter ref="A1:{last}"/>'
    return _sheet(body, [w for w, _ in columns], dimension=f"A1:{last}")


def _method_cell(text, bold: bool) -> str:
    if text is None or text == "":
        return ""
    if bold:
        return _string_cell(str(text), WRAP_BOLD, WRAP_BOLD_TEXT)
    return _string_cell(str(text), WRAP, WRAP_TEXT)


def _label(key: str) -> str:
    return " / ".join(method.LABELS[key])


def _vi_date(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day}/{day.month}/{day.year}"


def _method_rows(
    info: dict, columns: list[str], pooled: bool = False, report: bool = False
) -> list[tuple]:
    filters = info["filters"]

    def given(key, values):
        text = ", ".join(map(str, values))
        return (_label(key), text, text) if values else (_label(key), *method.LABELS["all"])

    def period(key, span):
        start, end = span["start"], span["end"]
        return (_label(key), f"{_vi_date(start)} – {_vi_date(end)}", f"{start} – {end}")

    rows = [(None, *method.LABELS["title"]), period("period", info["period"])]
    if info["comparison_period"]:
        rows.append(period("earlier", info["comparison_period"]))
    unit, level = filters["unit"], filters["level"]
    return [
        *rows,
        (_label("weighting"), *method.WEIGHTING[info["weighting"]]),
        given("channels", filters["channels"]),
        given("questionnaires", filters["questionnaire_versions"]),
        given("level", [level] if level else []),
        given("unit", [unit] if unit else []),
        (_label("generated"), info["generated_at"], info["generated_at"]),
        (None, None, None),
        (_label("method"), *method.METHOD[0]),
        *((None, vi, en) for vi, en in method.METHOD[1:]),
        *((None, *method.OPTIONS[o]) for o in ("compare", "ranks", "shrink") if filters[o]),
        *([(None, *method.NOTES["shrunk_pooled"])] if pooled else []),
        (None, None, None),
        (_label("flags"), None, None),
        *((name, *text) for name, text in method.FLAGS.items()),
        *([(_label("report"), *method.NOTES["report"])] if report else []),
        (None, None, None),
        (_label("columns"), None, None),
        *((c, *method.COLUMNS[c]) for c in columns),
    ]


def _method_sheet(info: dict, names: list[str], pooled: bool, report: bool) -> str:
    lines = _method_rows(info, names, pooled, report)
    cells = [[_method_cell(text, i == 0 or j == 0) for j, text in enumerate(line)]
             for i, line in enumerate(lines)]  # fmt: skip
    letters = ["A", "B", "C"]
    return _sheet(_rows(cells, letters, 1), [24, 80, 80], tab=True)


def _text_cell(text: str, texts: dict[str, str]) -> str:
    """Return a text cell of the report sheet, '' for no text; levels and flags repeat."""
    if text and text not in texts:
        texts[text] = _string_cell(text, PLAIN, TEXT)
    return texts[text] if text else ""


def _report_cells(
    columns: list, unit: report_table.UnitRow, values: dict[str, list], texts: dict
) -> list[str]:
    """Return a unit's cells in the report sheet: figures as numbers, empty where withheld."""
    flags, cells = values["flag"], []
    for column in columns:
        field, i = column.field, unit.rows.get(column.measure)
        if field == "unit_name" and unit.name:
            depth = min(unit.depth, MAX_INDENT)
            style = INDENTED + 2 * (depth - 1) if depth else PLAIN
            cells.append(_string_cell(unit.name, style, style + 1 if depth else TEXT))
        elif column.measure is None:
            own = {"unit_code": unit.code, "level": unit.level}
            text = own[field] if field in own else report_table.notes(unit, columns, values)
            cells.append(_text_cell(text, texts))
        elif i is None:
            cells.append("")
        elif field == "n":
            cells.append(f' s="{COUNT}"><v>{values["n"][i]}</v></c>')
        elif field == "flag":
            cells.append(_text_cell(report_table.flag_text(flags[i]), texts))
        elif values["estimate"][i] is None or flags[i] == "suppressed" or values[field][i] is None:
            cells.append("")  # withheld, as the page's "—"; the flag says why
        else:
            cells.append(f' s="{PERCENT}"><v>{values[field][i]!r}</v></c>')
    return cells


def _report_sheet(values: dict[str, list], depths: dict[str, int] | None) -> tuple[str, str] | None:
    """Return the report sheet (a unit a row in tree order, its figures side by side) and its
    filter's area; None where the export holds none of its figures."""
    columns = report_table.columns_for(set(values["measure"]))
    if not columns:
        return None
    units = report_table.units_of(values, depths)
    texts: dict[str, str] = {}
    header = [_string_cell(report_table.label(c.label), WRAP_BOLD, WRAP_BOLD_TEXT) for c in columns]
    body = [_report_cells(columns, unit, values, texts) for unit in units]
    widths = [c.width for c in columns]
    for field, longest in (
        ("unit_code", max((len(u.code) for u in units), default=0)),
        ("unit_name", max((len(u.name) + 3 * min(u.depth, MAX_INDENT) for u in units), default=0)),
        ("level", max((len(u.level) for u in units), default=0)),
    ):
        at = [c.field for c in columns].index(field)
        widths[at] = min(60, max(widths[at], longest + 2))
    # The header wraps its words in its column's width: as many lines as the longest needs,
    # with a tenth more for the breaks between words.
    lines = max(math.ceil(len(report_table.label(c.label)) * 1.1 / (w - 1))
                for c, w in zip(columns, widths, strict=True))  # fmt: skip
    letters = column_letters(len(columns))
    last = f"{letters[-1]}{len(units) + 1}"
    rows = _rows([header, *body], letters, 1, height=15 * lines + 4)
    part = _sheet(f'{rows}<autoFilter ref="A1:{last}"/>', widths, dimension=f"A1:{last}", frozen=2)
    return part, f"$A$1:${letters[-1]}${len(units) + 1}"


def _workbook(titles: list[str], filters: dict[str, str]) -> str:
    sheets = "".join(
        f'<sheet name="{escape(title, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
        for i, title in enumerate(titles, 1)
    )
    defined = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{titles.index(title)}"'
        f" hidden=\"1\">'{escape(title.replace(chr(39), chr(39) * 2))}'!{area}</definedName>"
        for title, area in filters.items()
    )
    defined = f"<definedNames>{defined}</definedNames>" if defined else ""
    return (
        f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}">'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{sheets}</sheets>{defined}</workbook>"
    )


def _package(titles: list[str], filters: dict[str, str], parts: list[str]) -> bytes:
    count = len(titles)
    types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_TYPES}.worksheet+xml"/>'
        for i in range(1, count + 1)
    )
    files = {
        "[Content_Types].xml": (
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPES}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_TYPES}.styles+xml"/>'
            f"{types}</Types>"
        ),
        "_rels/.rels": (
            f'{_HEAD}<Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
            f'Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": _workbook(titles, filters),
        "xl/_rels/workbook.xml.rels": (
            f'{_HEAD}<Relationships xmlns="{_RELS}">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_DOC_RELS}/worksheet" '
                f'Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, count + 1)
            )
            + f'<Relationship Id="rId{count + 1}" Type="{_DOC_RELS}/styles" '
            'Target="styles.xml"/></Relationships>'
        ),
        "xl/styles.xml": STYLES,
        **{f"xl/worksheets/sheet{i}.xml": part for i, part in enumerate(parts, 1)},
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            book.writestr(info, text.encode("utf-8"))
    return out.getvalue()


def to_xlsx(
    info: dict, names: list[str], values: dict[str, list], depths: dict[str, int] | None = None
) -> bytes:
    """Return a workbook: the method sheet, the report sheet (a unit a row, indented by its
    depth in depths, {unit code: depth}), then one formatted sheet of figures per level."""
    by_level: dict[str, list[int]] = {}
    for i, level in enumerate(values["level"]):
        by_level.setdefault(level, []).append(i)
    report = _report_sheet(values, depths) if by_level else None
    titles = [method.LABELS["method"][0]]
    parts = [_method_sheet(info, names, pooled_shrinkage(values), report is not None)]
    filters = {}
    if report:
        titles.append(report_table.TITLE[0])
        parts.append(report[0])
        filters[titles[-1]] = report[1]
    titles += sheet_names(list(by_level), set(titles))
    letters = column_letters(len(names))
    for title, picked in zip(titles[len(parts) :], by_level.values(), strict=True):
        parts.append(_figures_sheet(names, values, picked, letters))
        filters[title] = f"$A$1:${letters[-1]}${len(picked) + 1}"
    return _package(titles, filters, parts)
