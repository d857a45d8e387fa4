"""Members of an export zip read as bounded streams: memory never depends on what a member expands to.

The sizes a zip's headers claim may lie, so they only refuse early: the limits (bytes of the
member, bytes of the whole import, expansion ratio) are enforced on what is actually read,
chunk by chunk, and the read stops one chunk past the first one it breaks.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

READ_CHUNK = 1024 * 1024
# Below this a member cannot be a bomb: tiny, very regular files (an empty CSV) may exceed the ratio.
RATIO_GRACE_BYTES = 1024 * 1024


class MemberRefused(Exception):
    """A member broke a limit: the message says which, for the athlete."""


# What a damaged or unusual zip raises while a member is read: a verdict on the file, not a program error.
UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError)


@dataclass
class ReadBudget:
    """What is left to read of one archive, shared by all of its members."""

    bytes_left: int
    total: int


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover - the loop always returns


class BoundedMember(io.RawIOBase):
    """A zip member as a raw binary stream that raises MemberRefused past its limits."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, max_bytes: int, max_ratio: float,
                 budget: ReadBudget | None = None, label: str | None = None) -> None:
        super().__init__()
        self.info = info
        self.label = label or info.filename
        self.max_bytes = max_bytes
        self.ratio_cap = max(RATIO_GRACE_BYTES, int(info.compress_size * max_ratio))
        self.max_ratio = max_ratio
        self.budget = budget
        self.got = 0
        # What the header claims refuses at once; what is read is checked all the same.
        if info.flag_bits & 0x1:
            raise MemberRefused(f"{self.label} is encrypted: export the archive again without a password")
        if info.file_size > max_bytes:
            raise MemberRefused(f"{self.label} expands to {_size(info.file_size)}, more than the {_size(max_bytes)} allowed")
        if info.file_size > self.ratio_cap:
            raise MemberRefused(self._ratio_reason(info.file_size))
        if budget is not None and info.file_size > budget.bytes_left:
            raise MemberRefused(self._budget_reason())
        self._entry = archive.open(info)

    def _ratio_reason(self, size: int) -> str:
        ratio = size / max(1, self.info.compress_size)
        return (f"{self.label}: {_size(self.info.compress_size)} expand to {_size(size)} or more ({ratio:.0f}:1, "
                f"more than {self.max_ratio:.0f}:1): refused as a compression bomb")

    def _budget_reason(self) -> str:
        total = self.budget.total if self.budget is not None else 0
        return f"the archive expands to more than {_size(total)} in total: {self.label} refused"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        wanted = min(len(buffer), READ_CHUNK)
        data = self._entry.read(wanted)
        n = len(data)
        self.got += n
        if self.got > self.max_bytes:
            raise MemberRefused(f"{self.label} expands beyond the {_size(self.max_bytes)} allowed")
        if self.got > self.ratio_cap:
            raise MemberRefused(self._ratio_reason(self.got))
        if self.budget is not None:
            self.budget.bytes_left -= n
            if self.budget.bytes_left < 0:
                raise MemberRefused(self._budget_reason())
        buffer[:n] = data
        return n

    def close(self) -> None:
        if not self.closed and hasattr(self, "_entry"):
            self._entry.close()
        super().close()


def member_open(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, max_bytes: int, max_ratio: float,
                budget: ReadBudget | None = None, label: str | None = None) -> io.BufferedReader:
    """The member as a buffered binary stream, bounded (raises MemberRefused)."""
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
