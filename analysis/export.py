"""Index rows as CSV, JSON or XLSX files, each saying how its figures were made.

- CSV: UTF-8 with a byte-order mark, so that Excel in Vietnam opens the names right (without it
  Excel reads Windows-1258); RFC 4180 quoting, CRLF lines, '.' decimal point, empty where a
  figure is withheld, true/false; two last columns, weighting and units, say how each row's
  figure was weighted (respondents or population: a parent weighted by population falls back to
  respondents where a unit under it with answers has no population; JSON and XLSX rows say it
  too) and which units the figures are of (then, as they were
  during the period, or today: with the answers of the units merged into them), as JSON's meta
  and the XLSX method sheet do. Text cells that a
  spreadsheet would take for a formula (starting with = + - @ tab or CR) get a leading
  apostrophe, as OWASP advises; JSON keeps the raw text.
- JSON: {"meta", "columns", "rows"}, the same document as the API; proportions in [0, 1].
- XLSX: a method sheet, a report sheet (a unit a row in tree order, its figures side by side),
  then one sheet per level; proportions as numbers formatted 0.00%, which Excel shows as 80,41%
  in Vietnamese regional settings; text never evaluated as a formula.
"""

import json

from sqlalchemy import select

from analysis import method
from analysis.params import earlier_period
from analysis.tables import Request, rows_of
from core.csvfile import FORMULA_START
from core.extensions import db
from core.models import Unit, utcnow
from survey.models import Questionnaire

FORMATS = ("csv", "xlsx", "json")
PROPORTIONS = {
    "estimate", "ci_low", "ci_high", "previous_estimate",
    "change", "change_ci_low", "change_ci_high", "shrunk_estimate",
}  # fmt: skip
DATES = {"period_start", "period_end"}


def pooled_shrinkage(values: dict[str, list] | None) -> bool:
    """Return whether any sibling group in the columns was shrunk to its pooled value."""
    return any(values.get("shrunk_pooled") or []) if values else False


def meta(request: Request, values: dict[str, list] | None = None) -> dict:
    """Return what a reader needs to know about the figures: method, weighting, period, filters.

    values: the file's columns; where shrinkage put sibling units at their pooled value, the
    method says so.
    """
    query = request.query
    versions = dict(db.session.execute(select(Questionnaire.id, Questionnaire.version)).all())
    earlier = earlier_period(request)
    return {
        "method": method.english_method(query.weighting)
        + (" " + method.NOTES["shrunk_pooled"][1] if pooled_shrinkage(values) else ""),
        "confidence": 0.95,
        "weighting": query.weighting,
        "units": "today" if query.today_units else "then",
        "period": {"start": query.first.isoformat(), "end": query.last.isoformat()},
        "comparison_period": earlier
        and {"start": earlier[0].isoformat(), "end": earlier[1].isoformat()},
        "filters": {
            "level": request.level,
            "unit": request.unit_code,
            "channels": list(query.channels),
            "questionnaire_versions": sorted(versions[i] for i in query.questionnaire_ids),
            "measures": list(request.measures),
            "compare": request.compare,
            "ranks": request.ranks,
            "shrink": request.shrink,
            "today_units": query.today_units,
        },
        "flags": {name: en for name, (_vi, en) in method.FLAGS.items()},
        "generated_at": utcnow().replace(microsecond=0).isoformat() + "Z",
    }


def render(fmt: str, info: dict, names: list[str], values: dict[str, list]) -> bytes:
    """Return the file's bytes in one of FORMATS, from columns (tables.build_columns)."""
    if fmt == "csv":
        # A CSV has no place for meta: its last columns say how each row's figure was weighted
        # and which units the figures are of.
        said = {"units": [info["units"]] * len(values[names[0]])}
        return to_csv([*names, *said], values | said)
    if fmt == "json":
        return to_json(info, names, rows_of(names, values))
    if fmt == "xlsx":
        from analysis.xlsx import to_xlsx  # here: analysis.xlsx imports this module

        return to_xlsx(info, names, values, unit_depths())
    raise ValueError(f"format must be one of {FORMATS}")


def unit_depths() -> dict[str, int]:
    """Return every unit's depth in the unit tree, {code: depth}, a root's 0."""
    paths = db.session.execute(select(Unit.code, Unit.path))
    return {code: path.count("/") - 2 for code, path in paths}


def _defused(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def _quoted(text: str) -> str:
    """Quote a CSV field as RFC 4180 (and csv.writer) do: only if it holds , " CR or LF."""
    if "," in text or '"' in text or "\r" in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")  # rows carry 6 decimals; never 1e-06
    if isinstance(value, str):
        return _quoted(_defused(value))
    return str(value)


def _csv_column(values: list) -> list[str]:
    """Return one column's fields, quoted; floats and repeated text take a faster path."""
    kinds = set(map(type, values))
    if kinds <= {float, type(None)}:
        return ["" if v is None else f"{v:.6f}".rstrip("0").rstrip(".") for v in values]
    if kinds <= {str}:
        text = {v: _quoted(_defused(v)) for v in set(values)}  # names and codes repeat
        return [text[v] for v in values]
    if kinds <= {int}:
        return list(map(str, values))
    return [_csv_value(v) for v in values]


def to_csv(names: list[str], values: dict[str, list]) -> bytes:
    """Return the columns as CSV: UTF-8 with BOM, '.' decimals, formula-like text defused."""
    fields = [_csv_column(values[name]) for name in names]
    lines = [",".join(map(_quoted, names)), *map(",".join, zip(*fields, strict=True)), ""]
    return ("\ufeff" + "\r\n".join(lines)).encode("utf-8")


def to_json(info: dict, columns: list[str], rows: list[dict]) -> bytes:
    """Return the document {"meta", "columns", "rows"} as UTF-8 JSON."""
    document = {"meta": info, "columns": columns, "rows": rows}
    return json.dumps(document, ensure_ascii=False, allow_nan=False, indent=1).encode("utf-8")
