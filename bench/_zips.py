"""Hostile zips for benchmarks, written straight from precompressed data (seconds, not minutes).

A deflate stream of N repeats of one block is the block compressed once after a full flush,
written N times: the compressor's state is reset at each full flush, so every repeat compresses
to the same bytes. Members that expand to gigabytes thus cost a few megabytes to write. Their
CRC is not computed (a reader refuses them long before it would check it; a hostile zip may
lie about it anyway).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
_ZIP64 = 0xFFFFFFFF


@dataclass
class Raw:
    """One member, already compressed: `parts` written one after another."""

    name: str
    parts: Iterable[bytes]
    compressed: int
    size: int
    crc: int = 0
    method: int = zipfile.ZIP_DEFLATED


def repeated(name: str, block: bytes, count: int) -> Raw:
    """A member of `count` repeats of `block`, deflated."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    unit = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    tail = packer.flush(zlib.Z_FINISH)
    parts = _parts(unit, count, tail)
    return Raw(name, parts, len(unit) * count + len(tail), len(block) * count)


def _parts(unit: bytes, count: int, tail: bytes) -> Iterable[bytes]:
    for _ in range(count):
        yield unit
    yield tail


def deflated(name: str, data: bytes) -> Raw:
    """A member of `data`, deflated for real (so its CRC is right)."""
    packed = zlib.compress(data, 9, wbits=-15)
    return Raw(name, [packed], len(packed), len(data), zlib.crc32(data))


def write_zip(target: Path | io.BytesIO, members: Iterable[Raw]) -> None:
    """A zip of already-compressed members (zip64 sizes where they need it)."""
    out = open(target, "wb") if isinstance(target, Path) else target
    central, offset = [], 0
    try:
        for member in members:
            name = member.name.encode()
            big = member.size >= _ZIP64 or member.compressed >= _ZIP64
            extra = struct.pack("<HHQQ", 1, 16, member.size, member.compressed) if big else b""
            sizes = (_ZIP64, _ZIP64) if big else (member.compressed, member.size)
            version = 45 if big else 20
            out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", version, 0, member.method, 0, 0x21,
                                  member.crc, *sizes, len(name), len(extra)) + name + extra)
            for part in member.parts:
                out.write(part)
            central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", version, version, 0, member.method, 0,
                                       0x21, member.crc, *sizes, len(name), len(extra), 0, 0, 0, 0o100644 << 16,
                                       offset) + name + extra)
            offset = out.tell()
        directory = b"".join(central)
        out.write(directory)
        out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), len(directory),
                              offset, 0))
    finally:
        if isinstance(target, Path):
            out.close()


def zeros_bomb(path: Path, gib: int) -> None:
    """One member of `gib` GiB of zeros (about 1 MB of zip per GiB)."""
    write_zip(path, [repeated("zeros.fit", bytes(MIB), gib * 1024)])


def big_member(path: Path, gib: int) -> None:
    """One member of `gib` GiB that compresses about 48:1 (below any ratio limit; only its size is wrong)."""
    noise = b"".join(zlib.crc32(i.to_bytes(4, "little")).to_bytes(4, "little") for i in range(21_000 // 4))
    block = noise + bytes(MIB - len(noise))
    write_zip(path, [repeated("big.fit", block, gib * 1024)])


def nested_bomb(path: Path, *, levels: int = 5, fan_out: int = 16, leaf_gib: int = 1) -> None:
    """42.zip's shape: `levels` of zips of `fan_out` zips each, around `fan_out` leaves of `leaf_gib` GiB of zeros."""
    buffer = io.BytesIO()
    write_zip(buffer, (repeated(f"{i:x}.fit", bytes(MIB), leaf_gib * 1024) for i in range(fan_out)))
    for level in range(levels, 0, -1):
        inner = buffer.getvalue()
        packed = deflated("x", inner)
        buffer = io.BytesIO()
        write_zip(buffer, (Raw(f"l{level}-{i:x}.zip", [b"".join(packed.parts)], packed.compressed, packed.size,
                               packed.crc) for i in range(fan_out)))
    path.write_bytes(buffer.getvalue())


def many_entries(path: Path, count: int, *, first: int = 0) -> None:
    """`count` distinct small GPX activities (each one a file worth uploading)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(first, first + count):
            archive.writestr(f"rides/ride{i:05d}.gpx", gpx(i))


def gpx(i: int) -> bytes:
    day, second = divmod(i, 86_400)
    stamp = f"2020-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="bench" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>ride ' + str(i) + "</name><trkseg>"
        '<trkpt lat="47.0" lon="8.0"><ele>400</ele><time>' + stamp + "</time></trkpt>"
        '<trkpt lat="47.001" lon="8.001"><ele>401</ele><time>' + stamp + "</time></trkpt>"
        "</trkseg></trk></gpx>\n"
    ).encode()
