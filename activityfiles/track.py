"""The recorded track of a FIT, GPX or TCX file (gzipped or not): its positions, in order.

Unlike the sweep's classifier this reads the whole file, so FIT goes through fitdecode,
a maintained full decoder, rather than a second hand-written walker that would drift
from the first. Bounded in bytes (after gunzip) and in points; damage never raises: the
answer is what could be read before it, possibly nothing.
"""

from __future__ import annotations

import io
import logging

import fitdecode

from .compressed import gunzip
from .fit import FIRST_READ
from .gpx_tcx import Point, xml_points
from .sniff import sniff_type

log = logging.getLogger(__name__)

MAX_TRACK_BYTES = 64 * 1024 * 1024  # after gunzip; a day of 1 s records is a few MB
MAX_TRACK_POINTS = 500_000  # about six days at one point a second
SEMICIRCLE = 180.0 / 2**31  # degrees per FIT semicircle


def read_track(data: bytes, *, max_bytes: int = MAX_TRACK_BYTES, max_points: int = MAX_TRACK_POINTS) -> list[Point]:
    """Positions (lat, lng) in degrees of the file's track points; [] when it has none or is unreadable.

    The content names the format, not a file name. A gzip that expands past ``max_bytes``
    is refused (a bomb); a plain file longer than that is read up to it.
    """
    kind = sniff_type(data[:FIRST_READ])
    if kind == "gzip":
        inner = gunzip(data, max_bytes)
        if inner is None:
            return []
        data = inner
        kind = sniff_type(data[:FIRST_READ])
    data = data[:max_bytes]
    if kind == "fit":
        return fit_points(data, max_points=max_points)
    if kind in ("gpx", "tcx"):
        return xml_points(data, max_points=max_points)
    return []


def _with_data_size(data: bytes) -> bytes:
    """Edge 1030 and Zwift files say ``data_size = 0`` though the records are there: give fitdecode the real size."""
    header_size = data[0]
    if int.from_bytes(data[4:8], "little") or len(data) < header_size + 2:
        return data
    patched = bytearray(data)
    patched[4:8] = (len(data) - header_size - 2).to_bytes(4, "little")
    return bytes(patched)


def fit_points(data: bytes, *, max_points: int = MAX_TRACK_POINTS) -> list[Point]:
    """Positions of the ``record`` messages of a FIT file (and of any files chained to it)."""
    points: list[Point] = []
    if len(data) < 12 or data[8:12] != b".FIT":
        return points
    try:
        # No CRC check (a bad tail must not cost the route before it) and no data processor:
        # positions stay raw semicircles, and the default unit conversions would only cost time.
        with fitdecode.FitReader(
            io.BytesIO(_with_data_size(data)),
            processor=None,
            check_crc=fitdecode.CrcCheck.DISABLED,
            error_handling=fitdecode.ErrorHandling.IGNORE,
        ) as reader:
            for frame in reader:
                if not (isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record"):
                    continue
                lat = frame.get_value("position_lat", fallback=None)
                lng = frame.get_value("position_long", fallback=None)
                if isinstance(lat, int) and isinstance(lng, int):
                    points.append((lat * SEMICIRCLE, lng * SEMICIRCLE))
                    if len(points) >= max_points:
                        break
    except Exception as exc:  # fitdecode raises FitError, but also KeyError, struct.error, ... on damage
        log.debug("FIT track ends at point %d: %s: %s", len(points), type(exc).__name__, exc)
    return points
