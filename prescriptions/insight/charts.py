"""Charts drawn on the server as SVG geometry (no script, no inline style: the strict CSP holds,
and they print as they show). The templates place these shapes; colours come from CSS classes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 260
PLOT_WIDTH = 420
VALUE_WIDTH = 90


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    y: int
    width: float
    css: str  # a level class (level-ci, level-asdec, …) for the fill


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: int
    width: int = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    label_width: int = LABEL_WIDTH
    plot_width: int = PLOT_WIDTH
    bar_height: int = BAR_HEIGHT


def bar_chart(rows: Sequence[tuple[str, float, str, str]], *, maximum: float = 1.0) -> BarChart:
    """Horizontal bars: (label, value, value text, css class), value between 0 and ``maximum``."""
    bars = [
        Bar(
            label=label,
            value_text=text,
            y=index * (BAR_HEIGHT + BAR_GAP),
            width=round(PLOT_WIDTH * min(max(value, 0.0), maximum) / maximum, 1)
            if maximum
            else 0.0,
            css=css,
        )
        for index, (label, value, text, css) in enumerate(rows)
    ]
    return BarChart(bars=bars, height=max(1, len(bars)) * (BAR_HEIGHT + BAR_GAP))


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    value_text: str


@dataclass(frozen=True)
class TimeSeries:
    points: list[Point]
    polyline: str
    width: int
    height: int
    top_text: str
    first_label: str
    last_label: str


SERIES_WIDTH = 720
SERIES_HEIGHT = 200
SERIES_MARGIN = 30


def time_series(values: Sequence[tuple[str, float]], *, decimals: int = 1) -> TimeSeries:
    """A line over time: (label, value) in order."""
    top = max((value for _, value in values), default=0.0) or 1.0
    span = max(1, len(values) - 1)
    inner_w = SERIES_WIDTH - 2 * SERIES_MARGIN
    inner_h = SERIES_HEIGHT - 2 * SERIES_MARGIN
    points = [
        Point(
            x=round(SERIES_MARGIN + inner_w * index / span, 1),
            y=round(SERIES_MARGIN + inner_h * (1 - value / top), 1),
            label=label,
            value_text=f"{value:.{decimals}f}".replace(".", ","),
        )
        for index, (label, value) in enumerate(values)
    ]
    return TimeSeries(
        points=points,
        polyline=" ".join(f"{p.x},{p.y}" for p in points),
        width=SERIES_WIDTH,
        height=SERIES_HEIGHT,
        top_text=f"{top:.{decimals}f}".replace(".", ","),
        first_label=values[0][0] if values else "",
        last_label=values[-1][0] if values else "",
    )
