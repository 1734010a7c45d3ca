"""SpreadsheetML (ECMA-376), written directly: the cells, rows, sheets and zip package of a
workbook, and the cell formats its sheets share (analysis/xlsx.py builds the export's sheets).

Strings are inline strings (never formulas, and those that look like one also carry
quotePrefix, so editing the cell in Excel keeps it text); characters XML cannot hold are
written as Excel's _xHHHH_. The same sheets make the same bytes: the zip's times are fixed.
"""

import io
import re
import zipfile
from datetime import date
from xml.sax.saxutils import escape

from core.csvfile import FORMULA_START

BAD_SHEET_CHARACTERS = re.compile(r"[\[\]:*?/\\]")

# Characters XML 1.0 cannot hold (and CR, which XML readers turn into LF), and any text that
# already looks like Excel's escape, whose underscore must then be escaped itself.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]|_(?=x[0-9A-Fa-f]{4}_)")
DAY_ZERO = date(1899, 12, 30).toordinal()  # Excel's day 0 in the 1900 date system
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


def xml_text(text: str) -> str:
    """Return text as the content of an XML element: escaped, and unsafe characters as _xHHHH_."""
    text = escape(text)
    if _UNSAFE.search(text):
        text = _UNSAFE.sub(lambda m: f"_x{ord(m.group()[0]):04X}_", text)
    return text


def string_cell(text: str, style: int, quoted_style: int) -> str:
    """Return the XML of a text cell after its reference, e.g. ' t="inlineStr"><is>...</c>'."""
    if text.startswith(FORMULA_START):
        style = quoted_style
    space = ' xml:space="preserve"' if text != text.strip() else ""
    s = f' s="{style}"' if style else ""
    return f'{s} t="inlineStr"><is><t{space}>{xml_text(text)}</t></is></c>'


def worksheet(
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


def sheet_data(cells: list[list[str]], letters: list[str], first: int, height: float = 0) -> str:
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


def package(titles: list[str], filters: dict[str, str], parts: list[str]) -> bytes:
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
