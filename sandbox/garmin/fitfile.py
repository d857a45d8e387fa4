"""What Garmin Connect reads from an original FIT file, and the two edits the simulator makes to one.

Garmin lists an activity with the file's own facts: the file_id's manufacturer and serial number,
the session's sport and sub_sport (the activity type). The simulator can serve a real file at another
time (every timestamp moved by one shift, so that a demo account has twenty distinct activities from a
dozen files) or as recorded by Strava's app (the file_id's manufacturer set to Strava's number), always
as a valid FIT file (CRC recomputed) that any reader, ours included, takes as it would the original.

One walker does all three: messages in order, each field of a data message handed to a visitor that
may give it a new value. Compressed-timestamp headers store only the low five bits of the time, so a
file that uses them can only be shifted by a multiple of 32 s (a whole day is one).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from fitdecode.profile import FIELD_TYPES, MESSAGE_TYPES

from activityfiles import fit_crc16

FILE_ID, SESSION, SPORT = 0, 18, 12
TIMESTAMP = 253
FIRST_DATE = 0x10000000  # FIT: smaller time values count from device power-up, not dates
STRAVA_MANUFACTURER = 265  # fitdecode's profile: "strava"
_MANUFACTURERS: dict[int, str] = dict(FIELD_TYPES["manufacturer"].enum)
_SPORTS: dict[int, str] = dict(FIELD_TYPES["sport"].enum)
_SUB_SPORTS: dict[int, str] = dict(FIELD_TYPES["sub_sport"].enum)
_FORMATS = {1: "B", 2: "H", 4: "I"}

# (global message, field, size in bytes, value) -> the value to write back, or None to leave it.
Visitor = Callable[[int, int, int, int], int | None]


class FitEditError(ValueError):
    """The file cannot be walked (not FIT, or damaged) or cannot take the edit."""


@dataclass(frozen=True)
class GarminFacts:
    """The file's facts Garmin Connect shows besides its summary."""

    manufacturer: str  # upper case, as Garmin lists it: GARMIN, WAHOO_FITNESS, STRAVA, ...
    serial_number: int | None
    sport: str | None  # FIT profile names: cycling, running, swimming, ...
    sub_sport: str | None


@cache
def _is_date(global_number: int, field: int) -> bool:
    message = MESSAGE_TYPES.get(global_number)
    definition = message.fields.get(field) if message is not None else None
    return definition is not None and definition.type.name in ("date_time", "local_date_time")


def _walk(data: bytes, visit: Visitor, *, compressed_ok: bool = True) -> bytes:
    """The file with every data field passed through `visit`; chained files walked one after another."""
    out = bytearray(data)
    pos = 0
    while pos < len(out):
        if len(out) - pos < 12 or out[pos + 8 : pos + 12] != b".FIT":
            if pos == 0:
                raise FitEditError("not a FIT file")
            break  # trailing bytes after the last chained file: left alone, as readers ignore them
        header_size = out[pos]
        data_size = int.from_bytes(out[pos + 4 : pos + 8], "little")
        end = pos + header_size + data_size
        if end + 2 > len(out):
            raise FitEditError("the file is shorter than its header says")
        _walk_records(out, pos + header_size, end, visit, compressed_ok=compressed_ok)
        out[end : end + 2] = struct.pack("<H", fit_crc16(bytes(out[pos:end])))
        pos = end + 2
    return bytes(out)


def _walk_records(out: bytearray, pos: int, end: int, visit: Visitor, *, compressed_ok: bool) -> None:
    # local message type -> (big endian, global number, [(field, size)], developer bytes)
    definitions: dict[int, tuple[bool, int, list[tuple[int, int]], int]] = {}
    while pos < end:
        header = out[pos]
        if header & 0x80:  # compressed timestamp: the time is the last one's, low five bits replaced
            if not compressed_ok:
                raise FitEditError("the file uses compressed timestamps: shift it by a multiple of 32 s")
            local = (header >> 5) & 0x03
        elif header & 0x40:  # definition
            if pos + 6 > end:
                raise FitEditError("a definition runs past the data")
            big = out[pos + 2] == 1
            global_number = int.from_bytes(out[pos + 3 : pos + 5], "big" if big else "little")
            count = out[pos + 5]
            fields = [(out[pos + 6 + 3 * i], out[pos + 7 + 3 * i]) for i in range(count)]
            cursor = pos + 6 + 3 * count
            developer = 0
            if header & 0x20:
                dev_count = out[cursor]
                developer = sum(out[cursor + 2 + 3 * i] for i in range(dev_count))
                cursor += 1 + 3 * dev_count
            if cursor > end:
                raise FitEditError("a definition runs past the data")
            definitions[header & 0x0F] = (big, global_number, fields, developer)
            pos = cursor
            continue
        else:
            local = header & 0x0F
        definition = definitions.get(local)
        if definition is None:
            raise FitEditError(f"data message of undefined local type {local}")
        big, global_number, fields, developer = definition
        cursor = pos + 1
        for field, size in fields:
            fmt = _FORMATS.get(size)
            if fmt is not None and cursor + size <= end:
                layout = (">" if big else "<") + fmt
                (value,) = struct.unpack_from(layout, out, cursor)
                new = visit(global_number, field, size, value)
                if new is not None and new != value:
                    struct.pack_into(layout, out, cursor, new)
            cursor += size
        pos = cursor + developer
        if pos > end:
            raise FitEditError("a data message runs past the data")


def garmin_facts(data: bytes) -> GarminFacts:
    """Manufacturer, serial number and sport as the file's file_id and first session (or sport message) say."""
    seen: dict[tuple[int, int], int] = {}

    def collect(global_number: int, field: int, size: int, value: int) -> None:
        key = (global_number, field)
        if key in {(FILE_ID, 1), (FILE_ID, 3), (SESSION, 5), (SESSION, 6), (SPORT, 0), (SPORT, 1)}:
            invalid = (1 << (8 * size)) - 1
            if key not in seen and value not in (invalid, 0 if field == 3 else -1):
                seen[key] = value
        return None

    _walk(data, collect)
    manufacturer = seen.get((FILE_ID, 1))
    sport = seen.get((SESSION, 5), seen.get((SPORT, 0)))
    sub_sport = seen.get((SESSION, 6), seen.get((SPORT, 1)))
    return GarminFacts(
        manufacturer=(_MANUFACTURERS.get(manufacturer, str(manufacturer)) if manufacturer is not None else "unknown").upper(),
        serial_number=seen.get((FILE_ID, 3)),
        sport=_SPORTS.get(sport) if sport is not None else None,
        sub_sport=_SUB_SPORTS.get(sub_sport) if sub_sport is not None else None,
    )


def shift_times(data: bytes, seconds: int) -> bytes:
    """The file with every date (timestamps, start times, time_created, local times) moved by `seconds`."""
    if seconds == 0:
        return data

    def shift(global_number: int, field: int, size: int, value: int) -> int | None:
        if size != 4 or value == 0xFFFFFFFF or value < FIRST_DATE:
            return None
        if field != TIMESTAMP and not _is_date(global_number, field):
            return None
        moved = value + seconds
        if not FIRST_DATE <= moved < 0xFFFFFFFF:
            raise FitEditError("the shift moves a date out of FIT's range")
        return moved

    return _walk(data, shift, compressed_ok=seconds % 32 == 0)


def as_recorded_by_strava(data: bytes) -> bytes:
    """The file as Strava's app would have written it: its file_id names Strava as the manufacturer."""

    def restamp(global_number: int, field: int, size: int, value: int) -> int | None:
        return STRAVA_MANUFACTURER if (global_number, field) == (FILE_ID, 1) and size == 2 else None

    return _walk(data, restamp)
