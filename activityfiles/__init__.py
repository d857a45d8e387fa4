"""Neutral readers of activity files (FIT, GPX, TCX, gzipped or not), bounded and never raising on damage.

Imported alike by uploads (the sweep), warehouse (routes of the Strava-export import) and
the sandbox simulator, so it imports nothing from them, nor from Django.

* ``classify_file`` / ``classify_bytes``: the sweep's fast ``Verdict`` from a FIT file's
  header and ``file_id`` or a GPX/TCX file's first timed point (activityfiles.classify).
* ``sniff_type``: the format from the first bytes.
* ``read_track``: the whole file's positions, FIT through fitdecode (activityfiles.track).
* ``read_activity``: the whole file's summary in Strava's terms (activityfiles.summary).
* ``strava_sport`` / ``xml_sport``: a file's sport as Strava's sport_type (activityfiles.sports).
"""

from __future__ import annotations

from .classify import classify_bytes, classify_file
from .compressed import DEFAULT_MAX_GUNZIP_BYTES, gunzip
from .fit import FILE_TYPES, MANUFACTURERS, MAX_FIT_MESSAGES, classify_fit_header, fit_crc16
from .gpx_tcx import Point
from .sniff import sniff_type
from .sports import strava_sport, xml_sport
from .summary import ActivitySummary, TrackPoint, read_activity
from .track import MAX_TRACK_BYTES, MAX_TRACK_POINTS, read_track
from .verdict import ELIGIBLE, FAILED, JUNK, Verdict

__all__ = [
    "DEFAULT_MAX_GUNZIP_BYTES", "ELIGIBLE", "FAILED", "FILE_TYPES", "JUNK", "MANUFACTURERS", "MAX_FIT_MESSAGES",
    "MAX_TRACK_BYTES", "MAX_TRACK_POINTS", "ActivitySummary", "Point", "TrackPoint", "Verdict", "classify_bytes",
    "classify_file", "classify_fit_header", "fit_crc16", "gunzip", "read_activity", "read_track", "sniff_type",
    "strava_sport", "xml_sport",
]  # fmt: skip
