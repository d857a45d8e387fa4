"""FIT messages walked in order: definitions checked and remembered, the few fields the sweep needs decoded.

Used by activityfiles.fit_recorded on windows of a file (its tail, its head), where a walk
may start at a definition found by its bytes: so every definition is checked (base types,
sizes) and every bound tested; the walk stops at damage, at the window's end or at its goal.
"""

from __future__ import annotations

import struct

FIT_FIRST_DATE = 0x10000000  # smaller time values count from device power-up, not dates
MAX_WALK_MESSAGES = 4000  # a walk gives up after this many messages (the latest first record seen: message 250)

# FIT base type -> size of one value. Anything else in a definition means we are not looking at one.
_BASE_SIZES = {
    0x00: 1, 0x01: 1, 0x02: 1, 0x83: 2, 0x84: 2, 0x85: 4, 0x86: 4, 0x07: 1, 0x88: 4, 0x89: 8,
    0x0A: 1, 0x8B: 2, 0x8C: 4, 0x0D: 1, 0x8E: 8, 0x8F: 8, 0x90: 8,
}  # fmt: skip
_BASE_TYPES = bytes(_BASE_SIZES)
SESSION, LAP, SPORT, RECORD, EVENT, ACTIVITY, LENGTH = 18, 19, 12, 20, 21, 34, 101
# Global message -> fields we decode: {field number: name}. Timestamps (253) everywhere.
_WANTED: dict[int, dict[int, str]] = {
    SESSION: {2: "start", 5: "sport", 6: "sub_sport", 25: "first_lap", 253: "ts"},
    LAP: {2: "start", 25: "sport", 39: "sub_sport", 253: "ts"},
    SPORT: {0: "sport", 1: "sub_sport"},
    ACTIVITY: {1: "num_sessions", 253: "ts"},
    RECORD: {253: "ts"},
    EVENT: {253: "ts"},
    LENGTH: {253: "ts"},
}
_TIMED = frozenset((RECORD, EVENT, LENGTH))  # messages of which only the timestamp is wanted
_NOTHING: dict[int, str] = {}  # device_info, developer data, ...: walked over, not decoded
# (global number, data size, wanted field names, a Struct unpacking them, their "invalid" values)
Definition = tuple[int, int, tuple[str, ...], struct.Struct | None, tuple[int, ...]]
_FORMATS = {1: "B", 2: "H", 4: "I", 8: "Q"}
_CACHE_SIZE = 2048
_cache: dict[bytes, Definition | None] = {}  # raw definition -> parsed: a device writes the same ones in every file


def definition_end(buf: bytes, pos: int, end: int) -> int | None:
    """Where the definition at ``pos`` ends; None if that is past ``end`` (read more)."""
    fields_end = pos + 6 + 3 * buf[pos + 5] if pos + 6 <= end else end + 1
    if fields_end > end:
        return None
    if buf[pos] & 0x20:  # developer field definitions follow
        if fields_end >= end:
            return None
        fields_end += 1 + 3 * buf[fields_end]
    return fields_end if fields_end <= end else None


def read_definition(buf: bytes, pos: int, dev_end: int) -> Definition | None:
    """The definition at ``pos`` (ending at ``dev_end``), or None if it is not a sound one."""
    raw = buf[pos + 2 : dev_end]
    if raw in _cache:
        return _cache[raw]
    if len(_cache) >= _CACHE_SIZE:
        _cache.clear()
    _cache[raw] = definition = _parse_definition(raw, buf[pos] & 0x20 != 0)
    return definition


def _parse_definition(raw: bytes, developer: bool) -> Definition | None:
    """``raw``: a definition from its architecture byte on. Slices, not a loop: a session has up to 100 fields."""
    arch = raw[0]
    if arch > 1:
        return None
    gnum = int.from_bytes(raw[1:3], "big" if arch else "little")
    fields_end = 4 + 3 * raw[3]
    if raw[6:fields_end:3].translate(None, _BASE_TYPES):  # a byte that is no base type
        return None
    numbers = raw[4:fields_end:3]
    sizes = raw[5:fields_end:3]
    wanted = []
    for number, name in _WANTED.get(gnum, _NOTHING).items():
        i = numbers.find(number)
        if i != -1 and sizes[i] == _BASE_SIZES[raw[6 + 3 * i]] and sizes[i] in _FORMATS:  # one number, as expected
            wanted.append((sum(sizes[:i]), sizes[i], name))
    size = sum(sizes)
    if developer:
        size += sum(raw[fields_end + 2 :: 3])
    if not wanted:
        return gnum, size, (), None, ()
    wanted.sort()
    layout, offset = [">" if arch else "<"], 0
    for field_offset, field_size, _name in wanted:
        layout.append(f"{field_offset - offset}x{_FORMATS[field_size]}" if field_offset > offset else _FORMATS[field_size])
        offset = field_offset + field_size
    names = tuple(name for _offset, _size, name in wanted)
    invalid = tuple((1 << (8 * field_size)) - 1 for _offset, field_size, _name in wanted)
    return gnum, size, names, struct.Struct("".join(layout)), invalid


def decode(buf: bytes, start: int, definition: Definition) -> dict[str, int]:
    """The wanted fields of one data message; FIT's all-bits-set "invalid" values are left out."""
    unpacker = definition[3]
    if unpacker is None:
        return {}
    values = unpacker.unpack_from(buf, start)
    # names, values and invalid values have one entry per wanted field: zip needs no strict check (it costs)
    return {name: value for name, value, invalid in zip(definition[2], values, definition[4]) if value != invalid}  # noqa: B905


class Walk:
    """Messages in order from some position: definitions remembered, the wanted values collected."""

    __slots__ = ("defs", "last_ts", "lap", "messages", "num_sessions", "record", "sessions", "short", "sport", "timed")

    def __init__(self) -> None:
        self.defs: list[Definition | None] = [None] * 16
        self.sessions: list[dict[str, int]] = []
        self.num_sessions: int | None = None
        self.sport: dict[str, int] | None = None  # the first sport message
        self.lap: dict[str, int] | None = None  # the first lap
        self.record: int | None = None  # timestamp of the first record that is a date
        self.timed: int | None = None  # ... of the first event or length, when there is no record
        self.last_ts: int | None = None
        self.messages = 0
        self.short = False

    def run(self, buf: bytes, pos: int, end: int, goal: int | None = None, limit: int = MAX_WALK_MESSAGES) -> int:
        """Walk from ``pos`` until ``end``, damage, the bound or the goal; the position reached.

        ``goal``: stop at the first dated record (RECORD) or at a session that is the first
        (SESSION). ``self.short`` tells whether it stopped because a message runs past ``end``.
        """
        # definition_end, read_definition (when cached) and decode are written out here: the walk is the
        # fallbacks' hot loop, and a function call per message cost as much as the rest of it. The message
        # count lives in a local (written back on the way out): an attribute update per message costs too.
        defs = self.defs
        cache = _cache
        take = self._take
        self.short = False
        messages = self.messages
        while pos < end and messages < limit:
            messages += 1
            header = buf[pos]
            if header & 0xC0 == 0x40:
                dev_end = pos + 6 + 3 * buf[pos + 5] if pos + 6 <= end else end + 1
                if dev_end <= end and header & 0x20:  # developer field definitions follow
                    dev_end = dev_end + 1 + 3 * buf[dev_end] if dev_end < end else end + 1
                if dev_end > end:
                    self.short = True
                    break
                raw = buf[pos + 2 : dev_end]
                definition = cache[raw] if raw in cache else read_definition(buf, pos, dev_end)
                if definition is None:
                    break
                defs[header & 0x0F] = definition
                pos = dev_end
                continue
            definition = defs[(header >> 5) & 3 if header & 0x80 else header & 0x0F]
            if definition is None:
                break
            following = pos + 1 + definition[1]
            if following > end:
                self.short = True
                break
            unpacker = definition[3]
            if unpacker is None:
                if not header & 0x80:  # nothing wanted in it (device_info, hrv, ...)
                    pos = following
                    continue
                values = {}
            elif definition[0] in _TIMED:  # the bulk of a file: _take's work for them without a dict
                ts = unpacker.unpack_from(buf, pos + 1)[0]  # their one wanted field is the timestamp
                if header & 0x80 and self.last_ts is not None:
                    ts = self.last_ts + ((header & 0x1F) - self.last_ts) % 32
                elif ts == definition[4][0]:
                    ts = None
                pos = following
                if ts is not None:
                    self.last_ts = ts
                    if ts >= FIT_FIRST_DATE:
                        if definition[0] == RECORD:
                            if self.record is None:
                                self.record = ts
                                if goal == RECORD:
                                    break
                        elif self.timed is None:
                            self.timed = ts
                continue
            else:
                unpacked = unpacker.unpack_from(buf, pos + 1)
                values = {name: value for name, value, invalid in zip(definition[2], unpacked, definition[4]) if value != invalid}  # noqa: B905
            if header & 0x80 and self.last_ts is not None:  # compressed timestamp: 5 bits of offset
                values["ts"] = self.last_ts + ((header & 0x1F) - self.last_ts) % 32
            pos = following
            if take(definition[0], values) == goal and goal is not None:
                break
        self.messages = messages
        return pos

    def _take(self, gnum: int, values: dict[str, int]) -> int | None:
        """Keep what a message tells; RECORD at the first dated record, SESSION at a first session."""
        ts = values.get("ts")
        if ts is not None:
            self.last_ts = ts
        if gnum == SESSION:
            self.sessions.append(values)
            if values.get("first_lap") == 0:
                return SESSION
        elif gnum == ACTIVITY:
            self.num_sessions = values.get("num_sessions")
        elif gnum == SPORT and self.sport is None:
            self.sport = values
        elif gnum == LAP and self.lap is None:
            self.lap = values
        elif ts is not None and ts >= FIT_FIRST_DATE:
            if gnum == RECORD and self.record is None:
                self.record = ts
                return RECORD
            if gnum in (EVENT, LENGTH) and self.timed is None:
                self.timed = ts
        return None
