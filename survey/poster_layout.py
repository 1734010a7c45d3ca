"""Where a poster's parts go on the page, in millimetres, whatever the output format."""

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING

from core.fonts import FONT_FILES
from survey.qr import QUIET_ZONE, qr_matrix

if TYPE_CHECKING:
    from PIL import ImageFont

INK, MUTED, ACCENT = "#1b1b1b", "#555555", "#a3141f"
# Sizes in millimetres for A4; A5 is the same poster scaled down.
MARGIN = 15
NAME_SIZES = [11 - step / 2 for step in range(13)]  # 11 mm down to 5 mm
NAME_MAX_LINES = 3
# The counter's label goes under the name, smaller than it, so that the posters of a unit's
# counters tell apart by eye.
LABEL_SIZES = [7 - step / 2 for step in range(7)]  # 7 mm down to 4 mm
LABEL_MAX_LINES = 2
LABEL_RATIO = 0.8  # of the name's size, at most
LABEL_GAP = 2
QR_SYMBOL = 100  # the code itself, without its quiet zone
QR_BORDER = QUIET_ZONE
# Vertical extents per em: Vietnamese stacks two marks on capitals (Ẩ, Ủ), so the top reaches
# above the font's nominal ascent.
ASCENT, DESCENT, LEADING = 1.08, 0.25, 1.25


@dataclass(frozen=True)
class Line:
    """One line of text, centred on x."""

    text: str
    x: float  # centre, mm
    y: float  # baseline, mm
    size: float  # em, mm
    bold: bool
    color: str


@dataclass(frozen=True)
class Rect:
    """A filled rectangle."""

    x: float
    y: float
    width: float
    height: float
    color: str


@dataclass(frozen=True)
class QRSymbol:
    """A QR code with its top-left corner at x, y."""

    x: float
    y: float
    module: float  # mm per module
    matrix: tuple[tuple[bool, ...], ...]  # quiet zone included

    @property
    def height(self) -> float:
        return self.module * len(self.matrix)


@dataclass(frozen=True)
class TextBlock:
    """Lines of text in one style, not yet placed."""

    lines: tuple[str, ...]
    size: float
    bold: bool
    color: str

    @property
    def height(self) -> float:
        if not self.lines:
            return 0.0
        return ((len(self.lines) - 1) * LEADING + ASCENT + DESCENT) * self.size

    def place(self, top: float, centre: float) -> list[Line]:
        """Return the block's lines with their baselines, starting at top."""
        return [
            Line(
                text,
                centre,
                top + (ASCENT + i * LEADING) * self.size,
                self.size,
                self.bold,
                self.color,
            )
            for i, text in enumerate(self.lines)
        ]


@cache
def font(bold: bool, size_px: float) -> "ImageFont.FreeTypeFont":
    """Load DejaVu Sans at a size in pixels."""
    from PIL import ImageFont  # here: Pillow costs 10 ms of every start

    return ImageFont.truetype(str(FONT_FILES[bold]), size_px)


def _width(text: str, bold: bool, size: float) -> float:
    """Measure text in millimetres at an em size in millimetres."""
    return font(bold, 1000).getlength(text) * size / 1000


def _clean(text: str) -> str:
    """Normalise text to NFC on one line, without control or invisible format characters."""
    # Format characters include the direction overrides, which would turn an SVG's line around.
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
    return " ".join(text.split())


def _wrap(text: str, size: float, bold: bool, color: str, column: float, url=False) -> TextBlock:
    """Break text into lines no wider than column; a URL breaks after slashes, else anywhere."""
    text = _clean(text)
    tokens, sep = (re.findall(r"[^/]*/+|[^/]+", text), "") if url else (text.split(), " ")
    lines: list[str] = []
    current = ""
    for token in tokens:
        candidate = f"{current}{sep}{token}" if current else token
        if _width(candidate, bold, size) <= column:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in token:  # a token wider than the column is cut where it overflows
            if current and _width(current + char, bold, size) > column:
                lines.append(current)
                current = ""
            current += char
    if current:
        lines.append(current)
    return TextBlock(tuple(lines), size, bold, color)


def _fit_label(label: str, column: float, largest: float, scale: float) -> TextBlock:
    """Set the counter's label as large as fits on two lines, at most largest mm (on A4)."""
    for size in [size for size in LABEL_SIZES if size <= largest] or LABEL_SIZES[-1:]:
        block = _wrap(label, size * scale, False, INK, column)
        if len(block.lines) <= LABEL_MAX_LINES:
            break
    return block


def _header_height(name: TextBlock, label: TextBlock, scale: float) -> float:
    """Return the height of the name with the label under it, if there is one."""
    return name.height + (LABEL_GAP * scale + label.height if label.lines else 0)


def _cut(block: TextBlock, room: float, column: float) -> TextBlock:
    """Keep the lines of block that fit in room and mark the cut with an ellipsis."""
    if block.height <= room:
        return block
    size = block.size
    keep = max(1, int((room / size - ASCENT - DESCENT) / LEADING) + 1)
    last = block.lines[keep - 1]
    while last and _width(last + "…", block.bold, size) > column:
        last = last[:-1]
    return replace(block, lines=(*block.lines[: keep - 1], last + "…"))


def _fit_header(
    name: str, label: str, column: float, room: float, scale: float
) -> tuple[TextBlock, TextBlock]:
    """Set the unit's name as large as fits, on at most three lines where possible, and the
    counter's label under it, smaller."""
    for size in NAME_SIZES:
        named = _wrap(name, size * scale, True, INK, column)
        # A label longer than the forms accept (a row written by other means) is cut.
        counter = _cut(_fit_label(label, column, size * LABEL_RATIO, scale), room / 3, column)
        short = len(named.lines) <= NAME_MAX_LINES or size == NAME_SIZES[-1]
        if short and _header_height(named, counter, scale) <= room:
            return named, counter
    # Only absurdly long names get here: the name keeps the lines that fit above the label.
    under = _header_height(named, counter, scale) - named.height
    return _cut(named, room - under, column), counter


def _fit_url(url: str, column: float, scale: float) -> TextBlock:
    """Set the URL on one line if a slightly smaller size allows, else wrap it."""
    for size in (5, 4.5, 4):
        block = _wrap(url, size * scale, True, INK, column, url=True)
        if len(block.lines) == 1:
            break
    return block


def layout(
    unit_name: str, label: str, url: str, paper: tuple[float, float], texts: dict[str, str]
) -> list:
    """Place the poster's parts on a page of paper (width, height); return them in mm."""
    width, height = paper
    scale = width / 210
    margin, column, centre = MARGIN * scale, (width - 2 * MARGIN * scale), width / 2
    matrix = qr_matrix(url)
    module = QR_SYMBOL * scale / (len(matrix) - 2 * QR_BORDER)
    qr = QRSymbol(centre - module * len(matrix) / 2, 0, module, matrix)
    rule = Rect(centre - 20 * scale, 0, 40 * scale, 0.8 * scale, ACCENT)
    body = [
        _wrap(texts["title"], 8.5 * scale, True, ACCENT, column),
        3 * scale,
        _wrap(texts["invitation"], 5.2 * scale, False, INK, column),
        qr,
        _wrap(texts["address"], 4.2 * scale, False, MUTED, column),
        1.5 * scale,
        _fit_url(url, column, scale),
    ]
    footer = _wrap(texts["footer"], 4.2 * scale, False, MUTED, column)
    gaps = 6 * scale  # at least this much around the rule and between body and footer
    body_height = sum(_height(part) for part in body)
    fixed = body_height + footer.height + rule.height + 3 * gaps
    name, counter = _fit_header(unit_name, label, column, height - 2 * margin - fixed, scale)

    drawables: list = name.place(margin, centre)
    if counter.lines:
        drawables += counter.place(margin + name.height + LABEL_GAP * scale, centre)
    top = margin + _header_height(name, counter, scale) + gaps
    drawables.append(replace(rule, y=top))
    header_end = top + rule.height + gaps
    footer_top = height - margin - footer.height
    # The body sits in the middle of the room left between the header and the footer.
    top = header_end + (footer_top - gaps - header_end - body_height) / 2
    for part in body:
        if isinstance(part, TextBlock):
            drawables += part.place(top, centre)
        elif isinstance(part, QRSymbol):
            drawables.append(replace(part, y=top))
        top += _height(part)
    drawables += footer.place(footer_top, centre)
    return drawables


def _height(part) -> float:
    """Return the height of a laid-out part, or a gap's own length."""
    return part if isinstance(part, float | int) else part.height
