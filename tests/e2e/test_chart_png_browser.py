"""The PNG of a chart beside Chromium's rendering of its SVG: the marks in the same places."""

import io

from PIL import Image

from analysis.chart_png import render_png
from analysis.charts import Labels, Mark, forest_plot, trend_chart
from tests.analysis.test_pages import SVG, svg_root

LABELS = Labels("Chỉ số hài lòng chung", "Mô tả", "Phần trăm", ("● ước lượng",))
WINDOW = 16  # pixels around a dot at 2x: the dot is 11.5 across its stroke


def centroid(image: Image.Image, x: float, y: float) -> tuple[float, float]:
    """The centre of the dark pixels around (x, y)."""
    xs = ys = count = 0
    for px in range(round(x) - WINDOW, round(x) + WINDOW + 1):
        for py in range(round(y) - WINDOW, round(y) + WINDOW + 1):
            if image.getpixel((px, py)) < 100:
                xs, ys, count = xs + px, ys + py, count + 1
    assert count > 40, (x, y)
    return xs / count, ys / count


def chromium_shot(browser, svg: str) -> Image.Image:
    root = svg_root(svg)
    size = {"width": int(float(root.get("width"))), "height": int(float(root.get("height")))}
    page = browser.new_page(device_scale_factor=2, viewport=size)
    try:
        page.set_content(f'<!doctype html><body style="margin:0">{svg}</body>')
        return Image.open(io.BytesIO(page.screenshot())).convert("L")
    finally:
        page.close()


def test_chromium_and_the_png_put_every_dot_in_the_same_place(browser):
    marks = [
        Mark(f"Phường số {i}", 0.5 + 0.04 * i, 0.3 + 0.04 * i, 0.7 + 0.04 * i, "x", i % 2 == 1)
        for i in range(8)
    ]
    months = [
        Mark(f"{m}/2024", 0.6 + 0.03 * m, 0.5 + 0.03 * m, 0.7 + 0.03 * m, "n") for m in range(6)
    ]
    for svg in (forest_plot(marks, LABELS, reference=0.95), trend_chart(months, LABELS)):
        shot = chromium_shot(browser, svg)
        png = Image.open(io.BytesIO(render_png(svg)))
        assert png.size == shot.size
        circles = [c for c in svg_root(svg).iter(SVG + "circle") if c.get("class") == "point"]
        assert len(circles) in (8, 6)
        for circle in circles:
            x, y = 2 * float(circle.get("cx")), 2 * float(circle.get("cy"))
            ours, chromiums = centroid(png, x, y), centroid(shot, x, y)
            assert abs(ours[0] - chromiums[0]) <= 2 and abs(ours[1] - chromiums[1]) <= 2, (
                ours,
                chromiums,
            )
