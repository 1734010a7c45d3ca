"""Posters name their counter: the point's label, under the unit's name, in every format."""

import base64
import io
import re
import xml.etree.ElementTree as ET

import pypdfium2
import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops

from core.extensions import db
from core.forms import NAME_MAX_LENGTH
from survey import poster
from survey.poster_layout import ASCENT, DESCENT, MARGIN, Line, QRSymbol, Rect, _width, layout
from survey.services import add_point
from tests.conftest import login
from tests.survey.test_poster import LABEL, NAME, PX_PER_MM, SVG_NS, URL, decode_qr, png

TEXT = "{http://www.w3.org/2000/svg}text"
PAPER = {"A4": (210, 297), "A5": (148, 210)}
GAP = 6  # mm on A4, around the rule and above the footer
EPS = 0.001  # mm: parts that touch may overlap by a rounding error
LONG_NAME = "Trung tâm Phục vụ hành chính công và Bộ phận Một cửa của Ủy ban nhân dân " * 8


def longest(text: str) -> str:
    """Repeat text up to the longest label a form or the command line accepts."""
    return (text * NAME_MAX_LENGTH)[:NAME_MAX_LENGTH]


LONG_LABELS = {
    "words": longest("Quầy tiếp nhận và trả kết quả hồ sơ thủ tục hành chính lĩnh vực đất đai "),
    "wide capitals": longest("WƯỞNG MẪU ĐẲNG "),
    "one word": longest("ĐấtĐaiXâyDựng"),
}


def svg_lines(label: str, name: str = NAME, size: str = "A4") -> list[ET.Element]:
    data = poster.make_poster(name, label, URL, "svg", size)
    return list(ET.fromstring(data).iter(TEXT))  # noqa: S314 (our own output)


def header(drawables: list) -> tuple[list[Line], list[Line]]:
    """Split the lines above the rule into the unit's name (bold) and the label (regular)."""
    above = drawables[: next(i for i, d in enumerate(drawables) if isinstance(d, Rect))]
    return [d for d in above if d.bold], [d for d in above if not d.bold]


@pytest.mark.parametrize("size", PAPER)
def test_the_label_is_a_smaller_line_between_the_name_and_the_invitation(size):
    texts = svg_lines(LABEL, size=size)
    (label,) = [t for t in texts if t.text == LABEL]
    name = [t for t in texts if t.text in NAME]
    assert " ".join(t.text for t in name) == NAME
    title = next(t for t in texts if t.text.startswith("Are you satisfied"))
    assert max(float(t.get("y")) for t in name) < float(label.get("y")) < float(title.get("y"))
    assert float(label.get("font-size")) < min(float(t.get("font-size")) for t in name)


def test_two_counters_of_a_unit_have_posters_that_differ_in_their_text():
    first, second = (svg_lines(label) for label in ("Quầy 1", "Quầy 2"))
    assert [t.text for t in first if t.text not in ("Quầy 1", "Quầy 2")] == [
        t.text for t in second if t.text not in ("Quầy 1", "Quầy 2")
    ]
    assert "Quầy 1" in [t.text for t in first] and "Quầy 2" in [t.text for t in second]


def label_box_px(name: str, size: str, texts: dict[str, str]) -> tuple[int, int, int, int]:
    (line,) = header(layout(name, LABEL, URL, PAPER[size], texts))[1]
    half = _width(line.text, False, line.size) / 2
    box = (line.x - half, line.y - ASCENT * line.size, line.x + half, line.y + DESCENT * line.size)
    return tuple(round(v * PX_PER_MM) for v in box)


def ink_width(image: Image.Image, box) -> int:
    ink = ImageChops.invert(image.convert("L").crop(box)).getbbox()
    return 0 if ink is None else ink[2] - ink[0]


@pytest.mark.parametrize("size", PAPER)
def test_png_and_pdf_paint_the_label_where_the_layout_puts_it(size):
    box = label_box_px(NAME, size, poster._poster_texts())
    wide = 0.95 * (box[2] - box[0])  # the rule under the label is narrower
    assert ink_width(png(size=size), box) >= wide
    pdf = pypdfium2.PdfDocument(poster.make_poster(NAME, LABEL, URL, "pdf", size))
    try:
        page = pdf[0]
        painted = page.render(scale=300 / 72).to_pil()
        page.close()
    finally:
        pdf.close()
    assert ink_width(painted, box) >= wide
    assert [code.text for code in decode_qr(painted)] == [URL]


def assert_fits(drawables: list, label: str, paper: tuple[float, float], whole=True) -> None:
    """The label is whole, smaller than the name and under it, above the rule; no text runs
    off the margins or into the QR code's box, quiet zone included."""
    width, height = paper
    names, labels = header(drawables)
    if whole:
        assert "".join(line.text for line in labels).replace(" ", "") == label.replace(" ", "")
    else:
        assert labels[-1].text.endswith("…") and len(labels) <= 4
    assert max(line.size for line in labels) < min(line.size for line in names)
    (rule,) = [d for d in drawables if isinstance(d, Rect)]
    (qr,) = [d for d in drawables if isinstance(d, QRSymbol)]
    scale = width / 210
    margin = MARGIN * scale - EPS  # a name may fill its column
    for line in (d for d in drawables if isinstance(d, Line)):
        half = _width(line.text, line.bold, line.size) / 2
        top, bottom = line.y - ASCENT * line.size, line.y + DESCENT * line.size
        assert margin <= line.x - half and line.x + half <= width - margin, line.text
        assert margin <= top and bottom <= height - margin, line.text
        assert bottom <= qr.y + EPS or qr.y + qr.height <= top + EPS, line.text
    # The header, the body and the footer keep at least their 6 mm apart.
    lines = [d for d in drawables if isinstance(d, Line)]
    last, below = lines[len(names) + len(labels) - 1], lines[len(names) + len(labels)]
    assert last.y + DESCENT * last.size + GAP * scale <= rule.y + EPS
    assert rule.y + rule.height + GAP * scale <= below.y - ASCENT * below.size + EPS
    url = next(i for i, line in enumerate(lines) if line.text == URL)
    url, footer = lines[url : url + 2]
    assert url.y + DESCENT * url.size + GAP * scale <= footer.y - ASCENT * footer.size + EPS
    assert names[-1].y + DESCENT * names[-1].size <= labels[0].y - ASCENT * labels[0].size


@pytest.mark.parametrize("size", PAPER)
def test_a_name_of_any_length_leaves_room_for_the_longest_label(app, size):
    texts = poster._poster_texts()  # the Vietnamese sentences: the app is at hand
    assert texts["title"] != "Are you satisfied with our service today?"
    for repeat in range(1, 12):
        name = " ".join([NAME] * repeat)
        for label in LONG_LABELS.values():
            assert_fits(layout(name, label, URL, PAPER[size], texts), label, PAPER[size])


@pytest.mark.parametrize("size", PAPER)
def test_a_label_longer_than_a_form_accepts_is_cut_with_an_ellipsis(size):
    """SQLite does not hold a column to its length: a row written by other means may."""
    label = " ".join([LONG_LABELS["words"]] * 10)
    for name in (NAME, LONG_NAME):
        drawables = layout(name, label, URL, PAPER[size], poster._poster_texts())
        assert_fits(drawables, label, PAPER[size], whole=False)


@pytest.mark.parametrize("name", [NAME, LONG_NAME], ids=["name", "long name"])
@pytest.mark.parametrize("kind", LONG_LABELS)
@pytest.mark.parametrize("size", PAPER)
def test_the_longest_label_fits_whole_inside_the_margins_and_clear_of_the_qr(app, name, kind, size):
    label = LONG_LABELS[kind]
    drawables = layout(name, label, URL, PAPER[size], poster._poster_texts())
    assert_fits(drawables, label, PAPER[size])
    (qr,) = [d for d in drawables if isinstance(d, QRSymbol)]

    image = png(name, URL, size, label).convert("L")
    strip = round(10 * PX_PER_MM)
    ink = ImageChops.invert(image).getbbox()
    assert (strip, strip) <= ink[:2] and ink[2] <= image.width - strip
    assert ink[3] <= image.height - strip
    step = round(qr.module * PX_PER_MM)
    side = step * len(qr.matrix)
    left, top = round((qr.x + qr.height / 2) * PX_PER_MM - side / 2), round(qr.y * PX_PER_MM)
    quiet = 4 * step - 2  # the quiet zone, less a pixel of rounding on each side
    code_ink = ImageChops.invert(image.crop((left, top, left + side, top + side))).getbbox()
    assert quiet <= min(code_ink[:2]) and max(code_ink[2:]) <= side - quiet
    assert [code.text for code in decode_qr(image)] == [URL]


@pytest.mark.parametrize("label", ["", "   ", "\t \n", "\u200f\u202e"])
def test_an_empty_or_blank_label_leaves_no_line(label):
    texts = poster._poster_texts()
    assert layout(NAME, label, URL, PAPER["A4"], texts) == layout(NAME, "", URL, PAPER["A4"], texts)
    drawables = layout(NAME, label, URL, PAPER["A4"], texts)
    names, labels = header(drawables)
    assert labels == [] and " ".join(line.text for line in names) == NAME
    (rule,) = [d for d in drawables if isinstance(d, Rect)]
    assert rule.y == pytest.approx(names[-1].y + DESCENT * names[-1].size + GAP)
    assert all(t.text and t.text.strip() for t in svg_lines(label))


def test_the_label_is_escaped_and_cleaned_like_the_name():
    hostile = 'Quầy <1> & "Tây"\u202e\u200f\x07\x1b\u2066'
    data = poster.make_poster(NAME + "\u202e", hostile, URL, "svg", "A4")
    texts = [t.text for t in ET.fromstring(data).iter(TEXT)]  # noqa: S314 (our own output)
    assert 'Quầy <1> & "Tây"' in texts
    assert b"Qu\xe1\xba\xa7y &lt;1&gt; &amp;" in data
    for invisible in ("\u202e", "\u200f", "\u2066", "\x07", "\x1b"):
        assert invisible.encode() not in data


def test_the_svg_font_covers_the_vietnamese_letters_of_the_label():
    data = poster.make_poster(NAME, "Quầy Ướp Ỷ Ữ", URL, "svg", "A5")
    style = ET.fromstring(data).find("svg:style", SVG_NS).text  # noqa: S314 (our own output)
    regular = re.findall(r"url\(data:font/woff;base64,([\w+/=]+)\)", style)[0]
    cmap = TTFont(io.BytesIO(base64.b64decode(regular))).getBestCmap()
    assert {ord(char) for char in "QuầyƯớpỶỮ"} <= set(cmap)


@pytest.fixture
def two_counters(tree, questionnaire):
    first = add_point(tree["26734"], "Quầy 1", actor=None)
    second = add_point(tree["26734"], "Quầy tiếp nhận hồ sơ đất đai", actor=None)
    blank = add_point(tree["26734"], "Quầy 3", actor=None)
    blank.label = "   "  # rows written before labels were checked
    db.session.commit()
    return first, second, blank


def header_texts(data: bytes) -> list[str]:
    texts = [t.text for t in ET.fromstring(data).iter(TEXT)]  # noqa: S314 (our own output)
    return texts[: next(i for i, text in enumerate(texts) if text.startswith("Ông/bà có hài"))]


def test_qr_poster_command_names_the_counter(runner, two_counters, tmp_path):
    for point in two_counters:
        out = tmp_path / f"{point.id}.svg"
        result = runner.invoke(args=["qr", "poster", point.token, "--out", str(out)])
        assert result.exit_code == 0, result.output
        label = [point.label] if point.label.strip() else []
        assert header_texts(out.read_bytes()) == ["Phường Bến Nghé", *label]


def test_back_office_poster_names_the_counter(client, two_counters, make_user):
    make_user("admin@x.vn", "admin")
    login(client, "admin@x.vn")
    for point in two_counters:
        response = client.get(f"/staff/points/{point.token}/poster.svg?size=A5")
        assert response.status_code == 200
        label = [point.label] if point.label.strip() else []
        assert header_texts(response.data) == ["Phường Bến Nghé", *label]
