"""The report table of the XLSX export: one row per unit, the figures side by side.

What an analyst puts into the yearly administrative reform report, and what the analysis page
shows: units in the unit tree's order (parents before their children), each with its overall
index and interval, the element indexes, the household-register rate and Decision 766's PAKN
figures. Built from the export's tidy columns, so it holds the same numbers; like method.py it
words everything in Vietnamese and English side by side, whatever the reader's locale, so the
words are data here (the flags in the words of the page's catalogue, which a test checks).
"""

from dataclasses import dataclass

from analysis import method

TITLE = method.LABELS["report"]

# The analysis page's words for a flag (presenting.FLAG_NAMES and its charts' "—"), vi and en.
FLAG_WORDS = {
    "suppressed": ("dưới 10 phiếu: không hiển thị", "fewer than 10 answers: not shown"),
    "few_answers": ("ít phiếu", "few answers"),
    "imprecise": ("kém chính xác", "imprecise"),
}
CAVEATS = ("few_answers", "imprecise")  # flags of a figure that is shown
# The default questionnaire's element titles (survey/questionnaire.json; a test checks).
ELEMENT_TITLES = {
    "A": ("Tiếp cận dịch vụ", "Access to the service"),
    "B": ("Thủ tục hành chính", "Administrative procedure"),
    "C": ("Công chức giải quyết thủ tục", "The civil servant"),
    "D": ("Kết quả giải quyết", "The result"),
    "E": ("Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị", "Handling of feedback"),
}


@dataclass(frozen=True)
class Column:
    """A column of the table: a unit's own field (measure None) or one field of a measure's row."""

    measure: str | None
    field: str  # unit_code, unit_name, level; n, estimate, ci_low, ci_high, flag; notes
    label: tuple[str, str]
    width: float = 13
    short: tuple[str, str] | None = None  # how the notes name the figure, where it is flagged


def _figure(measure, label, short, n_label=None, **keys) -> list[Column]:
    columns = [Column(measure, "estimate", label, short=short, **keys)]
    if n_label:
        columns.append(Column(measure, "n", n_label, 13))
    return columns


_OVERALL = [
    Column("overall", "n", ("Số người trả lời", "Respondents")),
    Column("overall", "estimate", ("Chỉ số hài lòng chung", "Overall index")),
    Column("overall", "ci_low", ("Cận dưới khoảng tin cậy 95%", "95% interval, low")),
    Column("overall", "ci_high", ("Cận trên khoảng tin cậy 95%", "95% interval, high")),
    Column("overall", "flag", ("Cảnh báo chỉ số chung", "Overall index flag"), 22),
]
_OTHERS = [
    *(
        column
        for code, (vi, en) in ELEMENT_TITLES.items()
        for column in _figure(
            f"element:{code}", (f"{code}. {vi}", f"{code}. {en}"), (code, code), width=15
        )
    ),
    *_figure(
        "household_register_asked",
        ("Tỷ lệ bị yêu cầu sổ hộ khẩu giấy", "Asked for the paper household register"),
        ("Sổ hộ khẩu", "household register"),
        ("n: câu trả lời về sổ hộ khẩu", "n: answers on the household register"),
        width=16,
    ),
    *_figure(
        "pakn:handled_on_time",
        ("PAKN giải quyết đúng hạn", "PAKN handled on time"),
        ("PAKN đúng hạn", "PAKN on time"),
        ("n: PAKN đã trả lời hoặc quá hạn", "n: PAKN answered or past due"),
    ),
    *_figure(
        "pakn:handling_satisfaction",
        ("Hài lòng về xử lý PAKN", "Satisfaction with PAKN handling"),
        ("Hài lòng xử lý PAKN", "PAKN handling"),
        ("n: PAKN đã trả lời trong kỳ", "n: PAKN answered in the period"),
    ),
    *_figure(
        "pakn:procedure_satisfaction",
        ("Hài lòng về thủ tục hành chính", "Satisfaction with procedures"),
        ("Hài lòng thủ tục", "procedures"),
        ("n: hồ sơ có mã trên giấy hẹn", "n: dossiers with a receipt code"),
        width=16,
    ),
    Column("pakn:received", "n", ("Số PAKN tiếp nhận", "PAKN received")),
]
_UNIT = [
    Column(None, "unit_code", ("Mã đơn vị", "Code"), 10),
    Column(None, "unit_name", ("Tên đơn vị", "Unit"), 30),
    Column(None, "level", ("Cấp", "Level"), 12),
]
_OVERALL_NAME = ("Chỉ số chung", "overall index")
NOTES = Column(None, "notes", ("Cảnh báo khác", "Other flags"), 40)
# The weighting the unit's satisfaction figures were combined with, as the tidy sheets' column
# says it per row; PAKN ratios are always summed counts, so not named.
WEIGHTING = Column(None, "weighting", ("Trọng số", "Weighting"), 24)
WEIGHTING_WORDS = {
    "respondents": ("theo số người trả lời", "respondents"),
    "population": ("theo dân số", "population"),
}
MEASURES = tuple(dict.fromkeys(c.measure for c in _OVERALL + _OTHERS))


@dataclass
class UnitRow:
    """A row of the table: the unit, its depth below the table's top units, its measures' rows."""

    code: str
    name: str
    level: str
    depth: int
    rows: dict[str, int]  # measure: the position of its row in the export's columns


def label(pair: tuple[str, str]) -> str:
    """A header's words, Vietnamese first, as the method sheet writes its labels."""
    return " / ".join(pair)


def flag_text(flag: str) -> str:
    """The page's words for a flag, Vietnamese / English; empty for a figure without one."""
    return label(FLAG_WORDS[flag]) if flag in FLAG_WORDS else ""


def units_of(values: dict[str, list], depths: dict[str, int] | None = None) -> list[UnitRow]:
    """Return the export's units in the order of their first row (the unit tree's: exports
    list units parents first), each with the rows of the table's measures; depths, the units'
    depth in the whole tree, count from the shallowest unit of the export."""
    units: dict[str, UnitRow] = {}
    wanted = set(MEASURES)
    codes, measures = values["unit_code"], values["measure"]
    for i, code in enumerate(codes):
        unit = units.get(code)
        if unit is None:
            depth = (depths or {}).get(code, 0)
            unit = units[code] = UnitRow(
                code, values["unit_name"][i], values["level"][i], depth, {}
            )
        if measures[i] in wanted:
            unit.rows[measures[i]] = i
    top = min((u.depth for u in units.values()), default=0)
    for unit in units.values():
        unit.depth -= top
    return list(units.values())


def _weighted(column: Column) -> bool:
    return column.measure is not None and not column.measure.startswith("pakn:")


def columns_for(measures: set[str], weighting: bool = True) -> list[Column]:
    """Return the table's columns for the measures the export holds; none without any of them.
    The weighting column, where the export says it, comes last, after the notes."""
    figures = [c for c in _OVERALL + _OTHERS if c.measure in measures]
    if not figures:
        return []
    notes = [NOTES] if any(c.short for c in figures) else []
    weighted = [WEIGHTING] if weighting and any(map(_weighted, figures)) else []
    return [*_UNIT, *figures, *notes, *weighted]


def notes(unit: UnitRow, columns: list[Column], values: dict[str, list]) -> str:
    """Name the unit's shown figures other than the overall index that carry a flag, with the
    flag's words; a withheld figure is an empty cell, as the page's "—", and not named."""
    figures = [(c.short, values["flag"][unit.rows[c.measure]])
               for c in columns if c.short and c.measure in unit.rows]  # fmt: skip
    flagged = [(short, FLAG_WORDS[flag]) for short, flag in figures if flag in CAVEATS]
    if not flagged:
        return ""
    return " / ".join(
        "; ".join(f"{name[lang]}: {words[lang]}" for name, words in flagged) for lang in (0, 1)
    )


def _shown(values: dict[str, list], i: int) -> bool:
    return values["estimate"][i] is not None and values["flag"][i] != "suppressed"


def weighting(unit: UnitRow, columns: list[Column], values: dict[str, list]) -> str:
    """Say the weighting of the unit's shown satisfaction figures, as the tidy rows do: the
    first's, then the figures combined otherwise by name ("respondents; A: population");
    empty where none is shown."""
    said: dict[str, str] = {}  # measure: weighting, in the columns' order
    for column in filter(_weighted, columns):
        i = unit.rows.get(column.measure)
        if i is not None and column.measure not in said and _shown(values, i):
            said[column.measure] = values["weighting"][i]
    if not said:
        return ""
    first = next(iter(said.values()))
    names = {c.measure: c.short for c in columns if c.short} | {"overall": _OVERALL_NAME}
    others = [(names[m], WEIGHTING_WORDS[w]) for m, w in said.items() if w != first]
    return " / ".join(
        "; ".join([WEIGHTING_WORDS[first][lang], *(f"{n[lang]}: {w[lang]}" for n, w in others)])
        for lang in (0, 1)
    )
