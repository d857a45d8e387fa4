"""The efforts-over-time chart, drawn as inline SVG geometry on the server (no script, no CDN)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .models import SegmentEffort

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 14, 34


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    right_x: int = WIDTH - RIGHT
    bottom_y: int = HEIGHT - BOTTOM
    points: list[dict] = field(default_factory=list)
    line: str = ""
    best_line: str = ""
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str, str]] = field(default_factory=list)


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _ticks(low: float, high: float, count: int) -> list[float]:
    if count <= 1 or high <= low:
        return [low]
    step = (high - low) / (count - 1)
    return [low + i * step for i in range(count)]


def efforts_chart(efforts: Sequence[SegmentEffort]) -> Chart | None:
    """Elapsed time of each effort by date, with the personal best so far as a step line."""
    if not efforts:
        return None
    chart = Chart()
    plot_w = chart.right_x - chart.left
    plot_h = chart.bottom_y - chart.top
    times = [e.start_date.timestamp() for e in efforts]
    t0, t1 = min(times), max(times)
    slowest, fastest = max(e.elapsed_time for e in efforts), min(e.elapsed_time for e in efforts)
    pad = max(1.0, (slowest - fastest) * 0.08)
    y_low, y_high = max(0.0, fastest - pad), slowest + pad

    def x_of(ts: float) -> float:
        return chart.left + (plot_w / 2 if t1 == t0 else (ts - t0) / (t1 - t0) * plot_w)

    def y_of(value: float) -> float:
        return chart.bottom_y - (value - y_low) / (y_high - y_low) * plot_h

    best_so_far: float | None = None
    best_steps: list[str] = []
    for effort, ts in zip(efforts, times, strict=True):
        x, y = round(x_of(ts), 1), round(y_of(effort.elapsed_time), 1)
        is_pr = best_so_far is None or effort.elapsed_time < best_so_far
        if is_pr:
            if best_so_far is not None:
                best_steps.append(f"{x},{round(y_of(best_so_far), 1)}")
            best_so_far = effort.elapsed_time
            best_steps.append(f"{x},{y}")
        chart.points.append({
            "x": x, "y": y, "pr": is_pr, "fastest": effort.elapsed_time == fastest,
            "title": f"{effort.start_date:%Y-%m-%d}: {duration(effort.elapsed_time)}",
        })
    if best_so_far is not None:
        best_steps.append(f"{chart.right_x},{round(y_of(best_so_far), 1)}")
    chart.line = " ".join(f"{p['x']},{p['y']}" for p in chart.points)
    chart.best_line = " ".join(best_steps)
    chart.y_ticks = [(round(y_of(v), 1), duration(v)) for v in _ticks(y_low, y_high, 5)]
    stamps = _ticks(t0, t1, min(6, len(set(times))))
    label = "%b %Y" if t1 - t0 > 90 * 86400 else "%d %b"
    # The end labels hang inwards so that they are not cut off at the chart's edges.
    anchors = ["start"] + ["middle"] * (len(stamps) - 2) + ["end"] if len(stamps) > 1 else ["middle"]
    chart.x_ticks = [(round(x_of(ts), 1), datetime.fromtimestamp(ts, tz=UTC).strftime(label), anchor)
                     for ts, anchor in zip(stamps, anchors, strict=True)]
    return chart
