"""Upload reasons in plain words for people; the stored reason stays the technical one.

The classifier and the posting code write reasons for logs and reports ("junk: 49 file",
"unreadable: unclosed token: line 1, column 76"). Pages show `reason_words(reason)` and keep the
stored text one click away, so nothing is lost for whoever wants the detail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# FIT SDK "file" types, and the numbers Garmin writes that the public profile does not name
# (49 and 68 seen in Garmin exports: sleep and heart-rate variability).
FIT_TYPE_WORDS: dict[str, str] = {
    "device": "a device description file",
    "settings": "a settings file",
    "sport": "a sport settings file",
    "workout": "a planned workout",
    "course": "a course (a route to follow)",
    "schedules": "a training schedule",
    "weight": "a weight measurement",
    "totals": "a lifetime totals file",
    "goals": "a goals file",
    "blood_pressure": "a blood pressure measurement",
    "monitoring_a": "a daily tracking file (steps, heart rate)",
    "monitoring_b": "a daily tracking file (steps, heart rate)",
    "monitoring_daily": "a daily tracking file (steps, heart rate)",
    "activity_summary": "an activity summary without its recording",
    "segment": "a segment file",
    "segment_list": "a segment list",
    "exd_configuration": "a data screen configuration",
    "49": "a sleep file",
    "68": "a heart-rate variability (HRV) file",
}

_XML_ERROR = re.compile(r"(line \d+, column \d+|not well-formed|no element found|mismatched tag|junk after document)")


@dataclass(frozen=True)
class ReasonWords:
    words: str
    detail: str  # the stored reason, or "" when the words are the reason itself

    def __str__(self) -> str:
        return self.words


def _words(reason: str) -> str | None:
    """Plain words for a technical reason, or None when the reason already reads as words."""
    if match := re.fullmatch(r"junk: (\S+) file", reason):
        kind = match.group(1)
        return "not an activity: " + FIT_TYPE_WORDS.get(kind, f"a FIT file of type {kind}")
    if reason == "junk: file_id has no file type":
        return "not an activity: a FIT file that does not say what it holds"
    if reason.startswith("not an activity file: XML document"):
        return "not an activity: an XML file that is neither GPX nor TCX"
    if reason == "not an activity file: TCX course":
        return "not an activity: a TCX course (a route to follow, not a recording)"
    if reason == "not an activity file: no timestamped track points":
        return "not an activity: no timed track points (a route, not a recording)"
    if _XML_ERROR.search(reason):
        return "not a readable GPX/TCX file (the XML is cut off or broken)"
    if reason.startswith("refused: XML with a DOCTYPE"):
        return "refused: the XML declares entities, which could make reading it explode"
    if reason.startswith("refused: gzip expands beyond"):
        return "refused: the gzip file expands to more than we read"
    if reason in ("unreadable: gzip stream is truncated",) or reason.startswith("unreadable: gzip"):
        return "not a readable gzip file (it is cut off or damaged)"
    if reason == "unreadable: empty file":
        return "an empty file"
    if reason.startswith("unreadable: unrecognized content") or reason.startswith("unreadable: not a FIT file"):
        return "not an activity file: neither FIT, GPX nor TCX"
    if reason.startswith("unreadable:") and ("truncated" in reason or "ends at byte" in reason):
        return "not a readable file: it is cut off"
    if reason.startswith("unreadable:"):
        return "not a readable activity file (it is damaged)"
    if reason.startswith("unsupported: zip archive"):
        return "a zip inside the upload: unpack it and upload its files"
    if reason == "unsupported: gzip inside gzip":
        return "a gzip inside a gzip: unpack it once and upload that"
    return None


def reason_words(reason: str | None) -> ReasonWords:
    """`reason` as a person reads it, with the stored text as the detail when they differ."""
    reason = (reason or "").strip()
    words = _words(reason)
    if words is None:
        return ReasonWords(words=reason, detail="")
    return ReasonWords(words=words, detail=reason)
