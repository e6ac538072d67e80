"""Charts drawn on the server as inline SVG: a bar chart and a line chart from (label, value)
points, with axis labels, a tooltip per point (SVG ``<title>``) and the same figures as a table
for screen readers and people who prefer numbers. No JavaScript, nothing for the CSP to allow:
colours are presentation attributes, not ``style``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 14, 38
# More labels than this under the x axis would overlap: only every n-th one is written.
MAX_X_LABELS = 10
BAR_COLOUR = "#4a154b"
LINE_COLOUR = "#1264a3"
GRID_COLOUR = "#e2e2e2"
TEXT_COLOUR = "#616061"

Point = tuple[str, float | int | None]


@dataclass(frozen=True)
class Chart:
    """What a page shows: ``svg`` (safe markup) and ``points`` for the table fallback."""

    title: str
    label_heading: str
    value_heading: str
    points: list[Point]
    svg: SafeString
    unit: str = ""

    @property
    def rows(self) -> list[tuple[str, str]]:
        return [(label, value_format(value, self.unit)) for label, value in self.points]


def value_format(value: float | int | None, unit: str = "") -> str:
    if value is None:
        return "–"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{text} {unit}".strip()


def axis_top(largest: float) -> float:
    """A round number at or above ``largest`` (1, 2, 5 times a power of ten) for the y axis."""
    if largest <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(largest))
    for step in (1, 2, 5, 10):
        if step * magnitude >= largest:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def bar_chart(
    points: Sequence[Point], *, title: str, label_heading: str, value_heading: str, unit: str = ""
) -> Chart:
    """One bar per point (a missing value draws no bar)."""
    points = list(points)
    top = axis_top(max((value or 0 for _, value in points), default=0))
    slot = _plot_width() / max(len(points), 1)
    bars = []
    for index, (label, value) in enumerate(points):
        height = _plot_height() * (value or 0) / top
        bars.append(
            _svg(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
                LEFT + index * slot + slot * 0.1,
                TOP + _plot_height() - height,
                max(slot * 0.8, 1),
                height,
                BAR_COLOUR,
                label,
                value_format(value, unit),
            )
        )
    return _chart(points, top, bars, title, label_heading, value_heading, unit)


def line_chart(
    points: Sequence[Point], *, title: str, label_heading: str, value_heading: str, unit: str = ""
) -> Chart:
    """A line through the points; a missing value (no measure that day) breaks the line."""
    points = list(points)
    top = axis_top(max((value or 0 for _, value in points), default=0))
    step = _plot_width() / max(len(points), 1)
    segments: list[list[str]] = [[]]
    marks = []
    for index, (label, value) in enumerate(points):
        if value is None:
            segments.append([])
            continue
        x = LEFT + index * step + step / 2
        y = TOP + _plot_height() * (1 - value / top)
        segments[-1].append(f"{x:.1f},{y:.1f}")
        marks.append(
            _svg(
                '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}: {}</title></circle>',
                x,
                y,
                LINE_COLOUR,
                label,
                value_format(value, unit),
            )
        )
    lines = [
        _svg(
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
            " ".join(segment),
            LINE_COLOUR,
        )
        for segment in segments
        if len(segment) > 1
    ]
    return _chart(points, top, lines + marks, title, label_heading, value_heading, unit)


def _svg(template: str, *args) -> SafeString:
    """``format_html`` (arguments escaped), coordinates written with one decimal."""
    return format_html(template, *(f"{arg:.1f}" if isinstance(arg, float) else arg for arg in args))


def _plot_width() -> float:
    return WIDTH - LEFT - RIGHT


def _plot_height() -> float:
    return HEIGHT - TOP - BOTTOM


def _chart(points, top, shapes, title, label_heading, value_heading, unit) -> Chart:
    parts = [
        _svg(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" '
            'role="img" class="chart"><title>{}</title>',
            WIDTH,
            HEIGHT,
            title,
        ),
        *_y_axis(top, unit),
        *_x_axis(points),
        *shapes,
        mark_safe("</svg>"),
    ]
    return Chart(
        title=title,
        label_heading=label_heading,
        value_heading=value_heading,
        points=points,
        # Every part is format_html's output (its arguments escaped) or the constant above.
        svg=mark_safe("".join(str(part) for part in parts)),  # noqa: S308
        unit=unit,
    )


def _y_axis(top: float, unit: str) -> list[SafeString]:
    lines = []
    for fraction in (0, 0.5, 1):
        y = TOP + _plot_height() * (1 - fraction)
        lines.append(
            _svg(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
                '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="{}">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                y,
                y,
                GRID_COLOUR,
                LEFT - 6,
                y + 4,
                TEXT_COLOUR,
                value_format(top * fraction, unit),
            )
        )
    return lines


def _x_axis(points: list[Point]) -> list[SafeString]:
    every = max(1, math.ceil(len(points) / MAX_X_LABELS))
    slot = _plot_width() / max(len(points), 1)
    return [
        _svg(
            '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="{}">{}</text>',
            LEFT + index * slot + slot / 2,
            HEIGHT - BOTTOM + 16,
            TEXT_COLOUR,
            label,
        )
        for index, (label, _) in enumerate(points)
        if index % every == 0
    ]
