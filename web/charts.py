"""Bar charts as plain geometry, drawn as SVG by ``templates/_charts.html``: no script, no CDN.

Pure: categories and series in, rectangles and labels out (pixel units), so
the numbers can be tested and the template only places them. Labels reach the
SVG through Jinja's autoescaping like any other text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

LEFT, RIGHT, TOP, BOTTOM = 40, 10, 12, 46  # plot margins, in pixels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    series: int  # index into the chart's series, for the colour
    label: str  # category, for the tooltip


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    series: list[str] = field(default_factory=list)
    baseline: float = 0.0


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^k at or above ``value`` (at least 1), for a readable top tick."""
    if value <= 1:
        return 1
    power = int(10 ** math.floor(math.log10(value)))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def bar_chart(categories: list[str], series: dict[str, list[int]], *, width: int = 640, height: int = 220) -> Chart:
    """Grouped bars: one group per category, one bar per series in it."""
    names = list(series)
    chart = Chart(width, height, series=names, baseline=float(height - BOTTOM))
    if not categories or not names:
        return chart
    top = nice_ceiling(max((v for values in series.values() for v in values), default=0))
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    group_w = plot_w / len(categories)
    bar_w = group_w * 0.8 / len(names)
    for n, category in enumerate(categories):
        x0 = LEFT + n * group_w + group_w * 0.1
        for s, name in enumerate(names):
            value = series[name][n]
            h = plot_h * value / top
            chart.bars.append(
                Bar(
                    round(x0 + s * bar_w, 1),
                    round(TOP + plot_h - h, 1),
                    round(bar_w, 1),
                    round(h, 1),
                    value,
                    s,
                    category,
                )
            )
        chart.x_labels.append((round(LEFT + (n + 0.5) * group_w, 1), category))
    chart.y_ticks = [(round(TOP + plot_h - plot_h * t / top, 1), t) for t in sorted({0, top // 2, top})]
    return chart
