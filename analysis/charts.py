"""Charts as SVG text: a forest plot, a monthly trend and rank intervals. No Flask here.

Drawn for paper: black and greys, with shapes and dashes rather than colours carrying meaning,
and the numbers printed beside the marks. Callers pass every label already translated and
formatted; every string is escaped here before it reaches the SVG. analysis/chart_png.py paints
the same SVG as a PNG; a text that must stay within a column says how wide it is (data-width).
"""

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
INK, GREY, LIGHT, STRIPE = "#000", "#595959", "#c8c8c8", "#f2f2f2"
CHAR_WIDTH = 0.56  # of the font size, to shorten long names without measuring text
DIGIT_WIDTH = 0.64  # of the font size: a DejaVu Sans digit, more than a date label's mean letter
BOLD_WIDER = 1.1  # a bold letter's width against a regular one's
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
TOP = 44  # where the first row of a forest or rank chart starts, below the title
REPEAT_AXIS_AFTER = 15  # rows; a taller chart shows its axis numbers above the rows too


@dataclass(frozen=True)
class Mark:
    """One figure: a unit (or a month) with its estimate and 95% interval."""

    label: str
    estimate: float | None  # None where the figure is suppressed
    low: float | None = None
    high: float | None = None
    text: str = ""  # the numbers printed beside the mark, formatted by the caller
    hollow: bool = False  # flagged (few answers, imprecise): an open circle


@dataclass(frozen=True)
class Ranked:
    """One unit's rank among its siblings with its rank interval [low, high]."""

    label: str
    rank: int
    low: int
    high: int
    text: str = ""


@dataclass(frozen=True)
class Labels:
    title: str
    desc: str
    axis: str = ""
    legend: tuple[str, ...] = ()


def esc(text) -> str:
    return escape(_NOT_XML.sub("", str(text)), quote=True)


def plain_percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def _fit(text: str, width: float, size: float = 13) -> str:
    text = unicodedata.normalize("NFC", text)  # a combining mark is no letter's width
    most = max(4, int(width / (size * CHAR_WIDTH)))
    return text if len(text) <= most else text[: most - 1] + "…"


def _width(text_x: float, texts, size: float = 12) -> float:
    """Return a chart width that leaves room for the numbers printed right of the marks."""
    longest = max((len(t) for t in texts), default=0)
    return min(max(880, text_x + longest * size * CHAR_WIDTH + 8), 1100)


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


class _Svg:
    def __init__(self, width: float, height: float, labels: Labels, ident: str):
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
            f'viewBox="0 0 {_n(width)} {_n(height)}" role="img" '
            f'aria-labelledby="{ident}-title" aria-describedby="{ident}-desc" '
            f'font-family="{esc(FONT)}" font-size="13" fill="{INK}">',
            f'<title id="{ident}-title">{esc(labels.title)}</title>',
            f'<desc id="{ident}-desc">{esc(labels.desc)}</desc>',
            f'<rect width="{_n(width)}" height="{_n(height)}" fill="#fff"/>',
        ]

    def add(self, tag: str, body: str = "", **attrs) -> None:
        text = " ".join(f'{k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())
        self.parts.append(f"<{tag} {text}>{esc(body)}</{tag}>" if body else f"<{tag} {text}/>")

    def raw(self, markup: str) -> None:
        self.parts.append(markup)

    def text(self, x, y, body: str, **attrs) -> None:
        self.add("text", body, x=_n(x), y=_n(y), **attrs)

    def line(self, x1, y1, x2, y2, **attrs) -> None:
        self.add("line", x1=_n(x1), y1=_n(y1), x2=_n(x2), y2=_n(y2), **attrs)

    def done(self) -> str:
        return "\n".join([*self.parts, "</svg>"])


def axis_range(values: Sequence[float | None]) -> tuple[float, float, float]:
    """Return (low, high, step) of a percent axis that holds the values, with round ticks."""
    seen = [v for v in values if v is not None and math.isfinite(v)]
    if not seen:
        return 0.0, 1.0, 0.1
    lo, hi = max(0.0, min(seen)), min(1.0, max(seen))
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25):
        first = math.floor(lo / step + 1e-9) * step
        last = max(math.ceil(hi / step - 1e-9) * step, first + step)
        if (last - first) / step <= 8:
            break
    if last > 1 + 1e-9:
        first, last = max(0.0, 1 - (last - first)), 1.0
    return round(first, 6), round(last, 6), step


def _ticks(first: float, last: float, step: float) -> list[float]:
    return [round(first + i * step, 6) for i in range(round((last - first) / step) + 1)]


def _title(svg: _Svg, y: float, title: str, width: float) -> None:
    """The chart's heading, shortened to its width (a long unit's name would run off the chart):
    the whole of it is the SVG's <title>, and the page's heading."""
    room = width - 16
    shown = _fit(title, room, 15 * BOLD_WIDER)
    svg.text(8, y, shown, font_size="15", font_weight="bold", data_width=_n(room))


def _legend(svg: _Svg, x: float, y: float, lines: Sequence[str], width: float) -> None:
    room = width - x - 8
    for i, line in enumerate(lines):
        svg.text(x, y + 18 * i, _fit(line, room, 12), font_size="12", fill=GREY,
                 data_width=_n(room))  # fmt: skip


def _top(rows: int) -> float:
    """Where the first row starts: lower when the chart is tall enough to repeat its axis's
    numbers above the rows, so that a reader of a long list (a province's hundred communes, on
    several printed pages) need not turn to the end to read a position."""
    return TOP + 20 if rows > REPEAT_AXIS_AFTER else TOP


def forest_plot(
    marks: Sequence[Mark],
    labels: Labels,
    reference: float | None = None,
    percent: Callable[[float], str] = plain_percent,
    ident: str = "forest",
) -> str:
    """Draw each unit's estimate as a dot on its interval line, the reference as a dashed line."""
    x0, x1, text_x, row = 240, 580, 594, 24
    top = _top(len(marks))
    width = _width(text_x, (m.text for m in marks))
    shown = [m for m in marks if m.estimate is not None]
    lo, hi, step = axis_range([v for m in shown for v in (m.low, m.high)] + [reference])
    axis_y = top + row * max(len(marks), 1) + 4
    height = axis_y + 56 + 18 * len(labels.legend) + 6
    svg = _Svg(width, height, labels, ident)

    def x(value: float) -> float:
        return x0 + (min(max(value, lo), hi) - lo) / (hi - lo) * (x1 - x0)

    _title(svg, 24, labels.title, width)
    for i in range(0, len(marks), 2):
        svg.add("rect", x="0", y=_n(top + row * i), width=str(width), height=str(row), fill=STRIPE)
    for value in _ticks(lo, hi, step):
        svg.line(x(value), top, x(value), axis_y, stroke=LIGHT, class_="grid")
        svg.text(x(value), axis_y + 16, percent(value), text_anchor="middle", class_="tick")
        if top > TOP:
            svg.text(x(value), top - 8, percent(value), text_anchor="middle", class_="tick-top")
    svg.line(x0, axis_y, x1, axis_y, stroke=INK)
    svg.text((x0 + x1) / 2, axis_y + 34, labels.axis, text_anchor="middle")
    if reference is not None and math.isfinite(reference):
        xr = x(reference)
        svg.line(xr, top - 4, xr, axis_y, stroke=INK, stroke_width="1.5",
                 stroke_dasharray="6 4", class_="reference")  # fmt: skip
    for i, mark in enumerate(marks):
        y = top + row * i + row / 2
        svg.raw(f'<g class="unit"><title>{esc(mark.label)}</title>')
        svg.text(8, y + 4, _fit(mark.label, x0 - 16), class_="label", data_width=_n(x0 - 16))
        if mark.estimate is not None and mark.low is not None and mark.high is not None:
            svg.line(x(mark.low), y, x(mark.high), y, stroke=INK, stroke_width="2", class_="ci")
            for end in (mark.low, mark.high):
                svg.line(x(end), y - 5, x(end), y + 5, stroke=INK, stroke_width="1.5")
            fill = "#fff" if mark.hollow else INK
            svg.add("circle", cx=_n(x(mark.estimate)), cy=_n(y), r="5", fill=fill, stroke=INK,
                    stroke_width="1.5", class_="point")  # fmt: skip
        svg.text(text_x, y + 4, _fit(mark.text, width - text_x - 4, 12), font_size="12",
                 data_width=_n(width - text_x - 4))  # fmt: skip
        svg.raw("</g>")
    _legend(svg, 8, axis_y + 56, labels.legend, width)
    return svg.done()


def trend_chart(
    marks: Sequence[Mark],
    labels: Labels,
    percent: Callable[[float], str] = plain_percent,
    ident: str = "trend",
) -> str:
    """Draw one estimate per month with its interval; a suppressed month leaves a gap."""
    x0, top, bottom = 64, 60, 320
    # Each month's slot holds its label ("May 2024*" in English) with room to spare, counted
    # at a digit's width in DejaVu Sans, the PNG's font, which is wider than the SVG's.
    longest = max((len(m.label) for m in marks), default=0)
    slot_width = max(64, longest * 12 * DIGIT_WIDTH + 8)
    width = max(720, x0 + 16 + slot_width * len(marks))
    slot = (width - 16 - x0) / max(len(marks), 1)
    lo, hi, step = axis_range([v for m in marks if m.estimate is not None for v in (m.low, m.high)])
    height = bottom + 60 + 18 * len(labels.legend) + 6
    svg = _Svg(width, height, labels, ident)

    def y(value: float) -> float:
        return bottom - (min(max(value, lo), hi) - lo) / (hi - lo) * (bottom - top)

    _title(svg, 22, labels.title, width)
    svg.text(8, top - 14, labels.axis, font_size="12", fill=GREY)
    for value in _ticks(lo, hi, step):
        svg.line(x0, y(value), width - 16, y(value), stroke=LIGHT, class_="grid")
        svg.text(x0 - 6, y(value) + 4, percent(value), text_anchor="end", class_="tick")
    svg.line(x0, bottom, width - 16, bottom, stroke=INK)
    runs: list[list[tuple[float, Mark]]] = [[]]
    for i, mark in enumerate(marks):
        cx = x0 + slot * (i + 0.5)
        svg.text(cx, bottom + 18, mark.label, text_anchor="middle", font_size="12")
        svg.text(cx, bottom + 34, mark.text, text_anchor="middle", font_size="11", fill=GREY)
        if mark.estimate is None or mark.low is None or mark.high is None:
            svg.text(cx, bottom - 8, "—", text_anchor="middle", fill=GREY, class_="gap")
            runs.append([])
        else:
            runs[-1].append((cx, mark))
    for run in runs:
        if len(run) > 1:
            upper = [f"{_n(cx)},{_n(y(m.high))}" for cx, m in run]
            lower = [f"{_n(cx)},{_n(y(m.low))}" for cx, m in reversed(run)]
            svg.add("polygon", points=" ".join(upper + lower), fill="#e3e3e3", class_="band")
            points = " ".join(f"{_n(cx)},{_n(y(m.estimate))}" for cx, m in run)
            svg.add("polyline", points=points, fill="none", stroke=INK, stroke_width="1.5",
                    class_="line")  # fmt: skip
    for cx, mark in (item for run in runs for item in run):
        svg.line(cx, y(mark.low), cx, y(mark.high), stroke=GREY, stroke_width="1.5", class_="ci")
        for end in (mark.low, mark.high):
            svg.line(cx - 4, y(end), cx + 4, y(end), stroke=GREY, stroke_width="1.5")
        fill = "#fff" if mark.hollow else INK
        svg.add("circle", cx=_n(cx), cy=_n(y(mark.estimate)), r="4.5", fill=fill, stroke=INK,
                stroke_width="1.5", class_="point")  # fmt: skip
    _legend(svg, 8, bottom + 60, labels.legend, width)
    return svg.done()


def rank_chart(ranked: Sequence[Ranked], count: int, labels: Labels, ident: str = "ranks") -> str:
    """Draw each unit's rank as a dot on a grey bar spanning its rank interval, on a 1..K axis."""
    x0, x1, text_x, row = 250, 600, 614, 24
    top = _top(len(ranked))
    width = _width(text_x, (r.text for r in ranked))
    axis_y = top + row * max(len(ranked), 1) + 4
    height = axis_y + 56 + 18 * len(labels.legend) + 6
    svg = _Svg(width, height, labels, ident)
    count = max(count, 1)

    def x(rank: float) -> float:
        return (x0 + x1) / 2 if count == 1 else x0 + (rank - 1) / (count - 1) * (x1 - x0)

    _title(svg, 24, labels.title, width)
    for i in range(0, len(ranked), 2):
        svg.add("rect", x="0", y=_n(top + row * i), width=str(width), height=str(row), fill=STRIPE)
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9) if count / s <= 20)
    for rank in sorted({1, *range(step, count + 1, step), count}):
        svg.line(x(rank), top, x(rank), axis_y, stroke=LIGHT, class_="grid")
        svg.text(x(rank), axis_y + 16, str(rank), text_anchor="middle", class_="tick")
        if top > TOP:
            svg.text(x(rank), top - 8, str(rank), text_anchor="middle", class_="tick-top")
    svg.line(x0, axis_y, x1, axis_y, stroke=INK)
    svg.text((x0 + x1) / 2, axis_y + 34, labels.axis, text_anchor="middle")
    for i, unit in enumerate(ranked):
        y = top + row * i + row / 2
        svg.raw(f'<g class="unit"><title>{esc(unit.label)}</title>')
        svg.text(8, y + 4, _fit(unit.label, x0 - 16), class_="label", data_width=_n(x0 - 16))
        svg.line(x(unit.low), y, x(unit.high), y, stroke="#a6a6a6", stroke_width="10",
                 stroke_linecap="square", class_="rank-ci")  # fmt: skip
        svg.add("circle", cx=_n(x(unit.rank)), cy=_n(y), r="5", fill=INK, class_="point")
        svg.text(text_x, y + 4, _fit(unit.text, width - text_x - 4, 12), font_size="12",
                 data_width=_n(width - text_x - 4))  # fmt: skip
        svg.raw("</g>")
    _legend(svg, 8, axis_y + 56, labels.legend, width)
    return svg.done()
