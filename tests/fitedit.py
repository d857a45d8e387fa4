"""Edit real FIT files for tests: copies that differ from the original only where a test needs it."""

from __future__ import annotations

import struct

from activityfiles import fit_crc16


def with_time_created(data: bytes, value: int, *, file_crc: bool = True) -> bytes:
    """The file with its first message (a file_id) given another time_created, CRC recomputed (or 0)."""
    header_size = data[0]
    pos = header_size
    if not (data[pos] & 0xF0 == 0x40 and data[pos + 3 : pos + 5] == b"\0\0"):
        raise ValueError("the first message is not a little-endian file_id definition")
    offset, field_offset = 0, None
    for i in range(data[pos + 5]):
        number, size = data[pos + 6 + 3 * i], data[pos + 7 + 3 * i]
        if number == 4:
            field_offset = offset
        offset += size
    if field_offset is None:
        raise ValueError("the file_id has no time_created field")
    at = pos + 6 + 3 * data[pos + 5] + 1 + field_offset
    out = bytearray(data)
    out[at : at + 4] = struct.pack("<I", value)
    crc = fit_crc16(bytes(out[:-2])) if file_crc else 0
    out[-2:] = struct.pack("<H", crc)
    return bytes(out)
