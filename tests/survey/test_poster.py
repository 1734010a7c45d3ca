"""Posters: page sizes, a QR code that a real decoder reads back, and Vietnamese text that fits."""

import base64
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import flask_babel
import pypdfium2
import pytest
import zxingcpp
from flask import Flask
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops, ImageDraw, ImageFont

from core.extensions import db
from core.models import local_today
from survey import poster

URL = "https://hailong.example.gov.vn/s/Xq3V9kLm2PzR8tYw4NbC7dQe"
NAME = "Ủy ban nhân dân phường Đông Hưng Thuận"
LABEL = "Quầy tiếp nhận hồ sơ đất đai"
SVG_NS = {"svg": "http://www.w3.org/2000/svg"}
PX_PER_MM = 300 / 25.4


def decode_qr(image: Image.Image) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


def png(name: str = NAME, url: str = URL, size: str = "A4", label: str = LABEL) -> Image.Image:
    image = Image.open(io.BytesIO(poster.make_poster(name, label, url, "png", size)))
    image.load()
    return image


@pytest.mark.parametrize(
    ("size", "pixels", "qr_mm"), [("A4", (2480, 3508), 90), ("A5", (1748, 2480), 63)]
)
def test_png_is_300_dpi_paper_with_a_large_qr_that_decodes_to_the_url(size, pixels, qr_mm):
    image = png(size=size)
    assert image.size == pixels
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    (code,) = decode_qr(image)
    assert code.text == URL
    width_px = code.position.top_right.x - code.position.top_left.x
    assert width_px / PX_PER_MM >= qr_mm


@pytest.mark.parametrize(("size", "points"), [("A4", (595, 842)), ("A5", (420, 595))])
def test_pdf_page_is_the_paper_size_and_its_qr_decodes_to_the_url(size, points):
    pdf = pypdfium2.PdfDocument(poster.make_poster(NAME, LABEL, URL, "pdf", size))
    try:
        assert len(pdf) == 1
        page = pdf[0]
        assert page.get_size() == pytest.approx(points, abs=1)
        image = page.render(scale=200 / 72).to_pil()
        page.close()
    finally:
        pdf.close()
    assert [code.text for code in decode_qr(image)] == [URL]


def svg_root(name: str, size: str = "A4", label: str = LABEL) -> tuple[bytes, ET.Element]:
    data = poster.make_poster(name, label, URL, "svg", size)
    return data, ET.fromstring(data)  # noqa: S314 (our own output)


def rasterise_qr_path(path: ET.Element, px: int = 8) -> Image.Image:
    """Draw the module squares of the SVG's QR path, with a quiet zone, px pixels per module."""
    runs = [tuple(map(int, m)) for m in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path.get("d"))]
    assert "".join(f"M{c} {r}h{n}v1h-{n}z" for c, r, n in runs) == path.get("d")
    side = max(c + n for c, _, n in runs) + 4
    image = Image.new("L", (side * px, side * px), 255)
    draw = ImageDraw.Draw(image)
    for c, r, n in runs:
        draw.rectangle([c * px, r * px, (c + n) * px - 1, (r + 1) * px - 1], fill=0)
    return image


@pytest.mark.parametrize(("size", "mm"), [("A4", (210, 297)), ("A5", (148, 210))])
def test_svg_is_vector_in_millimetres_and_its_qr_path_decodes_to_the_url(size, mm):
    _, root = svg_root(NAME, size)
    assert root.get("width") == f"{mm[0]}mm" and root.get("height") == f"{mm[1]}mm"
    assert root.get("viewBox") == f"0 0 {mm[0]} {mm[1]}"
    assert root.find("svg:image", SVG_NS) is None
    (path,) = root.findall("svg:path", SVG_NS)
    x, y, module = map(
        float,
        re.fullmatch(
            r"translate\(([\d.]+) ([\d.]+)\) scale\(([\d.]+)\)", path.get("transform")
        ).groups(),
    )
    image = rasterise_qr_path(path)
    assert x > 0 and x + module * image.width / 8 < mm[0] and 0 < y < mm[1]
    assert [code.text for code in decode_qr(image)] == [URL]


def test_svg_escapes_the_unit_name_and_shows_it_as_text():
    name = 'Phường Đông & <Tây> "Mới"'
    data, root = svg_root(name)
    texts = [element.text for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert name in texts
    assert "Phường Đông &amp; &lt;Tây&gt;".encode() in data
    assert URL in texts


def test_svg_embeds_a_small_font_that_covers_its_vietnamese_text():
    data, root = svg_root(NAME)
    style = root.find("svg:style", SVG_NS).text
    fonts = re.findall(r"@font-face\{[^}]*url\(data:font/woff;base64,([\w+/=]+)\)", style)
    assert len(fonts) == 2  # regular and bold
    bold = TTFont(io.BytesIO(base64.b64decode(fonts[1])))
    assert {ord(char) for char in NAME if char != " "} <= set(bold.getBestCmap())
    assert len(bold.getGlyphOrder()) < 100  # a subset, not all of DejaVu
    assert len(data) < 60_000


@pytest.mark.parametrize("repeat", [8, 25])
def test_a_very_long_name_and_url_stay_inside_the_margins(repeat):
    name = "Trung tâm Phục vụ hành chính công và Bộ phận Một cửa của Ủy ban nhân dân " * repeat
    url = "https://hailong.example.gov.vn/s/" + "Xq3V9kLm2PzR8tYw4NbC7dQe" * 4
    image = png(name, url, "A5").convert("L")
    strip = round(10 * PX_PER_MM)
    inner = (strip, strip, image.width - strip, image.height - strip)
    page_ink = ImageChops.invert(image).getbbox()
    assert page_ink is not None
    assert inner[0] <= page_ink[0] and inner[1] <= page_ink[1]
    assert page_ink[2] <= inner[2] and page_ink[3] <= inner[3]
    assert [code.text for code in decode_qr(image)] == [url]


def test_a_name_too_long_for_any_size_is_cut_with_an_ellipsis():
    _, root = svg_root("Ủy ban nhân dân phường Đông Hưng Thuận " * 25, "A5")
    texts = [element.text for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert sum(text.endswith("…") for text in texts) == 1


def test_vietnamese_letters_are_real_glyphs_not_missing_boxes():
    font = ImageFont.truetype(str(poster.FONT_FILES[True]), 120)

    def draw(text: str) -> Image.Image:
        image = Image.new("L", (200, 200), 255)
        ImageDraw.Draw(image).text((40, 160), text, font=font, fill=0, anchor="ls")
        return image

    missing = draw("\ue000")  # private use: DejaVu has no glyph, so this is .notdef
    for char in "ỦĐƯỘẨ":
        assert ImageChops.difference(draw(char), missing).getbbox() is not None, char
    assert ImageChops.difference(draw("Ủ"), draw("U")).getbbox() is not None


@pytest.mark.parametrize(
    ("fmt", "size"), [("jpg", "A4"), ("PDF", "A4"), ("png", "A3"), ("svg", "a4")]
)
def test_unknown_format_or_size_is_refused(fmt, size):
    with pytest.raises(ValueError):
        poster.make_poster(NAME, LABEL, URL, fmt, size)


def test_poster_sentences_come_from_the_vietnamese_catalogue(monkeypatch):
    app = Flask(__name__)
    flask_babel.Babel(app, default_locale="en")
    monkeypatch.setattr(poster, "gettext", lambda msgid: f"[{flask_babel.get_locale()}] {msgid}")
    with app.app_context():
        texts = poster._poster_texts()
    assert texts and all(text.startswith("[vi] ") for text in texts.values())


def test_poster_sentences_fall_back_to_the_msgids_without_an_app():
    texts = poster._poster_texts()
    assert texts["title"] == "Are you satisfied with our service today?"


def test_qr_poster_command_writes_a_poster_whose_qr_opens_the_point(runner, point, tmp_path):
    out = tmp_path / "poster.png"
    result = runner.invoke(args=["qr", "poster", point.token, "--out", str(out), "--size", "a5"])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out} (A5," in result.output
    image = Image.open(out)
    assert image.size == (1748, 2480)
    (code,) = decode_qr(image)
    assert code.text == f"http://survey.test/s/{point.token}"  # the app's PUBLIC_BASE_URL


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-a-token", "--out", "{tmp}/p.pdf"], "no survey point"),
        (["{token}", "--out", "{tmp}/p.gif"], "must end in .pdf, .png or .svg"),
        (["{token}", "--out", "{tmp}/no/such/folder/p.pdf"], "cannot write"),
        (["{token}", "--out", "{tmp}/p.pdf", "--size", "A0"], "Invalid value for '--size'"),
    ],
)
def test_qr_poster_command_errors(runner, point, tmp_path, args, message):
    filled = [a.format(tmp=tmp_path, token=point.token) for a in args]
    result = runner.invoke(args=["qr", "poster", *filled])
    assert result.exit_code != 0 and message in result.output, (result.output, result.exception)
    assert not list(tmp_path.rglob("p.*"))


def test_qr_poster_command_refuses_a_point_out_of_use(runner, point, tmp_path):
    """As the back office does (410): its QR code would open a page saying the point is no
    longer in use, whether retired or of a unit that has closed."""
    out = tmp_path / "p.pdf"
    point.unit.closed_on = local_today()
    db.session.commit()
    closed = runner.invoke(args=["qr", "poster", point.token, "--out", str(out)])
    assert closed.exit_code == 1 and isinstance(closed.exception, SystemExit)
    assert f"closed on {local_today():%Y-%m-%d}: its points are no longer in use" in closed.output
    point.unit.closed_on = local_today() + timedelta(days=1)  # still open today: a poster
    db.session.commit()
    assert runner.invoke(args=["qr", "poster", point.token, "--out", str(out)]).exit_code == 0
    out.unlink()
    assert runner.invoke(args=["points", "retire", point.token]).exit_code == 0
    retired = runner.invoke(args=["qr", "poster", point.token, "--out", str(out)])
    assert retired.exit_code == 1 and "was retired on" in retired.output
    assert "no longer in use" in retired.output and not out.exists()
