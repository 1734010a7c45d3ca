"""Speed of the charts as PNG: a forest plot and a rank chart of 10 to 1,000 units.

Draws each chart as SVG (analysis.charts) and paints it as PNG (analysis.chart_png), as the
analyst pages' downloads do, without an app or a database: both take only the chart's numbers.
Prints, per size, the median of --repeat runs of each step, the PNG's pixels and bytes.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.chart_png import render_png  # noqa: E402
from analysis.charts import Labels, Mark, Ranked, forest_plot, rank_chart  # noqa: E402

LABELS = Labels(
    "Chỉ số hài lòng chung của các đơn vị thuộc Thành phố Hồ Chí Minh",
    "Mỗi đơn vị là một chấm trên đoạn thẳng thể hiện khoảng tin cậy 95%.",
    "Chỉ số hài lòng chung, phần trăm",
    ("● ước lượng, với khoảng tin cậy 95%", "○ ít phiếu hoặc kém chính xác"),
)
NAMES = ["Phường Bến Nghé", "Xã Tân Thạnh Đông", "Phường Hiệp Bình Chánh", "Thị trấn Củ Chi"]


def marks(count: int, rng: random.Random) -> list[Mark]:
    out = []
    for i in range(count):
        p, half = rng.uniform(0.6, 0.95), rng.uniform(0.02, 0.15)
        text = f"{p * 100:.2f}% ({(p - half) * 100:.2f}%–{(p + half) * 100:.2f}%), n = {i + 12}"
        out.append(Mark(f"{NAMES[i % 4]} số {i}", p, p - half, p + half, text, i % 7 == 0))
    return out


def timed(step, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,300,1000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(1)
    render_png(forest_plot(marks(2, rng), LABELS))  # Pillow's import and the fonts, once
    print(f"{'chart':<8}{'units':>7}{'SVG ms':>9}{'PNG ms':>9}{'pixels':>14}{'PNG kB':>9}")
    for size in (int(s) for s in args.sizes.split(",")):
        rows = marks(size, rng)
        ranked = [
            Ranked(m.label, i + 1, max(1, i - 5), min(size, i + 6)) for i, m in enumerate(rows)
        ]
        for name, draw in (
            ("forest", lambda rows=rows: forest_plot(rows, LABELS, reference=0.8)),
            ("ranks", lambda ranked=ranked, size=size: rank_chart(ranked, size, LABELS)),
        ):
            svg_time, svg = timed(draw, args.repeat)
            png_time, png = timed(lambda svg=svg: render_png(svg), args.repeat)
            width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
            print(
                f"{name:<8}{size:>7}{svg_time * 1000:>9.1f}{png_time * 1000:>9.1f}"
                f"{f'{width}×{height}':>14}{len(png) / 1000:>9.0f}"
            )


if __name__ == "__main__":
    main()
