"""Routes: Google's encoded polylines, their SVG drawing, and routes from GPX, TCX and FIT files.

The export import uses the activity files only for the route (a summary polyline), so an
activity imported while Strava's API is unavailable still shows its map. The files are
read by activityfiles (bounded; damage gives what was read before it, never an exception).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polyline

from activityfiles import Point, read_track

# After gunzip. A gzip is expanded in memory up to this (about twice it at the peak), so it bounds
# what a 200 KB bomb among an export's files costs a worker; 24 hours of GPX at 1 s is ~20 MB.
MAX_FILE_BYTES = 24 * 1024 * 1024
SUMMARY_POINTS = 400  # about what Strava's own summary polylines carry


# --- Google's encoded polyline -----------------------------------------------------------------
def polyline_decode(text: str, precision: int = 5) -> list[Point]:
    """Decode `map.summary_polyline` / `map.polyline`; a damaged tail is dropped, not raised."""
    factor = 10**precision
    points: list[Point] = []
    index = lat = lng = 0
    length = len(text or "")
    while index < length:
        deltas = []
        for _ in range(2):
            shift = result = 0
            while True:
                if index >= length:
                    return points
                byte = ord(text[index]) - 63
                index += 1
                result |= (byte & 0x1F) << shift
                shift += 5
                if byte < 0x20:
                    break
            deltas.append(~(result >> 1) if result & 1 else result >> 1)
        lat += deltas[0]
        lng += deltas[1]
        points.append((lat / factor, lng / factor))
    return points


def polyline_encode(points: list[Point], precision: int = 5) -> str:
    return polyline.encode(points, precision)


def thin(points: list[Point], limit: int = SUMMARY_POINTS) -> list[Point]:
    """At most `limit` points, evenly taken, first and last kept."""
    if len(points) <= limit:
        return list(points)
    step = (len(points) - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


# --- drawing --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RouteDrawing:
    path: str
    width: int
    height: int
    start: tuple[float, float]
    end: tuple[float, float]
    points: int


def route_drawing(points: list[Point], *, width: int = 640, height: int = 420, pad: int = 14,
                  limit: int = 2000) -> RouteDrawing | None:
    """An SVG path for the route, north up, scaled to fit (equirectangular: fine at a ride's scale)."""
    points = thin([p for p in points if -90 <= p[0] <= 90 and -180 <= p[1] <= 180], limit)
    if len(points) < 2:
        return None
    mean_lat = math.radians(sum(p[0] for p in points) / len(points))
    xs = [p[1] * math.cos(mean_lat) for p in points]
    ys = [-p[0] for p in points]
    span_x, span_y = (max(xs) - min(xs)) or 1e-9, (max(ys) - min(ys)) or 1e-9
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    off_x = pad + (width - 2 * pad - span_x * scale) / 2 - min(xs) * scale
    off_y = pad + (height - 2 * pad - span_y * scale) / 2 - min(ys) * scale
    coords = [(round(x * scale + off_x, 1), round(y * scale + off_y, 1)) for x, y in zip(xs, ys, strict=True)]
    path = "M" + " L".join(f"{x} {y}" for x, y in coords)
    return RouteDrawing(path=path, width=width, height=height, start=coords[0], end=coords[-1], points=len(coords))


# --- routes from activity files ----------------------------------------------------------------
def route_from_file(name: str, data: bytes) -> list[Point]:
    """The track of a FIT/GPX/TCX file (gzipped or not); [] when it has none or cannot be read.

    activityfiles reads it (the content names the format; ``name`` is kept for the
    export import's call). (0, 0) is what devices write before they have a fix, or
    indoors: not a place, so it is left out of the route.
    """
    return [p for p in read_track(data, max_bytes=MAX_FILE_BYTES) if p != (0.0, 0.0)]
