"""Charts as SVG: valid XML, marks where the numbers say, hostile names escaped."""

import itertools
import xml.etree.ElementTree as ET

import pytest
from PIL import ImageFont

from analysis.charts import Labels, Mark, Ranked, axis_range, forest_plot, rank_chart, trend_chart
from core.fonts import FONT_FILES

NS = {"s": "http://www.w3.org/2000/svg"}
ENGLISH_MONTHS = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
]
LABELS = Labels("Title", "Description", "Axis", ("legend",))


def svg_root(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own output, parsed to check it)


def parse(svg: str) -> ET.Element:
    root = svg_root(svg)
    assert root.get("role") == "img"
    assert root.find("s:title", NS).text == "Title"
    assert root.find("s:desc", NS).text == "Description"
    return root


def of_class(root: ET.Element, tag: str, name: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{{{NS['s']}}}{tag}") if e.get("class") == name]


def axis_scale(root: ET.Element, coordinate: str, percent: bool = True):
    """Return a function from a value to its position, read from two labelled grid lines."""
    values = [float(t.text.rstrip("%")) for t in of_class(root, "text", "tick")]
    places = [float(g.get(coordinate + "1")) for g in of_class(root, "line", "grid")]
    assert len(values) == len(places) >= 2
    scale = 100 if percent else 1
    (v1, p1), (v2, p2) = (values[0] / scale, places[0]), (values[-1] / scale, places[-1])
    return lambda value: p1 + (value - v1) * (p2 - p1) / (v2 - v1)


def test_axis_range_holds_the_values_with_round_ticks():
    assert axis_range([0.62, 0.81]) == (0.6, 0.85, 0.05)
    assert axis_range([0.0, 1.0]) == (0.0, 1.0, 0.2)
    assert axis_range([0.97, 1.0]) == (0.97, 1.0, 0.01)
    assert axis_range([None]) == (0.0, 1.0, 0.1)
    low, high, _step = axis_range([0.999, 1.0])
    assert low < 0.999 and high == 1.0


def test_forest_plot_puts_each_unit_where_its_numbers_are():
    marks = [
        Mark("Phường A", 0.80, 0.74, 0.85, "80%"),
        Mark("Phường B", 0.66, 0.55, 0.76, "66%", hollow=True),
        Mark("Phường C", None, text="— (n = 4)"),
    ]
    root = parse(forest_plot(marks, LABELS, reference=0.71))
    points, lines = of_class(root, "circle", "point"), of_class(root, "line", "ci")
    assert len(points) == len(lines) == 2  # none for the suppressed unit
    x = axis_scale(root, "x")
    for mark, point, line in zip(marks, points, lines, strict=False):
        assert float(point.get("cx")) == pytest.approx(x(mark.estimate), abs=0.05)
        assert float(line.get("x1")) == pytest.approx(x(mark.low), abs=0.05)
        assert float(line.get("x2")) == pytest.approx(x(mark.high), abs=0.05)
    assert [p.get("fill") for p in points] == ["#000", "#fff"]  # flagged: an open circle
    (reference,) = of_class(root, "line", "reference")
    assert float(reference.get("x1")) == pytest.approx(x(0.71), abs=0.05)
    assert reference.get("stroke-dasharray")  # told apart by its dashes, not a colour
    texts = ["".join(t.itertext()) for t in root.iter(f"{{{NS['s']}}}text")]
    assert "Phường C" in texts and "— (n = 4)" in texts


def test_hostile_names_are_escaped():
    name = '<script>alert("x")</script> & Co\x07'
    svg = forest_plot([Mark(name, 0.5, 0.4, 0.6, name)], Labels(name, name), reference=0.5)
    assert "<script>" not in svg
    root = svg_root(svg)
    assert root.find("s:title", NS).text == '<script>alert("x")</script> & Co'
    assert not list(root.iter("script")) and not list(root.iter(f"{{{NS['s']}}}script"))


def test_long_names_are_shortened_but_kept_whole_in_the_tooltip():
    name = "Ủy ban nhân dân phường Bến Nghé, thành phố Thủ Đức, Thành phố Hồ Chí Minh"
    root = parse(forest_plot([Mark(name, 0.5, 0.4, 0.6)], LABELS))
    group = next(g for g in root.iter(f"{{{NS['s']}}}g") if g.get("class") == "unit")
    assert group.find("s:title", NS).text == name
    (label,) = of_class(group, "text", "label")
    assert label.text.endswith("…") and len(label.text) < len(name)


@pytest.mark.parametrize("chart", ["forest", "trend", "ranks"])
def test_a_long_title_and_legend_are_shortened_to_the_chart_and_kept_whole_in_its_title(chart):
    """A chart's heading names a unit: a long one ran off the chart's right edge, cut mid-word
    by the browser. Drawn shortened, it stays whole in the SVG's <title> (and the page's)."""
    unit = "Ủy ban nhân dân phường Bến Nghé, thành phố Thủ Đức, Thành phố Hồ Chí Minh"
    title = f"Chỉ số hài lòng về tiếp nhận và giải quyết hồ sơ của các đơn vị thuộc {unit}"
    legend = f"┆ đường nét đứt: {unit}, {unit}, 84,2%"
    labels = Labels(title, "Mô tả", "Trục", ("● ước lượng", legend))
    svg = {
        "forest": lambda: forest_plot([Mark("Xã A", 0.5, 0.4, 0.6, "50%")], labels, 0.5),
        "trend": lambda: trend_chart([Mark("1/2024", 0.7, 0.6, 0.8, "n = 80")], labels),
        "ranks": lambda: rank_chart([Ranked("Xã A", 1, 1, 1)], 1, labels),
    }[chart]()
    root = svg_root(svg)
    assert root.find("s:title", NS).text == title
    width = float(root.get("width"))
    texts = {t.text: t for t in root.iter(f"{{{NS['s']}}}text")}
    (heading,) = [t for t in texts if t and t.startswith("Chỉ số hài lòng về")]
    assert heading != title and heading.endswith("…")
    # At the chart's own estimate of a bold letter, the heading fits between its margins.
    assert 8 + len(heading) * 15 * 0.56 * 1.1 <= width - 8
    assert float(texts[heading].get("data-width")) == width - 16
    (drawn,) = [t for t in texts if t and t.startswith("┆")]
    assert drawn.endswith("…") and 8 + len(drawn) * 12 * 0.56 <= width - 8
    assert "● ước lượng" in texts  # a short line stays whole


def test_trend_leaves_suppressed_months_as_gaps():
    months = [
        Mark("1/2024", 0.70, 0.60, 0.78, "n = 80"),
        Mark("2/2024", 0.75, 0.66, 0.82, "n = 90"),
        Mark("3/2024", None, text="n = 6"),
        Mark("4/2024", 0.60, 0.50, 0.69, "n = 70"),
    ]
    root = parse(trend_chart(months, LABELS))
    points = of_class(root, "circle", "point")
    assert len(points) == 3 and len(of_class(root, "line", "ci")) == 3
    assert len(of_class(root, "text", "gap")) == 1
    (line,) = of_class(root, "polyline", "line")  # April stands alone after the gap
    assert len(line.get("points").split()) == 2
    y = axis_scale(root, "y")
    shown = [m for m in months if m.estimate is not None]
    for mark, point in zip(shown, points, strict=True):
        assert float(point.get("cy")) == pytest.approx(y(mark.estimate), abs=0.05)
    xs = [float(p.get("cx")) for p in points]
    assert xs == sorted(xs)
    texts = [t.text for t in root.iter(f"{{{NS['s']}}}text")]
    assert "n = 6" in texts and "3/2024" in texts


def test_rank_chart_draws_each_rank_interval_on_a_one_to_k_axis():
    ranked = [
        Ranked("A", 1, 1, 1),
        Ranked("B", 2, 2, 3),
        Ranked("C", 3, 2, 3),
        Ranked("D", 4, 4, 4),
    ]
    root = parse(rank_chart(ranked, 4, LABELS))
    x = axis_scale(root, "x", percent=False)
    bars, points = of_class(root, "line", "rank-ci"), of_class(root, "circle", "point")
    assert len(bars) == len(points) == 4
    for unit, bar, point in zip(ranked, bars, points, strict=True):
        assert float(bar.get("x1")) == pytest.approx(x(unit.low), abs=0.01)
        assert float(bar.get("x2")) == pytest.approx(x(unit.high), abs=0.01)
        assert float(point.get("cx")) == pytest.approx(x(unit.rank), abs=0.01)
    assert [t.text for t in of_class(root, "text", "tick")] == ["1", "2", "3", "4"]


@pytest.mark.parametrize("rows", [5, 15, 16, 120])
def test_a_tall_chart_repeats_its_axis_numbers_above_the_rows(rows):
    marks = [Mark(f"Xã {i}", 0.5 + i / 400, 0.45, 0.6 + i / 400, f"n = {i}") for i in range(rows)]
    ranked = [Ranked(f"Xã {i}", i + 1, max(1, i - 2), min(rows, i + 3)) for i in range(rows)]
    for svg in (forest_plot(marks, LABELS, reference=0.55), rank_chart(ranked, rows, LABELS)):
        root = parse(svg)
        below = of_class(root, "text", "tick")
        above = of_class(root, "text", "tick-top")
        first_row = min(float(t.get("y")) for t in of_class(root, "text", "label"))
        last_row = max(float(t.get("y")) for t in of_class(root, "text", "label"))
        assert all(float(t.get("y")) > last_row for t in below)
        if rows > 15:  # the same numbers, at the same places, above the first row too
            assert [(t.text, t.get("x")) for t in above] == [(t.text, t.get("x")) for t in below]
            assert all(float(t.get("y")) < first_row - 10 for t in above)
            title = float(root.find("s:text", NS).get("y"))
            assert all(float(t.get("y")) > title + 10 for t in above)
        else:
            assert above == []


@pytest.mark.parametrize(
    "labels",
    [
        [f"{m}/2024*" for m in range(1, 13)],
        [f"{m} 2024*" for m in ENGLISH_MONTHS],
        ["Feb 2024"],
        [f"{m}/2024" for m in range(1, 37)],
    ],
)
def test_month_labels_keep_apart_in_the_pngs_font(labels):
    """Month labels under the trend chart, measured in DejaVu Sans (the PNG's font, wider than
    the SVG's), leave at least 6 px between neighbours, in Vietnamese or in English."""
    months = [Mark(label, 0.7, 0.6, 0.8, "n = 1.234") for label in labels]
    root = parse(trend_chart(months, LABELS))
    font = ImageFont.truetype(str(FONT_FILES[False]), 12)
    drawn = [t for t in root.iter(f"{{{NS['s']}}}text") if t.text in labels]
    assert [t.text for t in drawn] == labels
    spans = [
        (
            float(t.get("x")) - font.getlength(t.text) / 2,
            float(t.get("x")) + font.getlength(t.text) / 2,
        )
        for t in drawn
    ]
    assert all(b[0] - a[1] >= 6 for a, b in itertools.pairwise(spans)), spans
    # The first and last stay inside the chart.
    assert spans[0][0] >= 0 and spans[-1][1] <= float(root.get("width"))
