"""Charts as PNG: the analyst pages' downloads, with their pixels where the SVG puts the marks."""

import io
import unicodedata
import warnings

import pytest
from PIL import Image, ImageDraw, ImageFont

from analysis.chart_png import ChartError, dashes, fit, render_png
from analysis.charts import Labels, Mark, Ranked, forest_plot, rank_chart
from core.fonts import FONT_FILES
from core.models import Unit
from tests.analysis.test_pages import (  # noqa: F401 (staff and figures are fixtures)
    SVG,
    YEAR,
    answers,
    figures,
    grid_scale,
    load,
    staff,
    svg_root,
)
from tests.conftest import add_units, signed_in

DARK, LIGHT = 100, 200  # grey levels: ink is darker than DARK; paper and stripes lighter than LIGHT
LABELS = Labels("Xếp hạng", "", "Thứ hạng")
CHARTS = [
    "/staff/analysis/forest.{fmt}?unit=79&",
    "/staff/analysis/ranking.{fmt}?unit=79&",
    "/staff/analysis/units/760/trend.{fmt}?",
]


@pytest.fixture
def analyst(app, figures):  # noqa: F811 (the fixture imported above)
    return signed_in(app, "analyst@x.vn", language="vi")


def fetch(client, url):
    """Return the chart's SVG root and its PNG, decoded, both from the app's routes."""
    svg = client.get(url.format(fmt="svg") + YEAR)
    png = client.get(url.format(fmt="png") + YEAR)
    assert svg.status_code == png.status_code == 200, url
    assert png.mimetype == "image/png"
    image = Image.open(io.BytesIO(png.data))
    image.load()
    assert image.mode == "L"
    return svg_root(svg.data), image


def row_centre(root, label: str) -> float:
    """The y of a unit's row in the SVG: its label's baseline is 4 below the row's centre."""
    (text,) = [t for t in root.iter(SVG + "text") if t.get("class") == "label" and t.text == label]
    return float(text.get("y")) - 4


def written(text: str, bold: bool, size: float, xy, image) -> tuple[Image.Image, tuple]:
    """Write text with the shipped font straight onto paper the size and shade of the chart's
    (white, or a row's stripe); return the paper and the box the text covers."""
    paper = Image.new("L", image.size, image.getpixel((1, round(xy[1]))))
    typeface = ImageFont.truetype(str(FONT_FILES[bold]), size)
    ImageDraw.Draw(paper).text(xy, text, font=typeface, fill=0, anchor="ls")
    left, top, right, bottom = typeface.getbbox(text, anchor="ls")
    return paper, (xy[0] + left, xy[1] + top, xy[0] + right, xy[1] + bottom)


@pytest.mark.parametrize("url", CHARTS)
def test_the_png_is_the_svg_at_twice_its_size_for_print(analyst, url):
    root, image = fetch(analyst, url)
    assert image.size == (2 * int(root.get("width")), 2 * int(root.get("height")))
    # Word sizes a picture as pixels / DPI: at 192 DPI it is as large as the SVG at 96 px/inch.
    assert image.info["dpi"] == pytest.approx((192, 192), abs=0.01)
    assert image.getpixel((1, image.height - 2)) == 255  # white paper
    response = analyst.get(url.format(fmt="png") + YEAR)
    assert response.headers["Content-Disposition"].endswith('.png"')


def test_each_units_dot_is_at_its_estimate_and_a_flagged_one_is_hollow(analyst):
    root, image = fetch(analyst, CHARTS[0])
    x = grid_scale(root)  # the axis, read from its labelled grid lines
    for name, estimate, hollow in (("Quận 1", 35 / 45, False), ("Thành phố Thủ Đức", 0.8, True)):
        cx, cy = 2 * x(estimate * 100), 2 * row_centre(root, name)
        # The dot's radius is 5 with a 1.5 stroke: 5.75 out, 4.25 in; at 2x, 11.5 and 8.5.
        above = round(cy - 6)  # a row of pixels above the interval's line
        # From 3 px left of the ring: the province's dashed line may pass 10 px from it.
        run = [
            px for px in range(round(cx - 15), round(cx + 2)) if image.getpixel((px, above)) < DARK
        ]
        chord = (11.5**2 - 6**2) ** 0.5
        assert run and run[0] == pytest.approx(cx - chord, abs=1.5), name
        assert image.getpixel((round(cx - 11.5 - 3), above)) > LIGHT
        assert image.getpixel((round(cx), round(cy - 10))) < DARK  # the ring, above the line
        assert (image.getpixel((round(cx), round(cy) - 4)) > LIGHT) is hollow, name


def test_the_reference_line_is_dashed(analyst):
    root, image = fetch(analyst, CHARTS[0])
    (line,) = [e for e in root.iter(SVG + "line") if e.get("class") == "reference"]
    assert line.get("stroke-dasharray") == "6 4"
    column = round(2 * float(line.get("x1")))
    start = round(2 * float(line.get("y1")))
    # From its top, before the first row's marks: a dash of 6 and a gap of 4, at 2x.
    first = [image.getpixel((column, y)) < DARK for y in range(start, start + 20)]
    assert first == [True] * 12 + [False] * 8
    whole = [
        image.getpixel((column, y)) < DARK for y in range(start, round(2 * float(line.get("y2"))))
    ]
    gaps = sum(1 for a, b in zip(whole, whole[1:], strict=False) if a and not b)
    assert gaps >= 4


def test_the_vietnamese_title_is_drawn_in_the_shipped_font(analyst):
    root, image = fetch(analyst, CHARTS[0])
    (title,) = [t for t in root.iter(SVG + "text") if t.get("font-weight") == "bold"]
    assert title.text == "Chỉ số hài lòng chung của các đơn vị thuộc Thành phố Hồ Chí Minh"
    xy = (2 * float(title.get("x")), 2 * float(title.get("y")))
    paper, box = written(title.text, True, 30, xy, image)
    assert image.crop(box).getextrema()[0] < DARK  # there is ink, diacritics and all
    assert image.crop(box).tobytes() == paper.crop(box).tobytes()


def test_a_hostile_name_is_drawn_as_text(app, figures):  # noqa: F811
    name = "<b>Ấp</b> & <script>"
    add_units(Unit(code="26999", name=name, level="Phường", parent=figures["760"]))
    load(answers("26999", 12, "5"))
    client = signed_in(app, "analyst@x.vn", language="vi")
    root, image = fetch(client, "/staff/analysis/forest.{fmt}?unit=760&")
    paper, box = written(name, False, 26, (16, 2 * (row_centre(root, name) + 4)), image)
    assert image.crop(box).tobytes() == paper.crop(box).tobytes()


def test_the_rank_bar_has_square_ends_and_the_dot_sits_on_its_rank(analyst):
    root, image = fetch(analyst, CHARTS[1])
    for circle in root.iter(SVG + "circle"):
        cx, cy = 2 * float(circle.get("cx")), 2 * float(circle.get("cy"))
        assert image.getpixel((round(cx), round(cy))) < DARK
    (first, *_rest) = [e for e in root.iter(SVG + "line") if e.get("class") == "rank-ci"]
    left, y = 2 * float(first.get("x1")), 2 * float(first.get("y1")) - 8  # beside the dot
    assert image.getpixel((round(left - 8), round(y))) == 166  # #a6a6a6, past the end: a square cap
    assert image.getpixel((round(left - 12), round(y))) > LIGHT


def test_the_trend_png_draws_the_month_with_answers_and_marks_the_others(analyst):
    root, image = fetch(analyst, CHARTS[2])
    (point,) = [c for c in root.iter(SVG + "circle") if c.get("class") == "point"]
    assert (
        image.getpixel((round(2 * float(point.get("cx"))), round(2 * float(point.get("cy")))))
        < DARK
    )
    gaps = [t for t in root.iter(SVG + "text") if t.get("class") == "gap"]
    assert len(gaps) == 11
    for gap in gaps:  # a grey dash where a month has too few answers
        x, y = 2 * float(gap.get("x")), 2 * float(gap.get("y"))
        assert (
            image.crop((round(x) - 10, round(y) - 16, round(x) + 10, round(y))).getextrema()[0]
            < LIGHT
        )


def test_bad_filters_and_unknown_units_answer_as_the_svg_does(analyst):
    for url, status in (
        ("/staff/analysis/forest.{fmt}?from=2024-13-45", 400),
        ("/staff/analysis/ranking.{fmt}?unit=NOPE", 400),
        ("/staff/analysis/units/760/trend.{fmt}?from=2024-06-01&to=2024-01-01", 400),
        ("/staff/analysis/units/NOPE/trend.{fmt}", 404),
        ("/staff/analysis/forest.{fmt}x", 404),
    ):
        assert analyst.get(url.format(fmt="svg")).status_code == status, url
        assert analyst.get(url.format(fmt="png")).status_code == status, url
    assert analyst.get("/staff/analysis/forest.gif").status_code == 404


def test_each_chart_page_links_its_png(analyst):
    html = analyst.get("/staff/analysis/forest?unit=79&" + YEAR).get_data(as_text=True)
    assert "Tải biểu đồ (SVG)" in html and "/staff/analysis/forest.png?" in html


def test_a_long_name_is_shortened_to_its_column_in_the_fonts_real_widths():
    # 30 wide letters fit the column by the SVG's estimate of a letter, not in DejaVu Sans.
    ranked = [Ranked("Ш" * 30, 1, 1, 1, "1/1"), Ranked("iiii", 1, 1, 1, "1/1")]
    svg = rank_chart(ranked, 1, LABELS)
    label = next(t for t in svg_root(svg).iter(SVG + "text") if t.get("class") == "label")
    assert label.text == "Ш" * 30
    image = Image.open(io.BytesIO(render_png(svg)))
    room = 2 * (8 + float(label.get("data-width")))
    ink = [x for x in range(image.width) if image.getpixel((x, 2 * 56)) < DARK]
    assert ink[0] < room and not [x for x in ink if room < x < 2 * 400]  # nothing past the column


def test_a_name_typed_with_combining_marks_is_drawn_as_its_composed_form():
    composed = "Phường Hiệp Bình Chánh, Ấp Đông"
    pngs = [
        render_png(rank_chart([Ranked(unicodedata.normalize(form, composed), 1, 1, 1)], 1, LABELS))
        for form in ("NFC", "NFD")
    ]
    assert pngs[0] == pngs[1]


def test_the_painter_refuses_what_the_charts_do_not_write():
    laughs = '<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
    with pytest.raises(ChartError):
        render_png(laughs)
    with pytest.raises(ChartError):
        render_png(
            '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><path d=""/></svg>'
        )


def test_dashes_follow_the_pattern_and_stop_at_the_end():
    assert dashes(20, [6, 4]) == [(0, 6), (10, 16)]
    assert dashes(23, [6, 4]) == [(0, 6), (10, 16), (20, 23)]
    assert dashes(10, [3]) == [(0, 3), (6, 9)]  # an odd list repeats: 3 on, 3 off
    assert dashes(5, []) == [(0, 5)]


def test_fit_measures_and_keeps_what_fits():
    font = ImageFont.truetype(str(FONT_FILES[False]), 26)
    assert fit("Phường 1", 1000, font) == "Phường 1"
    short = fit("Phường Bến Nghé…", font.getlength("Phường Bến"), font)
    assert short.endswith("…") and font.getlength(short) <= font.getlength("Phường Bến")


def test_a_province_long_forest_plot_stays_under_pillows_decompression_bomb_limit():
    """1,500 communes at print quality would be 1,760 × 108,000 pixels: Pillow, and the
    programs built on it, warn of a decompression bomb past 89.5 million pixels and refuse past
    twice that. Painted less finely, the PNG opens quietly and is as large on paper."""
    marks = [
        Mark(f"Xã số {i}", 0.7 + (i % 20) / 100, 0.6 + (i % 20) / 100, 0.8 + (i % 20) / 100, "x")
        for i in range(1500)
    ]
    svg = forest_plot(marks, Labels("Chỉ số hài lòng", "", "Phần trăm"), reference=0.8)
    root = svg_root(svg.encode())
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(render_png(svg)))
        image.load()
    assert image.width * image.height <= Image.MAX_IMAGE_PIXELS
    assert image.width > int(root.get("width"))  # still finer than the screen's pixels
    # Word sizes a picture as pixels / DPI: the same inches as the SVG at 96 px/inch (PNG
    # stores whole pixels per metre, and the image has whole pixels: within a pixel or 1 in 10,000).
    dpi_x, dpi_y = image.info["dpi"]
    assert image.width / dpi_x * 96 == pytest.approx(int(root.get("width")), rel=1e-4, abs=1)
    assert image.height / dpi_y * 96 == pytest.approx(int(root.get("height")), rel=1e-4, abs=1)
    # The last row is painted: its label's ink lies at its place, in the image's last part.
    y = round(row_centre(root, "Xã số 1499") * image.height / int(root.get("height")))
    row = image.crop((0, y - 6, image.width // 3, y + 6))
    assert row.getextrema()[0] < DARK
