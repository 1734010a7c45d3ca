"""Print-ready posters with a survey point's QR code, in PDF, PNG or SVG."""

import base64
import io
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from flask_babel import force_locale, gettext

from survey.poster_layout import FONT_FILES, Line, Rect, font, layout
from survey.qr import qr_path

if TYPE_CHECKING:
    from PIL import Image

FORMATS = {"pdf": "application/pdf", "png": "image/png", "svg": "image/svg+xml"}
PAPER_SIZES = {"A4": (210, 297), "A5": (148, 210)}  # millimetres, portrait
DPI = 300
PX_PER_MM = DPI / 25.4
FONT_FAMILY = "HaiLongSans"


def _poster_texts() -> dict[str, str]:
    """Return the poster's sentences in Vietnamese (the msgids when no catalogue is at hand)."""
    # Outside an app context flask_babel has no catalogue and returns the msgid unchanged.
    with force_locale("vi"):
        return {
            "title": gettext("Are you satisfied with our service today?"),
            "invitation": gettext(
                "Scan the QR code to rate us in one minute. No personal information is needed."
            ),
            "address": gettext("Or open this address:"),
            "footer": gettext("Your opinion helps us serve you better. Thank you!"),
        }


def _render_image(width: float, height: float, drawables: list) -> "Image.Image":
    """Paint the poster at 300 dpi."""
    from PIL import Image, ImageDraw  # here: Pillow costs 10 ms of every start

    image = Image.new("RGB", (round(width * PX_PER_MM), round(height * PX_PER_MM)), "white")
    draw = ImageDraw.Draw(image)
    for item in drawables:
        if isinstance(item, Line):
            typeface = font(item.bold, item.size * PX_PER_MM)
            xy = (item.x * PX_PER_MM, item.y * PX_PER_MM)
            draw.text(xy, item.text, font=typeface, fill=item.color, anchor="ms")
        elif isinstance(item, Rect):
            box = [item.x, item.y, item.x + item.width, item.y + item.height]
            draw.rectangle([round(v * PX_PER_MM) for v in box], fill=item.color)
        else:  # whole pixels per module keep the code crisp
            step = round(item.module * PX_PER_MM)
            left = round((item.x + item.height / 2) * PX_PER_MM - step * len(item.matrix) / 2)
            top = round(item.y * PX_PER_MM)
            for r, row in enumerate(item.matrix):
                for c, dark in enumerate(row):
                    if dark:
                        x, y = left + c * step, top + r * step
                        draw.rectangle([x, y, x + step - 1, y + step - 1], fill="black")
    return image


def _font_face(bold: bool, text: str) -> str:
    """Return an @font-face rule embedding DejaVu Sans cut down to the characters of text."""
    from fontTools import subset  # only SVG posters need it; it costs every start-up 0.14 s

    options = subset.Options()
    options.flavor = "woff"
    options.hinting = False
    options.drop_tables += ["FFTM"]  # FontForge's timestamps; fontTools would warn about them
    buffer = io.BytesIO()
    with subset.load_font(str(FONT_FILES[bold]), options) as face:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(face)
        subset.save_font(face, buffer, options)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    weight = "bold" if bold else "normal"
    return (
        f"@font-face{{font-family:{FONT_FAMILY};font-weight:{weight};"
        f'src:url(data:font/woff;base64,{data}) format("woff")}}'
    )


def _render_svg(width: float, height: float, drawables: list) -> bytes:
    """Write the poster as vector SVG in millimetres, with its fonts embedded."""
    lines = [item for item in drawables if isinstance(item, Line)]
    faces = [_font_face(b, "".join(i.text for i in lines if i.bold == b)) for b in (False, True)]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}">',
        f"<style>{''.join(faces)}text{{font-family:{FONT_FAMILY},'DejaVu Sans',sans-serif;"
        "text-anchor:middle}</style>",
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
    ]
    for item in drawables:
        if isinstance(item, Line):
            weight = "bold" if item.bold else "normal"
            out.append(
                f'<text x="{item.x:.2f}" y="{item.y:.2f}" font-size="{item.size:.2f}" '
                f'font-weight="{weight}" fill="{item.color}">{escape(item.text)}</text>'
            )
        elif isinstance(item, Rect):
            out.append(
                f'<rect x="{item.x:.2f}" y="{item.y:.2f}" width="{item.width:.2f}" '
                f'height="{item.height:.2f}" fill="{item.color}"/>'
            )
        else:
            out.append(
                f'<path transform="translate({item.x:.3f} {item.y:.3f}) scale({item.module:.4f})" '
                f'fill="#000" shape-rendering="crispEdges" d="{qr_path(item.matrix)}"/>'
            )
    out.append("</svg>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join(out) + "\n").encode()


def make_poster(unit_name: str, label: str, url: str, fmt: str, size: str = "A4") -> bytes:
    """Return a print-ready poster inviting citizens to rate the unit's counter (label) at url."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown poster format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if size not in PAPER_SIZES:
        raise ValueError(f"unknown paper size {size!r}; expected one of {', '.join(PAPER_SIZES)}")
    width, height = PAPER_SIZES[size]
    drawables = layout(unit_name, label, url, (width, height), _poster_texts())
    if fmt == "svg":
        return _render_svg(width, height, drawables)
    buffer = io.BytesIO()
    image = _render_image(width, height, drawables)
    if fmt == "png":
        image.save(buffer, "PNG", dpi=(DPI, DPI))
    else:  # Pillow stores RGB pages as JPEG: high quality, no chroma subsampling, clean text
        image.save(buffer, "PDF", resolution=DPI, quality=95, subsampling=0)
    return buffer.getvalue()
