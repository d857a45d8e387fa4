"""Routes on the map: Google's encoded polyline format and plausible loops around a point."""

from __future__ import annotations

import math
import random

import polyline

Point = tuple[float, float]

_METRES_PER_DEGREE = 111_320.0


def polyline_encode(points: list[Point], precision: int = 5) -> str:
    """Google's encoded polyline (the format of Strava's `map.summary_polyline`), via the `polyline` package."""
    return polyline.encode(points, precision)


def polyline_decode(text: str, precision: int = 5) -> list[Point]:
    return [(lat, lng) for lat, lng in polyline.decode(text, precision)]


def offset(point: Point, *, north_m: float, east_m: float) -> Point:
    lat, lng = point
    return (
        lat + north_m / _METRES_PER_DEGREE,
        lng + east_m / (_METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01)),
    )


def loop(start: Point, distance_m: float, rng: random.Random, *, points: int = 24) -> list[Point]:
    """A closed, slightly irregular loop of about `distance_m` that starts and ends at `start`."""
    radius = min(distance_m / (2 * math.pi) * rng.uniform(0.75, 0.95), 60_000.0)
    bearing = rng.uniform(0, 2 * math.pi)
    centre = offset(start, north_m=radius * math.cos(bearing), east_m=radius * math.sin(bearing))
    route = [start]
    for i in range(1, points):
        angle = bearing + math.pi + 2 * math.pi * i / points
        r = radius * rng.uniform(0.85, 1.15)
        route.append(offset(centre, north_m=r * math.cos(angle), east_m=r * math.sin(angle)))
    route.append(start)
    return route


def line(start: Point, end: Point, rng: random.Random, *, points: int = 10, wiggle_m: float = 30.0) -> list[Point]:
    """A road-like line from start to end."""
    route = [start]
    for i in range(1, points):
        t = i / points
        mid = (start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t)
        route.append(offset(mid, north_m=rng.uniform(-wiggle_m, wiggle_m), east_m=rng.uniform(-wiggle_m, wiggle_m)))
    route.append(end)
    return route


def densify(route: list[Point], rng: random.Random, *, factor: int = 4, wiggle_m: float = 15.0) -> list[Point]:
    """More points along the same route, as a detailed `map.polyline` has."""
    if len(route) < 2:
        return list(route)
    dense: list[Point] = []
    for a, b in zip(route, route[1:], strict=False):
        dense.append(a)
        for i in range(1, factor):
            t = i / factor
            mid = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
            dense.append(offset(mid, north_m=rng.uniform(-wiggle_m, wiggle_m), east_m=rng.uniform(-wiggle_m, wiggle_m)))
    dense.append(route[-1])
    return dense


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres (haversine)."""
    lat1, lng1, lat2, lng2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(h)))


def along(route: list[Point], fractions: list[float]) -> list[Point]:
    """The points at the given fractions (0..1, non-decreasing) of the route's length."""
    if len(route) < 2:
        return [route[0] for _ in fractions] if route else []
    cumulative = [0.0]
    for a, b in zip(route, route[1:], strict=False):
        cumulative.append(cumulative[-1] + distance_m(a, b))
    total = cumulative[-1] or 1.0
    points, leg = [], 1
    for fraction in fractions:
        target = min(max(fraction, 0.0), 1.0) * total
        while leg < len(route) - 1 and cumulative[leg] < target:
            leg += 1
        span = cumulative[leg] - cumulative[leg - 1]
        t = (target - cumulative[leg - 1]) / span if span else 0.0
        t = min(max(t, 0.0), 1.0)
        a, b = route[leg - 1], route[leg]
        points.append((a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t))
    return points
