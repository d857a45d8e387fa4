"""FIT: the recorded start and sport of an activity, as Strava takes them, read cheaply.

``file_id.time_created`` is not the start: copied, re-saved and exported files carry the
date they were written (49 of 121 real activity files are more than 12 h off). Strava
takes the ``session`` message's ``start_time``, and without a session the first timed
record. The session is a summary written at the end of the file, so the sweep reads:

1. the last ``TAIL`` bytes before the end of the first FIT file (header + data_size: a
   chained file's own tail holds no session of the first): the last ``session`` definition
   (global 18), found by its bytes and checked (base types, sizes, its data message right
   after it, a plausible date), settles nearly every file (``_last_session``); else a
   general search of the tail, then of the head (files that write their summary first);
2. a walk forward from the header to the first record with a real date (its ``sport``
   message names the sport), bounded in messages and bytes (activityfiles.fit_walk);
3. devices that define every message up front: the tail walked with the walk's definitions;
4. a bigger tail (pool swims with a heart-rate strap append its data after the session).

A session that is not the first (``first_lap_index`` > 0, or ``activity.num_sessions`` says
there are more: multisport files keep each leg's session after the leg) is not taken from
the tail; the walk then finds the first record, which starts the first session.
Every reader here stops at damage and answers with what it has: nothing raises.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple

from .fit_walk import (
    FIT_FIRST_DATE,
    MAX_WALK_MESSAGES,
    RECORD,
    SESSION,
    Definition,
    Walk,
    _cache,
    decode,
    definition_end,
    read_definition,
)  # fmt: skip

FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z as a Unix timestamp

TAIL = 4096  # single-session files end their session within 600 bytes of the end; SDK examples 3 KB
BIG_TAIL = 32 * 1024  # heart-rate data appended after a swim's session: up to 31 KB seen
MAX_WALK_BYTES = 1024 * 1024  # the forward walk reads no further than this
_SEARCH_MESSAGES = 8  # a walk from a session found by its bytes: the session, the activity, a few more
_SYNC_TRIES = 64  # places tried in the tail for a session of a file that defined it up front ...
_SYNC_BYTES = 1024  # ... within this much of the end (seen: 230 bytes)
Reader = Callable[[int], bytes]
_SESSION_DEFS = (b"\x00\x00\x12\x00", b"\x00\x01\x00\x12")
_LAP_DEFS = (b"\x00\x00\x13\x00", b"\x00\x01\x00\x13")


class Recorded(NamedTuple):  # a tuple, not a frozen dataclass: made once per file, and that costs a microsecond
    """What the sweep learns about an activity beyond its file_id: raw FIT values, None when not found."""

    start: int | None = None  # FIT time of the recorded start
    sport: int | None = None
    sub_sport: int | None = None


def fit_datetime(value: int | None) -> datetime | None:
    """An aware UTC datetime for a FIT time value; None for relative or invalid ones."""
    if value is None or value < FIT_FIRST_DATE or value >= 0xFFFFFFFF:
        return None
    return datetime.fromtimestamp(FIT_EPOCH + value, UTC)


def _plausible(session: dict[str, int]) -> bool:
    """A start that is a date, before the session's end and less than a year before it."""
    start = session.get("start")
    if start is None or start < FIT_FIRST_DATE or start >= 0xFFFFFFFF:
        return False
    ts = session.get("ts")
    return ts is None or (start <= ts + 86400 and ts - start < 366 * 86400)


def _first_session(walk: Walk) -> dict[str, int] | None:
    """The file's first session if the walk saw it; None if it saw none or only later ones."""
    sessions = walk.sessions
    for session in sessions:
        if session.get("first_lap") == 0:
            return session
    if not sessions or any(session.get("first_lap") for session in sessions):
        return None
    if walk.num_sessions is not None and walk.num_sessions > len(sessions):
        return None
    return sessions[0]


def _search(window: bytes, patterns: tuple[bytes, ...] = _SESSION_DEFS) -> Walk:
    """A walk from a session (or lap) definition found in the window by its bytes.

    The last one first: in a single-session file it is the only one, and ``rfind`` then reads
    only the few hundred bytes after it. Earlier ones only while the first session is not seen.
    """
    end = len(window)
    seen = None
    for pattern in patterns:
        i = window.rfind(pattern)
        while i >= 1:
            start = i - 1
            i = window.rfind(pattern, 0, i + 3)
            if window[start] & 0xD0 != 0x40:  # not a definition header (or its reserved bit set)
                continue
            after = definition_end(window, start, end)
            if after is None or after >= end:
                continue
            local = window[start] & 0x0F
            following = window[after]
            # The definition must be followed by a data message that uses it: the main guard against chance matches.
            if following != local and not (following & 0x80 and local < 4 and (following >> 5) & 3 == local):
                continue
            walk = Walk()
            walk.run(window, start, end, SESSION, _SEARCH_MESSAGES)  # an unsound definition stops it at once
            if _first_session(walk) is not None or (patterns[0] in _LAP_DEFS and walk.lap):
                return walk
            if seen is None or walk.sessions:  # sessions, but not the first: a multisport file, look further back
                seen = walk
    return seen if seen is not None else Walk()


def _from_session(session: dict[str, int]) -> Recorded:
    start = session.get("start") if _plausible(session) else None
    return Recorded(start, session.get("sport"), session.get("sub_sport"))


def _sport_of(walk: Walk) -> tuple[int | None, int | None]:
    for message in (walk.sport, walk.lap):
        if message and "sport" in message:
            return message.get("sport"), message.get("sub_sport")
    return None, None


def fit_recorded(head: bytes, read_tail: Reader, read_head: Reader) -> Recorded:
    """The recorded start and sport of an activity whose header and file_id are in ``head``.

    ``read_tail(n)``: the last n bytes of the first FIT file (fewer if it is shorter);
    ``read_head(n)``: its first n bytes. Called only as far as needed (module docstring).
    """
    try:
        tail = read_tail(TAIL)
        # Devices write every message in one byte order: look for the file_id's first.
        first = head[0]
        big = len(head) > first + 2 and head[first] & 0x40 and head[first + 2] == 1
        patterns = _SESSION_DEFS[::-1] if big else _SESSION_DEFS
        quick = _last_session(tail, patterns)
        if isinstance(quick, dict):
            return Recorded(quick.get("start"), quick.get("sport"), quick.get("sub_sport"))
        return _recorded(head, tail if quick else b"", tail, read_tail, read_head, patterns)
    except (IndexError, KeyError, ValueError, OverflowError, struct.error):  # a bound check we missed must not escape
        return Recorded()


def _sync(window: bytes, defs: list[Definition | None], anchor: int | None) -> Walk | None:
    """The window walked with definitions made earlier (devices that define every message up front).

    A session data message is looked for by its local number and a plausible date, near the
    first record's time (``anchor``) when that is known; it is taken only if the walk from it
    ends exactly at the window's end (or at the file CRC before it). Both checks are needed: a
    walk from a chance match falls into step with the real messages after a few of them.
    """
    end = len(window)
    for local, definition in enumerate(defs):
        if definition is None or definition[0] != SESSION:
            continue
        size = definition[1]
        marker = bytes((local,))
        floor = max(0, end - _SYNC_BYTES)
        p = window.rfind(marker, floor, end - size)
        tries = 0
        while p != -1 and tries < _SYNC_TRIES:  # from the end: the session is among the last messages
            tries += 1
            values = decode(window, p + 1, definition)
            if _plausible(values) and (anchor is None or anchor - 86400 <= values["start"] <= anchor + 3600):
                walk = Walk()
                walk.defs = list(defs)
                if walk.run(window, p, end) >= end - 2 and walk.sessions:
                    return walk
            p = window.rfind(marker, floor, p)
    return None


def _last_session(window: bytes, patterns: tuple[bytes, ...] = _SESSION_DEFS) -> dict[str, int] | bool:
    """The usual case, with no general walk: the last sound session definition in the window,
    its data right after it, and that session is the first one (first_lap_index 0, or the
    activity message right after it counts one session, or says nothing) with a sound date.
    Else whether there was any sound session definition followed by its data to look at further."""
    end = len(window)
    seen = False
    for pattern in patterns:
        upto = end
        for _ in range(4):  # chance matches of the pattern in data come before the real one, seen from the end
            i = window.rfind(pattern, 0, upto)
            if i < 1:
                break
            upto = i + 3
            start = i - 1
            header = window[start]
            if header & 0xD0 != 0x40:
                continue
            local = header & 0x0F
            # definition_end, read_definition (when cached) and decode written out: this runs on every activity
            after = start + 6 + 3 * window[start + 5] if start + 6 <= end else end + 1
            if after <= end and header & 0x20:
                after = after + 1 + 3 * window[after] if after < end else end + 1
            if after >= end or window[after] != local:
                continue
            raw = window[start + 2 : after]
            definition = _cache[raw] if raw in _cache else read_definition(window, start, after)
            if definition is None or definition[0] != SESSION or after + 1 + definition[1] > end:
                continue
            seen = True
            unpacker = definition[3]
            if unpacker is None:
                values = {}
            else:
                unpacked = unpacker.unpack_from(window, after + 1)
                values = {name: value for name, value, invalid in zip(definition[2], unpacked, definition[4]) if value != invalid}  # noqa: B905
            first_lap = values.get("first_lap")
            if first_lap is None:  # no index: is it the only session? The activity message says.
                walk = Walk()
                walk.defs[local] = definition
                walk.run(window, after + 1 + definition[1], end, None, 4)
                if walk.sessions or (walk.num_sessions or 1) != 1:
                    return True
            elif first_lap:
                return True
            return values if _plausible(values) else True
    return seen


def _recorded(
    head: bytes, search: bytes, tail: bytes, read_tail: Reader, read_head: Reader, patterns: tuple[bytes, ...]
) -> Recorded:
    """What _last_session could not settle: the cases of the module docstring, in order.

    ``search``: the tail if it is worth a general search (it holds a session definition), else b"".
    """
    named: list[Recorded] = []  # a session without a usable start still names the sport
    later: list[bool] = []  # sessions were seen, none of them the first: a multisport file

    def dated(walk: Walk | None) -> Recorded | None:
        if walk is None:
            return None
        session = _first_session(walk)
        if session is None:
            if walk.sessions:
                later.append(True)
            return None
        recorded = _from_session(session)
        if recorded.start is not None:
            return recorded
        named.append(recorded)
        return None

    whole = len(tail) < TAIL  # the tail is the whole file
    found = dated(_search(search)) if search else None  # an empty window holds no session: skip making a Walk
    if not (found or whole or later):  # a summary written first: settled like a tail, else searched
        quick = _last_session(head, patterns)
        found = Recorded(quick.get("start"), quick.get("sport"), quick.get("sub_sport")) if isinstance(quick, dict) else None
        found = found or dated(_search(head, patterns[:1]))
    if found:
        return found
    walk = _walk_forward(head, read_head)
    found = dated(walk)
    if not (found or named or later):  # sessions elsewhere: up front or behind appended data
        found = dated(_sync(tail, walk.defs, walk.record)) or (None if whole else dated(_search(read_tail(BIG_TAIL), patterns[:1])))
    if found:
        return found
    start = walk.record if walk.record is not None else walk.timed
    if named:
        return Recorded(start, named[0].sport, named[0].sub_sport)
    if walk.sport is None and walk.lap is None and not later:  # no session anywhere: a lap at the end may name it
        walk.lap = _search(tail, _LAP_DEFS[::-1] if patterns[0] != _SESSION_DEFS[0] else _LAP_DEFS).lap
    sport, sub_sport = _sport_of(walk)
    return Recorded(start, sport, sub_sport)


def _walk_forward(head: bytes, read_head: Reader) -> Walk:
    """From the header to the first dated record, reading on (doubling) as far as the bounds allow."""
    buf = head
    while True:
        walk = Walk()
        header_size = buf[0]
        data_size = int.from_bytes(buf[4:8], "little")
        end = min(len(buf), header_size + data_size) if data_size else len(buf)
        pos = walk.run(buf, header_size, end, RECORD)
        if walk.record is not None or walk.messages >= MAX_WALK_MESSAGES or len(buf) >= MAX_WALK_BYTES:
            return walk  # found, or a bound reached
        if (pos < end and not walk.short) or (data_size and end >= header_size + data_size):
            return walk  # stopped by damage, or at the end of the FIT data
        more = read_head(min(2 * len(buf), MAX_WALK_BYTES))
        if len(more) <= len(buf):
            return walk
        buf = more
