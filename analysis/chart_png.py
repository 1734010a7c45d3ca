"""A chart's SVG painted as a PNG with Pillow, for word processors that cannot insert SVG.

Why paint the SVG rather than give each chart a second drawing backend: the SVG that
analysis/charts.py writes is the chart, the one the pages show, analysts download and the tests
check; painting that text means the PNG cannot drift from it, and each chart keeps one layout
with one output and no backend to thread through it. The SVG is the module's own small subset
(svg, g, title, desc, rect, line, circle, polygon and polyline, text; presentation attributes
inherited down the tree; no CSS, paths or transforms), so its painter is short, and anything
outside the subset is refused rather than guessed. It is read with xml.etree after refusing any
markup declaration, so no entity is ever declared, let alone expanded.

The text is DejaVu Sans, the font the posters ship: it covers Vietnamese on every machine, where
the SVG's system fonts differ from one computer to the next. Its glyphs are wider than the
chart's estimate of a character, so a text that names its room (data-width) is shortened again,
measured, until it fits.
"""

import io
import math
import unicodedata
import xml.etree.ElementTree as ET
from functools import cache
from typing import TYPE_CHECKING

from core.fonts import FONT_FILES

if TYPE_CHECKING:
    from PIL import Image, ImageFont

SCALE = 2  # pixels per SVG pixel: print quality
SVG_DPI = 96  # an SVG pixel is 1/96 inch
# At most this many pixels: under the 89.5 million past which Pillow, and the programs built on
# it, warn of a decompression bomb (and refuse at twice that). A chart of 1,000 units and more
# would pass it at print quality: it is painted a little less finely, at the same size on paper.
MAX_PIXELS = 80_000_000
INHERITED = (
    "fill",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "stroke-linecap",
    "font-size",
    "font-weight",
    "text-anchor",
)
ANCHORS = {"start": "ls", "middle": "ms", "end": "rs"}  # on the baseline, as SVG places text
SILENT = {"title", "desc"}  # read by screen readers and browsers' tooltips, not drawn


class ChartError(ValueError):
    """The SVG is not one this module's charts write."""


def render_png(svg: str, scale: float = SCALE) -> bytes:
    """Paint a chart's SVG at `scale` pixels per SVG pixel, or fewer to stay within MAX_PIXELS,
    and return it as a PNG whose resolution keeps it at the SVG's size on paper."""
    from PIL import Image  # here: Pillow costs 10 ms of every start

    if "<!" in svg:
        raise ChartError("markup declarations are not part of a chart")
    root = ET.fromstring(svg)  # noqa: S314 (the charts' own output; declarations refused above)
    if _tag(root) != "svg":
        raise ChartError("not an SVG")
    width, height = float(root.get("width", 0)), float(root.get("height", 0))
    if width * height * scale**2 > MAX_PIXELS:
        scale = math.sqrt(MAX_PIXELS / (width * height)) * 0.999  # leave room for rounding up
    # Greyscale: the charts are drawn for paper in black and greys, and it is a third the size.
    image = Image.new("L", (math.ceil(width * scale), math.ceil(height * scale)), 255)
    painter = _Painter(image, scale)
    painter.children(root, _style({"fill": "#000", "font-size": "13"}, root))
    out = io.BytesIO()
    # zlib's fastest level: half the time of its default on a long chart, for a file 20% larger.
    dpi = SVG_DPI * scale  # Word sizes a picture as pixels / DPI
    image.save(out, "PNG", dpi=(dpi, dpi), compress_level=1)
    return out.getvalue()


def _tag(element: ET.Element) -> str:
    return element.tag.rpartition("}")[2]


def _style(parent: dict[str, str], element: ET.Element) -> dict[str, str]:
    own = {key: element.get(key) for key in INHERITED if element.get(key) is not None}
    return {**parent, **own} if own else parent


@cache
def _grey(color: str) -> int | None:
    from PIL import ImageColor

    return None if color in ("none", "") else ImageColor.getcolor(color, "L")


@cache
def _font(bold: bool, size: float) -> "ImageFont.FreeTypeFont":
    from PIL import ImageFont

    return ImageFont.truetype(str(FONT_FILES[bold]), size)


def fit(text: str, room: float, font: "ImageFont.FreeTypeFont") -> str:
    """Shorten text with an ellipsis, measured in the font, until it is no wider than room."""
    if font.getlength(text) <= room:
        return text
    kept = text.removesuffix("…")
    while kept and font.getlength(kept + "…") > room:
        kept = kept[:-1]
    return kept.rstrip() + "…"


def dashes(length: float, pattern: list[float]) -> list[tuple[float, float]]:
    """Return the (start, end) of each dash along a line of this length, as SVG draws them."""
    if not pattern or sum(pattern) <= 0:
        return [(0.0, length)]
    pattern = pattern * (2 if len(pattern) % 2 else 1)  # an odd list is repeated, per SVG
    spans, at, i = [], 0.0, 0
    while at < length:
        step = pattern[i % len(pattern)]
        if i % 2 == 0 and step > 0:
            spans.append((at, min(at + step, length)))
        at, i = at + step, i + 1
    return spans


class _Painter:
    def __init__(self, image: "Image.Image", scale: int):
        from PIL import ImageDraw

        self.image, self.draw, self.s = image, ImageDraw.Draw(image), scale

    def children(self, element: ET.Element, style: dict[str, str]) -> None:
        for child in element:
            tag = _tag(child)
            if tag in SILENT:
                continue
            paint = getattr(self, f"paint_{tag}", None)
            if paint is None:
                raise ChartError(f"<{tag}> is not drawn by the charts")
            paint(child, _style(style, child))

    def paint_g(self, element: ET.Element, style: dict[str, str]) -> None:
        self.children(element, style)

    def paint_rect(self, element: ET.Element, style: dict[str, str]) -> None:
        fill = _grey(style.get("fill", "none"))
        x, y = _num(element, "x"), _num(element, "y")
        w, h = _num(element, "width"), _num(element, "height")
        if fill is not None and w > 0 and h > 0:
            self._box(x, y, x + w, y + h, fill)

    def paint_line(self, element: ET.Element, style: dict[str, str]) -> None:
        stroke = _grey(style.get("stroke", "none"))
        if stroke is None:
            return
        x1, y1, x2, y2 = (_num(element, k) for k in ("x1", "y1", "x2", "y2"))
        width = float(style.get("stroke-width", 1))
        length = math.hypot(x2 - x1, y2 - y1)
        if style.get("stroke-linecap") == "square":  # the caps reach half the width further
            x1, y1, x2, y2, length = *_extend(x1, y1, x2, y2, width / 2), length + width
        if length == 0:
            return
        pattern = [float(v) for v in style.get("stroke-dasharray", "").replace(",", " ").split()]
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        for a, b in dashes(length, pattern):
            self._segment(x1 + ux * a, y1 + uy * a, x1 + ux * b, y1 + uy * b, width, stroke)

    def paint_circle(self, element: ET.Element, style: dict[str, str]) -> None:
        cx, cy, r = _num(element, "cx"), _num(element, "cy"), _num(element, "r")
        fill, stroke = _grey(style.get("fill", "none")), _grey(style.get("stroke", "none"))
        if stroke is None:
            if fill is not None:
                self._disc(cx, cy, r, fill)
            return
        half = float(style.get("stroke-width", 1)) / 2  # SVG centres the stroke on the edge
        self._disc(cx, cy, r + half, stroke, hole=r - half if fill is None else 0.0)
        if fill is not None:
            self._disc(cx, cy, r - half, fill)

    def paint_polygon(self, element: ET.Element, style: dict[str, str]) -> None:
        fill = _grey(style.get("fill", "none"))
        if fill is not None:
            self.draw.polygon(self._points(element), fill=fill)

    def paint_polyline(self, element: ET.Element, style: dict[str, str]) -> None:
        stroke = _grey(style.get("stroke", "none"))
        if stroke is not None:
            width = max(1, round(float(style.get("stroke-width", 1)) * self.s))
            self.draw.line(self._points(element), fill=stroke, width=width, joint="curve")

    def paint_text(self, element: ET.Element, style: dict[str, str]) -> None:
        # Composed: a name typed with combining marks (NFD) then takes the font's own
        # precomposed glyphs, placed alike whatever text layout Pillow was built with.
        body = unicodedata.normalize("NFC", "".join(element.itertext()))
        fill = _grey(style.get("fill", "#000"))
        if not body or fill is None:
            return
        bold = style.get("font-weight") in ("bold", "bolder", "600", "700", "800", "900")
        font = _font(bold, float(style.get("font-size", 13)) * self.s)
        if (room := element.get("data-width")) is not None:
            body = fit(body, float(room) * self.s, font)
        anchor = ANCHORS.get(style.get("text-anchor", "start"), "ls")
        xy = (_num(element, "x") * self.s, _num(element, "y") * self.s)
        self.draw.text(xy, body, fill=fill, font=font, anchor=anchor)

    def _points(self, element: ET.Element) -> list[tuple[float, float]]:
        pairs = element.get("points", "").replace(",", " ").split()
        values = [float(v) * self.s for v in pairs]
        return list(zip(values[::2], values[1::2], strict=True))

    def _box(self, x1: float, y1: float, x2: float, y2: float, fill: int) -> None:
        """Fill the pixels whose centres lie inside a box given in SVG pixels."""
        left, top = _px(min(x1, x2) * self.s), _px(min(y1, y2) * self.s)
        right, bottom = _px(max(x1, x2) * self.s) - 1, _px(max(y1, y2) * self.s) - 1
        if right >= left and bottom >= top:
            self.draw.rectangle([left, top, right, bottom], fill=fill)

    def _disc(self, cx: float, cy: float, radius: float, grey: int, hole: float = 0.0) -> None:
        """Paint a disc, less a hole, with a smooth edge: drawn four times finer as a mask,
        reduced, and the grey laid through it (at 2x a dot is 23 pixels across; a hard edge
        shows its steps in print)."""
        from PIL import Image, ImageDraw

        fine = 4
        x, y, out = cx * self.s, cy * self.s, radius * self.s
        left, top = math.floor(x - out), math.floor(y - out)
        width, height = math.ceil(x + out) - left, math.ceil(y + out) - top
        mask = Image.new("L", (width * fine, height * fine), 0)
        draw = ImageDraw.Draw(mask)
        for r, value in ((out, 255), (hole * self.s, 0)):
            if r > 0:
                mx, my, mr = (x - left) * fine, (y - top) * fine, r * fine
                draw.ellipse([mx - mr, my - mr, mx + mr, my + mr], fill=value)
        box = (left, top, left + width, top + height)
        self.image.paste(grey, box, mask.reduce(fine))

    def _segment(self, x1, y1, x2, y2, width: float, stroke: int) -> None:
        """Stroke one straight piece with butt ends; level and plumb ones to the exact pixel,
        each as many pixels wide wherever it falls."""
        ink = max(1, _px(width * self.s))
        if y1 == y2 or x1 == x2:
            level = y1 == y2
            across = _px((y1 if level else x1) * self.s - ink / 2)
            a, b = sorted((x1, x2) if level else (y1, y2))
            start, end = _px(a * self.s), _px(b * self.s) - 1
            if end >= start:
                box = [start, across, end, across + ink - 1]
                self.draw.rectangle(box if level else [box[1], box[0], box[3], box[2]], fill=stroke)
        else:
            ends = [(x1 * self.s, y1 * self.s), (x2 * self.s, y2 * self.s)]
            self.draw.line(ends, fill=stroke, width=ink)


def _px(value: float) -> int:
    """The pixel edge nearest a position, halves rounded up (round() would round them to even,
    and a stroke's width would change with where it falls)."""
    return math.floor(value + 0.5)


def _num(element: ET.Element, key: str) -> float:
    return float(element.get(key, 0))


def _extend(x1, y1, x2, y2, by: float) -> tuple[float, float, float, float]:
    length = math.hypot(x2 - x1, y2 - y1)
    if length == 0:  # a dot: a square cap draws a square around it
        return x1 - by, y1, x2 + by, y2
    ux, uy = (x2 - x1) / length * by, (y2 - y1) / length * by
    return x1 - ux, y1 - uy, x2 + ux, y2 + uy
