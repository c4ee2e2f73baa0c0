"""Charts drawn on the server as SVG: nothing to fetch, nothing to run.

Two pictures people would rather look at than read: the velocity of each rep
in a session against the athlete's 400 m and 800 m pace, and an athlete's
best fly velocity week by week. Colours come from the page's CSS classes
(``chart-*``), so the light and dark themes apply.

>>> svg = line_chart([Point("1", 9.1), Point("2", 9.3)], [RefLine("400 m pace", 8.5, "r400")], title="Reps")
>>> svg.startswith("<svg") and "400 m pace" in svg
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 600, 300  # small: text stays readable when a phone scales the chart down
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 52, 40  # room for the axis labels and the title


@dataclass(frozen=True, slots=True)
class Point:
    label: str  # the x-axis label: rep number, week
    value: float | None  # m/s; None leaves a gap (an incomplete run)
    note: str = ""  # the tooltip
    hollow: bool = False  # a voided run: drawn, but not as a result


@dataclass(frozen=True, slots=True)
class RefLine:
    label: str
    value: float
    css: str  # chart-ref-<css>


def _nice_step(span: float) -> float:
    raw = span / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for step in (1, 2, 2.5, 5, 10):
        if raw <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def line_chart(points: list[Point], lines: list[RefLine], *, title: str, unit: str = "m/s") -> Markup:
    values = [p.value for p in points if p.value is not None] + [line.value for line in lines]
    if not values:
        values = [0.0, 1.0]
    low, high = min(values), max(values)
    pad = max((high - low) * 0.15, 0.25)
    step = _nice_step(high - low + 2 * pad)
    y0 = math.floor((low - pad) / step) * step
    y1 = math.ceil((high + pad) / step) * step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - y0) / (y1 - y0))

    def x(index: int) -> float:
        return LEFT + (plot_w * (index + 0.5) / len(points) if points else plot_w / 2)

    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<text class="chart-title" x="4" y="24">{escape(title)} <tspan class="chart-axis">({escape(unit)})</tspan></text>',
    ]
    tick = y0
    while tick <= y1 + step / 1000:
        ty = y(tick)
        out.append(f'<line class="chart-grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}"/>')
        out.append(f'<text class="chart-axis" x="{LEFT - 8}" y="{ty + 5:.1f}" text-anchor="end">{tick:g}</text>')
        tick += step
    labels_every = max(1, math.ceil(len(points) / 12))
    for i, point in enumerate(points):
        if i % labels_every == 0 or i == len(points) - 1:
            out.append(f'<text class="chart-axis" x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 22}" text-anchor="middle">{escape(point.label)}</text>')
    for line in lines:
        ly = y(line.value)
        out.append(
            f'<line class="chart-ref chart-ref-{line.css}" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{ly:.1f}" y2="{ly:.1f}"/>'
            f'<text class="chart-ref-label chart-ref-{line.css}" x="{LEFT + plot_w - 4}" y="{ly - 6:.1f}" text-anchor="end">'
            f"{escape(line.label)} {line.value:.2f}</text>"
        )
    segment: list[str] = []
    paths = []
    for i, point in enumerate(points):
        if point.value is None or point.hollow:
            if len(segment) > 1:
                paths.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(point.value):.1f}")
    if len(segment) > 1:
        paths.append(segment)
    for path in paths:
        out.append(f'<polyline class="chart-line" points="{" ".join(path)}"/>')
    for i, point in enumerate(points):
        if point.value is None:
            continue
        css = "chart-point chart-void" if point.hollow else "chart-point"
        note = escape(point.note or f"{point.label}: {point.value:.2f} {unit}")
        out.append(f'<circle class="{css}" cx="{x(i):.1f}" cy="{y(point.value):.1f}" r="7"><title>{note}</title></circle>')
    if not points:
        out.append(f'<text class="chart-axis" x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle">No runs yet</text>')
    out.append("</svg>")
    return Markup("".join(out))
