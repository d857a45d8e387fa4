"""Zip members read as bounded streams: memory and time never depend on what a member expands to.

The one place where a zip member's limits are checked: its own size, its expansion ratio (past a
1 MiB grace), the bytes left of the whole archive (a ``ReadBudget`` all of its members share), and
the encryption flag. The sizes a zip's headers claim may lie, so they can only refuse early (when
the caller asks for it); the limits hold on what is actually read, chunk by chunk, and a read stops
at most one byte past the first limit it breaks. Uploads (``uploads.archives``) and the Strava
export import (``warehouse``) both read members through here and word the refusals their own way.
"""

from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from typing import Literal

READ_CHUNK = 1024 * 1024
# Below this a member cannot be a bomb: tiny, very regular files (an empty CSV) may exceed the ratio.
RATIO_GRACE_BYTES = 1024 * 1024

# What a damaged or unusual zip raises while a member is read: a verdict on the file, not a program error.
UNREADABLE = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, NotImplementedError)

Limit = Literal["encrypted", "size", "ratio", "budget"]


class ReadBudget:
    """What is left to read of one archive (nested ones included), shared by all of its members."""

    def __init__(self, total: int) -> None:
        self.total = self.bytes_left = total


def size_text(n: float) -> str:
    """Bytes as a person reads them: 512 bytes, 3.0 MiB."""
    for unit in ("bytes", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class MemberRefused(Exception):
    """A member broke `kind` of limit; str() says so for an athlete, callers may word the fields their own way.

    `size` is what the member is known to expand to at least, `limit` the bytes the broken limit
    allowed (for "budget" the archive's total), `claimed` whether only the header said so.
    """

    def __init__(self, kind: Limit, *, info: zipfile.ZipInfo, label: str, size: int, limit: int, max_ratio: float,
                 claimed: bool) -> None:
        self.kind, self.info, self.label, self.size, self.limit = kind, info, label, size, limit
        self.max_ratio, self.claimed = max_ratio, claimed
        super().__init__(self._reason())

    @property
    def ratio(self) -> float:
        return self.size / max(1, self.info.compress_size)

    def _reason(self) -> str:
        if self.kind == "encrypted":
            return f"{self.label} is encrypted: export the archive again without a password"
        if self.kind == "size" and self.claimed:
            return f"{self.label} expands to {size_text(self.size)}, more than the {size_text(self.limit)} allowed"
        if self.kind == "size":
            return f"{self.label} expands beyond the {size_text(self.limit)} allowed"
        if self.kind == "ratio":
            return (f"{self.label}: {size_text(self.info.compress_size)} expand to {size_text(self.size)} or more "
                    f"({self.ratio:.0f}:1, more than {self.max_ratio:.0f}:1): refused as a compression bomb")
        return f"the archive expands to more than {size_text(self.limit)} in total: {self.label} refused"


class BoundedMember(io.RawIOBase):
    """A zip member as a raw binary stream that raises MemberRefused past its limits.

    `max_bytes` None leaves the member only the ratio and the budget (``limit()`` may set one once
    its first bytes tell what it is). With `refuse_claims`, a header claiming too much refuses at
    once; without, the member is read for what it is and only what is read counts.
    """

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, max_ratio: float, max_bytes: int | None = None,
                 budget: ReadBudget | None = None, label: str | None = None, refuse_claims: bool = True) -> None:
        super().__init__()
        self.info, self.label, self.max_ratio, self.budget = info, label or info.filename, max_ratio, budget
        self.max_bytes = max_bytes
        self.ratio_cap = max(RATIO_GRACE_BYTES, int(info.compress_size * max_ratio))
        self.got = 0
        if info.flag_bits & 0x1:
            raise self._refused("encrypted", 0, 0, claimed=True)
        if refuse_claims:
            self._check(info.file_size, claimed=True)
        self._entry = archive.open(info)

    def limit(self, max_bytes: int | None) -> None:
        """Bound the member's own size from now on (raises at once if more was read already)."""
        self.max_bytes = max_bytes
        self._check(self.got)

    def _refused(self, kind: Limit, size: int, limit: int, *, claimed: bool) -> MemberRefused:
        return MemberRefused(kind, info=self.info, label=self.label, size=max(size, self.info.file_size), limit=limit,
                             max_ratio=self.max_ratio, claimed=claimed)

    def _check(self, size: int, *, claimed: bool = False) -> None:
        """Raise for the first limit that `size` bytes of this member break (of the budget: beyond what it was charged).

        Raised here, never held in a local of the reading frame: that would be a cycle (exception,
        traceback, frame) keeping the last chunk alive until the garbage collector runs.
        """
        if self.max_bytes is not None and size > self.max_bytes:
            raise self._refused("size", size, self.max_bytes, claimed=claimed)
        if size > self.ratio_cap:
            raise self._refused("ratio", size, self.ratio_cap, claimed=claimed)
        if self.budget is not None and size - self.got > self.budget.bytes_left:
            raise self._refused("budget", size, self.budget.total, claimed=claimed)

    def _room(self) -> int:
        """Bytes that may still be read before a limit breaks."""
        room = (self.ratio_cap if self.max_bytes is None else min(self.ratio_cap, self.max_bytes)) - self.got
        return room if self.budget is None else min(room, self.budget.bytes_left)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` bytes (a chunk at most), handed on only within the limits: no copy, no buffer to fill."""
        if size < 0:
            return self.readall()
        # One byte past the nearest limit at most: the first limit broken is the one reported.
        data = self._entry.read(min(size, READ_CHUNK, self._room() + 1))
        self.got += len(data)
        if self.budget is not None:
            self.budget.bytes_left -= len(data)  # what was read counts, refused or not
        self._check(self.got)
        return data

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed and hasattr(self, "_entry"):
            self._entry.close()
        super().close()


def member_open(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, max_bytes: int, max_ratio: float,
                budget: ReadBudget | None = None, label: str | None = None) -> io.BufferedReader:
    """The member as a buffered binary stream, bounded (raises MemberRefused); its header's claims refuse early."""
    raw = BoundedMember(archive, info, max_bytes=max_bytes, max_ratio=max_ratio, budget=budget, label=label)
    return io.BufferedReader(raw, buffer_size=64 * 1024)


def member_read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, max_bytes: int, max_ratio: float,
                budget: ReadBudget | None = None, label: str | None = None) -> bytes:
    """The whole member, read in chunks and never more than `max_bytes` of it (raises MemberRefused)."""
    with member_open(archive, info, max_bytes=max_bytes, max_ratio=max_ratio, budget=budget, label=label) as stream:
        parts = []
        while chunk := stream.read(READ_CHUNK):
            parts.append(chunk)
        return b"".join(parts)
