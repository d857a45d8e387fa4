"""Routes: Google's encoded polylines, their SVG drawing, and tracks read from GPX, TCX and FIT files.

The export import uses the activity files only for the route (a summary polyline), so an
activity imported while Strava's API is unavailable still shows its map. Every reader is
bounded and turns any damage into "no route", never an exception.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from dataclasses import dataclass
from xml.parsers import expat

import polyline

Point = tuple[float, float]  # (lat, lng)

MAX_FILE_BYTES = 64 * 1024 * 1024  # after gunzip
SUMMARY_POINTS = 400  # about what Strava's own summary polylines carry
_SEMICIRCLE = 180.0 / 2**31
_FIT_INVALID_SINT32 = 0x7FFFFFFF


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


# --- reading activity files -------------------------------------------------------------------
def gunzip(data: bytes, limit: int = MAX_FILE_BYTES) -> bytes | None:
    """Decompress, refusing anything that grows past `limit` (a bomb) or is damaged."""
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        return None
    return None if len(out) > limit else out


def route_from_file(name: str, data: bytes) -> list[Point]:
    """The track of a .fit/.gpx/.tcx (optionally .gz) file; [] when it has none or cannot be read."""
    lower = name.lower()
    if lower.endswith(".gz"):
        inner = gunzip(data)
        if inner is None:
            return []
        data, lower = inner, lower[:-3]
    try:
        if lower.endswith(".fit"):
            points = fit_track(data)
        elif lower.endswith((".gpx", ".tcx")):
            points = xml_track(data)
        else:
            return []
    except (ValueError, IndexError, struct.error, expat.ExpatError, OSError, gzip.BadGzipFile):
        return []
    # (0, 0) is what devices write before they have a fix (or indoors): not a place.
    return [p for p in points if p != (0.0, 0.0)]


def fit_track(data: bytes) -> list[Point]:
    """Positions of the `record` messages (global 20, fields 0 and 1) of the first FIT file in `data`."""
    if len(data) < 12 or data[8:12] != b".FIT":
        return []
    header_size = data[0]
    data_size = struct.unpack_from("<I", data, 4)[0]
    end = min(len(data), header_size + data_size) if data_size else len(data)
    pos = header_size
    definitions: dict[int, tuple[bool, int, list[tuple[int, int, int]], int]] = {}
    points: list[Point] = []
    while pos < end:
        record = data[pos]
        pos += 1
        if record & 0x80:  # compressed timestamp header: a data message of local type 0-3
            local = (record >> 5) & 0x03
        elif record & 0x40:  # definition
            local = record & 0x0F
            big = data[pos + 1] == 1
            global_number = struct.unpack_from(">H" if big else "<H", data, pos + 2)[0]
            count = data[pos + 4]
            pos += 5
            fields = [(data[pos + 3 * i], data[pos + 3 * i + 1], data[pos + 3 * i + 2]) for i in range(count)]
            pos += 3 * count
            extra = 0
            if record & 0x20:
                dev_count = data[pos]
                pos += 1
                extra = sum(data[pos + 3 * i + 1] for i in range(dev_count))
                pos += 3 * dev_count
            definitions[local] = (big, global_number, fields, extra)
            continue
        else:
            local = record & 0x0F
        if local not in definitions:
            raise ValueError("data message before its definition")
        big, global_number, fields, extra = definitions[local]
        if global_number == 20:
            lat = lng = None
            offset = pos
            for number, size, _base in fields:
                if number in (0, 1) and size == 4:
                    value = struct.unpack_from(">i" if big else "<i", data, offset)[0]
                    if value != _FIT_INVALID_SINT32 and value != -_FIT_INVALID_SINT32 - 1:
                        if number == 0:
                            lat = value * _SEMICIRCLE
                        else:
                            lng = value * _SEMICIRCLE
                offset += size
            if lat is not None and lng is not None:
                points.append((lat, lng))
        pos += sum(size for _, size, _ in fields) + extra
    return points


def xml_track(data: bytes) -> list[Point]:
    """Track points of a GPX (`trkpt`/`rtept` lat, lon) or TCX (`Position`) file. DOCTYPEs are refused."""
    points: list[Point] = []
    text: list[str] = []
    current: dict[str, float] = {}
    parser = expat.ParserCreate()

    def refuse(*_args: object) -> None:
        raise ValueError("XML with a DOCTYPE is refused")

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rsplit(":", 1)[-1]
        if local in ("trkpt", "rtept") and "lat" in attrs and "lon" in attrs:
            points.append((float(attrs["lat"]), float(attrs["lon"])))
        elif local == "Position":
            current.clear()
        text.clear()

    def end(tag: str) -> None:
        local = tag.rsplit(":", 1)[-1]
        if local in ("LatitudeDegrees", "LongitudeDegrees"):
            current[local] = float("".join(text).strip())
        elif local == "Position" and len(current) == 2:
            points.append((current["LatitudeDegrees"], current["LongitudeDegrees"]))

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    parser.Parse(data, True)
    return points
