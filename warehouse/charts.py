"""Charts as inline SVG, drawn on the server: no JavaScript library, no CDN, readable without scripts.

Each bar and point carries a <title>, so hovering shows its value; labels are escaped.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Sports of one family (rides, runs, walks) are often stacked in one bar: they get clearly different
# hues, not shades of one, so that Ride and GravelRide, Walk and Hike can be told apart.
SPORT_COLORS = {
    "Ride": "#fc4c02", "GravelRide": "#7c3aed", "MountainBikeRide": "#65a30d", "EBikeRide": "#f59e0b",
    "VirtualRide": "#db2777", "Run": "#2563eb", "TrailRun": "#0d9488", "VirtualRun": "#93c5fd", "Walk": "#16a34a",
    "Hike": "#92400e", "Swim": "#0891b2", "WeightTraining": "#475569", "Workout": "#c026d3", "Yoga": "#e11d48",
    "NordicSki": "#0e7490", "AlpineSki": "#94a3b8", "Rowing": "#ca8a04",
}
LINE_COLORS = ["#fc4c02", "#2563eb", "#16a34a", "#7c3aed", "#0891b2", "#db2777", "#ca8a04", "#475569", "#9a3412",
               "#1e40af"]


def sport_color(sport: str) -> str:
    if sport in SPORT_COLORS:
        return SPORT_COLORS[sport]
    digest = hashlib.sha256(sport.encode()).digest()
    return f"hsl({digest[0] * 360 // 256}, 55%, 45%)"


def _nice_max(value: float, ticks: int = 4) -> float:
    """An axis maximum at or above `value` whose `ticks` steps are round numbers (15, 60, 250, ...)."""
    if value <= 0:
        return float(ticks)
    raw = value / ticks
    exponent = 10 ** math.floor(math.log10(raw))
    step = next(m * exponent for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if raw <= m * exponent)
    return step * ticks


def _open(width: int, height: int, chart_id: str) -> str:
    id_attr = f' id="{escape(chart_id)}"' if chart_id else ""
    return f'<svg class="chart"{id_attr} viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg">'


def _fmt(value: float) -> str:
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.1f}"


LABEL_GAP = 14  # between two end labels' baselines: the line box of 11 px text (about 1.2 em) plus air


def _spread_labels(ends: Sequence[tuple[float, float, str, str]], *, low: float,
                   high: float) -> list[tuple[float, float, float, str, str]]:
    """Each line's end label at the y nearest its line where it overlaps no other label of the same column.

    Lines that end close together (years with similar totals) would print their names on top of
    each other; labels ending at the same x are pushed apart, in their lines' order, within [low, high].
    """
    columns: dict[int, list[tuple[float, float, str, str]]] = {}
    for end in ends:
        columns.setdefault(round(end[0]), []).append(end)
    placed = []
    for column in columns.values():
        column.sort(key=lambda end: end[1])
        ys: list[float] = []
        for _x, y, _name, _color in column:
            ys.append(max(y, low, ys[-1] + LABEL_GAP) if ys else max(y, low))
        # Pushed past the bottom: shift the column up, keeping the gaps (it fits when the column does).
        overflow = ys[-1] - high if ys else 0.0
        if overflow > 0:
            ys = [y - overflow for y in ys]
            for i in range(len(ys) - 2, -1, -1):
                ys[i] = min(ys[i], ys[i + 1] - LABEL_GAP)
        placed += [(x, y, label_y, name, color) for (x, y, name, color), label_y in zip(column, ys, strict=True)]
    return placed


def stacked_bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, unit: str = "",
                 width: int = 960, height: int = 260, label_every: int = 1, chart_id: str = "") -> SafeString:
    """Bars per label, stacked by series (sport), with a y axis and a legend."""
    left, right, top, bottom = 48, 8, 10, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    ymax = _nice_max(max(totals, default=0.0))
    slot = plot_w / max(1, len(labels))
    bar_w = max(1.0, slot * 0.78)
    parts = [_open(width, height, chart_id)]
    for i in range(5):
        value = ymax * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{escape(_fmt(value))}</text>')
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar_w) / 2
        base: float = top + plot_h
        for name, values in series:
            value = values[i]
            if value <= 0:
                continue
            h = plot_h * value / ymax
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{sport_color(name)}">'
                f"<title>{escape(label)} · {escape(name)}: {escape(_fmt(value))} {escape(unit)}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - bottom + 14}" class="axis" '
                         f'text-anchor="middle">{escape(label)}</text>')
    x = left
    for name, values in series:
        if not any(v > 0 for v in values):
            continue
        parts.append(f'<rect x="{x}" y="{height - 12}" width="10" height="10" fill="{sport_color(name)}"/>'
                     f'<text x="{x + 14}" y="{height - 3}" class="legend">{escape(name)}</text>')
        x += 22 + 7 * len(name)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label and value above is escaped


def lines(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, unit: str = "",
          width: int = 960, height: int = 280, chart_id: str = "") -> SafeString:
    """One line per series (a year), e.g. the running total month by month."""
    left, right, top, bottom = 56, 70, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    ymax = _nice_max(max((v for _, values in series for v in values), default=0.0))
    step = plot_w / max(1, len(labels) - 1)
    parts = [_open(width, height, chart_id)]
    for i in range(5):
        value = ymax * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{escape(_fmt(value))}</text>')
    for i, label in enumerate(labels):
        parts.append(f'<text x="{left + i * step:.1f}" y="{height - 8}" class="axis" text-anchor="middle">{escape(label)}</text>')
    ends: list[tuple[float, float, str, str]] = []  # (x, y) of each line's last point, its name and colour
    for n, (name, values) in enumerate(series):
        color = LINE_COLORS[n % len(LINE_COLORS)]
        points = [(left + i * step, top + plot_h - plot_h * v / ymax) for i, v in enumerate(values)]
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for (x, y), value, label in zip(points, values, labels, strict=False):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>{escape(name)} {escape(label)}: '
                         f"{escape(_fmt(value))} {escape(unit)}</title></circle>")
        ends.append((*points[-1], name, color))
    for x, y, label_y, name, color in _spread_labels(ends, low=top + 4, high=height - 4):
        if abs(label_y - y) > 1:  # moved away from its line's end: a leader line shows whose it is
            parts.append(f'<line x1="{x + 2:.1f}" y1="{y:.1f}" x2="{x + 8:.1f}" y2="{label_y:.1f}" stroke="{color}"/>')
        parts.append(f'<text x="{x + 10:.1f}" y="{label_y + 4:.1f}" class="legend" fill="{color}">{escape(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label and value above is escaped
