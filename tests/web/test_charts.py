from __future__ import annotations

from web.charts import bar_chart, nice_ceiling


def test_nice_ceiling() -> None:
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 10, 11, 48, 120)] == [1, 1, 5, 10, 10, 20, 50, 200]


def test_grouped_bars_are_scaled_to_the_top_tick() -> None:
    chart = bar_chart(["w1", "w2"], {"searches": [10, 5], "zero": [2, 0]}, width=240, height=146)
    # plot: x 40..230 (190 wide), y 12..100 (88 high); top tick 10
    assert chart.y_ticks == [(100.0, 0), (56.0, 5), (12.0, 10)]
    first, zero, second, _ = chart.bars
    assert (first.x, first.y, first.width, first.height, first.value) == (49.5, 12.0, 38.0, 88.0, 10)
    assert (zero.x, zero.height, zero.series) == (87.5, 17.6, 1)
    assert (second.height, second.label) == (44.0, "w2")
    assert chart.x_labels == [(87.5, "w1"), (182.5, "w2")]


def test_empty_chart_has_no_bars() -> None:
    assert bar_chart([], {"a": []}).bars == []
