"""Expand an uploaded zip (and the zips inside it) into members, refusing what is hostile.

Athletes upload Garmin exports (zips of zips), Strava exports and hand-made zips, so
nothing in an archive is trusted: names may escape (``../``, absolute, drive letters),
sizes in the headers may lie, and a few hundred bytes may inflate to gigabytes. Every
problem becomes a ``Member`` with a ``refusal`` for that entry alone; the others go on.

Limits are enforced on what is actually read, never on the sizes the headers claim:
each entry is read in chunks and abandoned as soon as it passes its ratio or the
tree's remaining byte budget. Gzip members are passed on as they are (activityfiles
knows gzip); nested zips are found by content, not by name, and expanded up to
``max_depth`` levels below the outer archive.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

READ_CHUNK = 1024 * 1024
RATIO_GRACE_BYTES = 1024 * 1024  # below this an entry cannot be a bomb; tiny, very regular files may exceed the ratio
_DRIVE = re.compile(r"^[A-Za-z]:")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds for one archive tree (the outer zip and every zip inside it)."""

    max_total_bytes: int = 2 * 1024**3  # total uncompressed per archive tree
    max_entries: int = 20_000
    max_ratio: float = 200.0  # per entry, uncompressed/compressed
    max_depth: int = 3  # levels of zips inside the outer one


@dataclass
class Member:
    """One regular file from the archive tree: its data, or why we refused it."""

    name: str  # path inside the archive(s), e.g. "export.zip/DI_CONNECT/x.zip/a.fit"
    data: bytes | None  # content when accepted
    refusal: str | None  # per-file reason when refused


class _Budget:
    """What is left of the tree's limits; shared by every level of nesting."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.bytes_left = limits.max_total_bytes
        self.entries_left = limits.max_entries


class _Refused(Exception):  # a verdict for one entry, not a program error
    pass


def _unsafe_path(name: str) -> str | None:
    """Why a member name must not be used as a path, or None if it is harmless."""
    if name.startswith("/"):
        return f"refused: absolute path ({name})"
    if _DRIVE.match(name):
        return f"refused: drive letter in path ({name})"
    if ".." in name.split("/"):
        return f"refused: path escapes the archive ({name})"
    return None


def _is_macos_metadata(name: str) -> bool:
    parts = name.split("/")
    return parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts[-1] == ".DS_Store"


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> bytes:
    """Read one entry, stopping one chunk past whichever limit it breaks first."""
    limits = budget.limits
    ratio_cap = max(RATIO_GRACE_BYTES, int(info.compress_size * limits.max_ratio))
    cap = min(ratio_cap, budget.bytes_left)
    parts: list[bytes] = []
    got = 0
    with archive.open(info) as entry:
        while True:
            chunk = entry.read(min(READ_CHUNK, cap + 1 - got))
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
            if got > cap:
                if cap == ratio_cap:
                    claimed = max(got, info.file_size) / max(info.compress_size, 1)
                    raise _Refused(
                        f"refused: compression ratio {claimed:.0f}:1 exceeds {limits.max_ratio:.0f}:1"
                        f" ({info.compress_size} bytes expand beyond {got - 1})"
                    )
                raise _Refused(f"refused: archive expands beyond {limits.max_total_bytes} bytes in total")
    budget.bytes_left -= got
    return b"".join(parts)


def _walk(source: str | os.PathLike[str] | BinaryIO, prefix: str, depth: int, budget: _Budget) -> Iterator[Member]:
    label = prefix.rstrip("/") or (os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<archive>")
    try:
        archive = zipfile.ZipFile(source)
    except Exception as exc:  # any failure to open is a verdict on the archive, not a crash
        yield Member(label, None, f"unreadable: not a readable zip archive ({exc})")
        return
    with archive:
        infos = archive.infolist()
        if len(infos) > budget.entries_left:
            limit = budget.limits.max_entries
            yield Member(label, None, f"refused: {len(infos)} entries exceed the limit of {limit} per archive tree")
            return
        budget.entries_left -= len(infos)
        for info in infos:
            name = info.filename.replace("\\", "/")
            full = prefix + name
            if info.is_dir() or _is_macos_metadata(name):
                continue
            unsafe = _unsafe_path(name)
            if unsafe:
                yield Member(full, None, unsafe)
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                yield Member(full, None, "refused: symbolic link")
                continue
            if info.flag_bits & 0x1:
                yield Member(full, None, "refused: encrypted entry")
                continue
            try:
                data = _read_entry(archive, info, budget)
            except _Refused as refused:
                yield Member(full, None, str(refused))
                continue
            except Exception as exc:  # bad CRC, bad deflate data, unsupported method: this entry only
                yield Member(full, None, f"unreadable: {type(exc).__name__}: {exc}")
                continue
            if data[:4] in _ZIP_MAGIC:
                if depth >= budget.limits.max_depth:
                    yield Member(full, None, f"refused: nested zip deeper than {budget.limits.max_depth} levels")
                    continue
                yield from _walk(io.BytesIO(data), full + "/", depth + 1, budget)
                continue
            yield Member(full, data, None)


def iter_zip_members(
    fileobj_or_path: str | os.PathLike[str] | BinaryIO,
    *,
    limits: ArchiveLimits = ArchiveLimits(),  # frozen, so sharing the default is safe
    prefix: str = "",
) -> Iterator[Member]:
    """Yield every regular file of the zip (nested zips expanded), or a refusal per bad entry.

    Directories and macOS metadata (``__MACOSX/``, ``._*``, ``.DS_Store``) are skipped.
    An unreadable archive yields a single Member with a refusal; nothing here raises for
    bad content.
    """
    yield from _walk(fileobj_or_path, prefix, 0, _Budget(limits))
