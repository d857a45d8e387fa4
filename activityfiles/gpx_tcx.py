"""GPX and TCX: the sweep's look for the first timed track point, and the full read of positions.

Both go through expat, namespace-agnostic. XML with a DOCTYPE (and so any entity
declaration) is refused: GPX and TCX never need one, and entity expansion is how XML
bombs work.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple
from xml.parsers import expat

from .sports import xml_sport
from .verdict import ELIGIBLE, JUNK, Verdict, failed

Point = tuple[float, float]  # (lat, lng) in degrees

XML_CHUNK = 256 * 1024


class _Decided(Exception):  # control flow out of expat callbacks, not an error
    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.reason)
        self.verdict = verdict


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:  # GPX/TCX times are UTC by definition; some writers drop the Z
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class XmlSink:
    """GPX/TCX through expat, namespace-agnostic, stopping at the first timed track point."""

    def __init__(self) -> None:
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._doctype
        self.parser = parser
        self.kind: str | None = None  # "gpx" | "tcx" once the root is seen
        self.stack: list[str] = []
        self.capture: str | None = None  # local name of the element whose text we collect
        self.parts: list[str] = []
        self.sport: str | None = None
        self.in_point = False
        self.in_activity = False
        self.saw_course = False

    def _doctype(self, *args: object) -> None:
        raise _Decided(failed("refused: XML with a DOCTYPE or entity declaration (entity expansion risk)"))

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        parent = self.stack[-1] if self.stack else None
        self.stack.append(local)
        if self.kind is None:
            if local == "gpx":
                self.kind = "gpx"
            elif local == "TrainingCenterDatabase":
                self.kind = "tcx"
            else:
                raise _Decided(Verdict(JUNK, None, f"not an activity file: XML document <{local}>", None, None))
        elif self.kind == "gpx":
            if local == "trkpt":
                self.in_point = True
            elif (local == "time" and parent == "trkpt") or (local == "type" and parent == "trk"):
                self.capture, self.parts = local, []
        elif local == "Trackpoint":
            self.in_point = True
        elif local == "Time" and parent == "Trackpoint":
            self.capture, self.parts = local, []
        elif local == "Activity":
            self.in_activity = True
            self.sport = attrs.get("Sport") or None
        elif local == "Course":
            self.saw_course = True

    def _text(self, data: str) -> None:
        if self.capture is not None:
            self.parts.append(data)

    def _end(self, name: str) -> None:
        local = self.stack.pop()
        if local == self.capture:
            self.capture = None
            text = "".join(self.parts)
            if local == "type":
                self.sport = text.strip() or None
                return
            moment = _parse_time(text)
            if moment is not None and (self.kind == "gpx" or self.in_activity):
                # The first timed point is the recorded start: TCX's Activity Id and Lap StartTime
                # usually say the same, but are a second off in some real files, and GPX has neither.
                sport, trainer = xml_sport(self.sport)
                raise _Decided(Verdict(ELIGIBLE, self.kind, "", self.kind, moment, sport, trainer=trainer))
        elif local in ("trkpt", "Trackpoint"):
            self.in_point = False
        elif local == "Activity":
            self.in_activity = False

    def _parse(self, chunk: bytes, final: bool) -> Verdict | None:
        try:
            self.parser.Parse(chunk, final)
        except _Decided as decided:
            return decided.verdict
        except (expat.ExpatError, ValueError, LookupError) as exc:
            return failed(f"unreadable: {exc}", self.kind, self.kind)
        return None

    def feed(self, chunk: bytes) -> Verdict | None:
        return self._parse(chunk, False)

    def finish(self) -> Verdict:
        verdict = self._parse(b"", True)
        if verdict is not None:
            return verdict
        reason = "not an activity file: no timestamped track points"
        if self.kind == "tcx" and self.saw_course:
            reason = "not an activity file: TCX course"
        sport, trainer = xml_sport(self.sport)
        return Verdict(JUNK, self.kind, reason, self.kind, None, sport, trainer=trainer)



class _Enough(Exception):  # control flow out of expat callbacks: the point bound is reached
    pass


class _Doctype(Exception):  # a DOCTYPE or entity declaration: nothing of the file is trusted
    pass


def _refuse(*_args: object) -> None:
    raise _Doctype


def _expat_walk(data: bytes, start: Callable[[str, dict[str, str]], None], end: Callable[[str], None],
                text: Callable[[str], None]) -> bool:
    """Feed the whole of `data` to the handlers, stopping quietly at damage or at `_Enough`.

    The one expat set-up of the full reads: False when the file declares a DOCTYPE (refused, not
    read: no entity expansion, whatever it declares); otherwise what came before any damage stands.
    """
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except _Enough:
        pass
    except _Doctype:
        return False
    except (expat.ExpatError, LookupError, ValueError):  # damage further in: keep what came before it
        pass
    return True


def xml_points(data: bytes, *, max_points: int) -> list[Point]:
    """Positions of GPX ``trkpt``/``rtept`` (lat, lon) or TCX ``Position``; what was read before any damage.

    At most ``max_points``. A DOCTYPE gives no points at all: the file is refused, not read.
    """
    points: list[Point] = []
    text: list[str] = []
    current: dict[str, float] = {}

    def add(lat: float, lng: float) -> None:
        points.append((lat, lng))
        if len(points) >= max_points:
            raise _Enough

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rpartition(":")[2]
        if local in ("trkpt", "rtept") and "lat" in attrs and "lon" in attrs:
            try:
                lat, lng = float(attrs["lat"]), float(attrs["lon"])
            except ValueError:
                return  # one damaged point, not a damaged file
            add(lat, lng)
        elif local == "Position":
            current.clear()
        text.clear()

    def end(tag: str) -> None:
        local = tag.rpartition(":")[2]
        if local in ("LatitudeDegrees", "LongitudeDegrees"):
            try:
                current[local] = float("".join(text).strip())
            except ValueError:
                current.pop(local, None)
        elif local == "Position" and len(current) == 2:
            add(current["LatitudeDegrees"], current["LongitudeDegrees"])

    return points if _expat_walk(data, start, end, text.append) else []


class XmlTrack(NamedTuple):
    """A GPX/TCX file's full read: the points and what the file says about them."""

    points: list[tuple[datetime | None, float | None, float | None, float | None]]  # time, lat, lng, altitude
    sport: str | None  # GPX <trk><type>, TCX Activity Sport (as written; activityfiles.sports maps it)
    lap_time: float | None  # TCX: the sum of the laps' TotalTimeSeconds
    lap_distance: float | None  # TCX: the sum of the laps' DistanceMeters
    device: str | None  # TCX Creator/Name, GPX creator


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def xml_track(data: bytes, *, max_points: int) -> XmlTrack:
    """Timed points of GPX ``trkpt`` or TCX activity ``Trackpoint``, with the laps' totals; what was read before any damage.

    At most ``max_points``. A DOCTYPE gives nothing at all: the file is refused, not read.
    """
    points: list[tuple[datetime | None, float | None, float | None, float | None]] = []
    text: list[str] = []
    point: dict[str, object] = {}
    found: dict[str, str] = {}
    laps = {"TotalTimeSeconds": 0.0, "DistanceMeters": 0.0, "count": 0.0}
    stack: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rpartition(":")[2]
        stack.append(local)
        text.clear()
        if local in ("trkpt", "Trackpoint"):
            point.clear()
            point["lat"], point["lng"] = _float(attrs.get("lat", "")), _float(attrs.get("lon", ""))
        elif local == "gpx" and attrs.get("creator"):
            found.setdefault("device", attrs["creator"])
        elif local == "Activity" and attrs.get("Sport"):
            found.setdefault("sport", attrs["Sport"])
        elif local == "Lap":
            laps["count"] += 1

    def end(tag: str) -> None:
        local = stack.pop() if stack else tag.rpartition(":")[2]
        parent = stack[-1] if stack else ""
        value = "".join(text).strip()
        text.clear()
        if local in ("time", "Time") and parent in ("trkpt", "Trackpoint"):
            point["time"] = _parse_time(value)
        elif local in ("ele", "AltitudeMeters") and parent in ("trkpt", "Trackpoint"):
            point["alt"] = _float(value)
        elif local == "LatitudeDegrees":
            point["lat"] = _float(value)
        elif local == "LongitudeDegrees":
            point["lng"] = _float(value)
        elif local == "type" and parent == "trk":
            found.setdefault("sport", value)
        elif local == "Name" and parent == "Creator":
            found.setdefault("device", value)
        elif local in ("TotalTimeSeconds", "DistanceMeters") and parent == "Lap":
            laps[local] += _float(value) or 0.0
        elif local == "trkpt" or (local == "Trackpoint" and "Activity" in stack):
            time, alt = point.get("time"), point.get("alt")
            lat, lng = point.get("lat"), point.get("lng")
            points.append((
                time if isinstance(time, datetime) else None,
                lat if isinstance(lat, float) else None,
                lng if isinstance(lng, float) else None,
                alt if isinstance(alt, float) else None,
            ))  # fmt: skip
            if len(points) >= max_points:
                raise _Enough

    if not _expat_walk(data, start, end, text.append):
        return XmlTrack([], None, None, None, None)
    has_laps = laps["count"] > 0
    return XmlTrack(
        points, found.get("sport") or None,
        laps["TotalTimeSeconds"] if has_laps else None, laps["DistanceMeters"] if has_laps else None,
        found.get("device") or None,
    )  # fmt: skip
