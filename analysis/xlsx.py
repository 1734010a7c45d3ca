"""Index rows as a formatted workbook: a method sheet, then one sheet of figures per level."""

import io
import re
from datetime import date

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from analysis import method
from analysis.export import DATES, FORMULA_START, PROPORTIONS

BAD_SHEET_CHARACTERS = re.compile(r"[\[\]:*?/\\]")
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


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


def _cell(sheet, value, column: str | None = None, flag: str = ""):
    if column in PROPORTIONS and value is None and flag == "suppressed":
        value = "—"
    elif column in DATES and value:
        value = date.fromisoformat(value)
    elif value == "":
        value = None  # an empty cell, not an empty string
    cell = WriteOnlyCell(sheet, value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
        cell.quotePrefix = value.startswith(FORMULA_START)
    elif column in PROPORTIONS:
        cell.number_format = "0.00%"
    elif column in DATES:
        cell.number_format = "dd/mm/yyyy"
    elif column == "n":
        cell.number_format = "#,##0"
    return cell


def _width(column: str, rows: list[dict]) -> float:
    if column in PROPORTIONS:
        return 11
    longest = max((len(str(row[column] or "")) for row in rows[:5000]), default=0)
    return min(60, max(len(column), longest, 8) + 2)


def _figures_sheet(book: Workbook, title: str, columns: list[str], rows: list[dict]) -> None:
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    for i, column in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(i)].width = _width(column, rows)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    header = [_cell(sheet, c) for c in columns]
    for cell in header:
        cell.font = BOLD
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(sheet, row[c], c, row["flag"]) for c in columns])


def _label(key: str) -> str:
    return " / ".join(method.LABELS[key])


def _vi_date(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day}/{day.month}/{day.year}"


def _method_rows(info: dict, columns: list[str]) -> list[tuple]:
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
        (None, None, None),
        (_label("flags"), None, None),
        *((name, *text) for name, text in method.FLAGS.items()),
        (None, None, None),
        (_label("columns"), None, None),
        *((c, *method.COLUMNS[c]) for c in columns),
    ]


def to_xlsx(info: dict, columns: list[str], rows: list[dict]) -> bytes:
    """Return a workbook: the method sheet, then one formatted sheet of figures per level."""
    book = Workbook(write_only=True)
    by_level: dict[str, list[dict]] = {}
    for row in rows:
        by_level.setdefault(row["level"], []).append(row)
    method_title = method.LABELS["method"][0]
    sheet = book.create_sheet(method_title)
    for letter, width in zip("ABC", (24, 80, 80), strict=True):
        sheet.column_dimensions[letter].width = width
    for i, line in enumerate(_method_rows(info, columns)):
        cells = [_cell(sheet, text) for text in line]
        for j, cell in enumerate(cells):
            cell.alignment = WRAP
            cell.font = BOLD if i == 0 or j == 0 else Font()
        sheet.append(cells)
    titles = sheet_names(list(by_level), {method_title})
    for title, level_rows in zip(titles, by_level.values(), strict=True):
        _figures_sheet(book, title, columns, level_rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
