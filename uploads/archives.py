"""Expand an uploaded zip (and the zips inside it) into members, refusing what is hostile.

Athletes upload Garmin exports (zips of zips), Strava exports and hand-made zips, so
nothing in an archive is trusted: names may escape (``../``, absolute, drive letters, NUL
bytes), sizes in the headers may lie, and a few hundred bytes may inflate to gigabytes.

Every entry is read through ``stravasync.zipread`` (the bounded member read the export import
uses too) into a ``Spool`` (the copy plain uploads get), and the limits hold *while* it reads: one
file's size, its compression ratio, and the bytes of the whole tree (the outer zip and every zip
inside it, one ``ReadBudget``); what the headers claim is never trusted. The entries of the tree,
its deadline and its nesting are counted here. A nested zip is opened from its spool file, never
from memory. Problems with one entry (its name, its ratio, its size, bad
CRC) refuse that entry alone. A limit of the whole tree (its bytes, the deadline) refuses the
rest of the upload in one Member; the first zip nested deeper than ``max_depth`` is refused and
no later nested zip is expanded (they are counted in one Member at the end), so a 42.zip yields
a handful of Members, not one per entry.
"""

from __future__ import annotations

import os
import stat
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from stravasync.zipread import UNREADABLE, BoundedMember, MemberRefused, ReadBudget

from .names import member_name_problem
from .spool import Spool

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
IN_MEMORY = 256 * 1024  # members up to this size are spooled in memory (no file of their own)
TAR_REFUSAL = "unsupported: tar archives are not supported (upload the files themselves, or a zip)"


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds for one archive tree (the outer zip and every zip inside it)."""

    max_total_bytes: int = 2 * 1024**3  # bytes read out of the tree, refused entries included
    max_entries: int = 20_000
    max_ratio: float = 200.0  # per entry, uncompressed/compressed
    max_depth: int = 3  # levels of zips inside the outer one
    max_member_bytes: int = 100 * 1024**2  # one file (a nested zip is bounded by the tree's bytes)


@dataclass
class Member:
    """One regular file of the archive tree, spooled to local disk, or why it was refused.

    The spool is valid until the next member is asked for (it is then deleted): read or copy it before.
    """

    name: str  # path inside the archive(s), e.g. "export.zip/DI_CONNECT/x.zip/a.fit"
    refusal: str | None = None
    spool: Spool | None = None

    @property
    def size(self) -> int:
        return self.spool.size if self.spool else 0

    @property
    def sha256(self) -> str:
        return self.spool.sha256 if self.spool else ""

    def read(self) -> bytes:
        """The whole content: only for small members (tests, a sweep of known files)."""
        if self.spool is None:
            return b""
        with self.spool.open() as fh:
            return fh.read()


class _TreeStop(Exception):
    """A limit of the whole tree was reached at `where`: nothing more of it is read."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(reason)
        self.where, self.reason = where, reason


def tar_refusal(head: bytes) -> str | None:
    """A clear reason for a tar (or gzipped tar) file, else None: content decides, not the name."""
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 512)
        except zlib.error:
            return None
    return TAR_REFUSAL if head[257:262] == b"ustar" else None


def _is_macos_metadata(name: str) -> bool:
    parts = name.split("/")
    return parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts[-1] == ".DS_Store"


class _Walker:
    """One walk of one tree: the budget left, and what has been refused for the tree as a whole."""

    def __init__(self, limits: ArchiveLimits, spool_dir: str | None, deadline: float | None,
                 wanted: Callable[[str], bool] | None) -> None:
        self.limits, self.spool_dir, self.deadline, self.wanted = limits, spool_dir, deadline, wanted
        self.budget = ReadBudget(limits.max_total_bytes)
        self.entries_left = limits.max_entries
        self.too_deep = False  # once a zip nests too deep, no later nested zip is expanded
        self.not_expanded = 0

    def run(self, source: str | os.PathLike[str] | BinaryIO, prefix: str) -> Iterator[Member]:
        label = prefix.rstrip("/") or (os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<archive>")
        try:
            yield from self._walk(source, prefix, label, 0)
        except _TreeStop as stop:
            yield Member(stop.where, f"{stop.reason}; the rest of {label} was not read")
        if self.not_expanded:
            yield Member(label, f"refused: {self.not_expanded} more nested zip(s) not expanded"
                                f" (this archive nests zips deeper than {self.limits.max_depth} levels)")

    def _walk(self, source: str | os.PathLike[str] | BinaryIO, prefix: str, label: str, depth: int) -> Iterator[Member]:
        try:
            archive = zipfile.ZipFile(source)
        except Exception as exc:  # any failure to open is a verdict on the archive, not a crash
            yield Member(label, f"unreadable: not a readable zip archive ({exc})")
            return
        with archive:
            infos = archive.infolist()
            if len(infos) > self.entries_left:
                limit = self.limits.max_entries
                yield Member(label, f"refused: {len(infos)} entries exceed the limit of {limit} per archive tree")
                return
            self.entries_left -= len(infos)
            for info in infos:
                if self.deadline is not None and time.monotonic() > self.deadline:
                    raise _TreeStop(label, "refused: the time allowed for one upload ran out")
                yield from self._entry(archive, info, prefix, depth)

    def _entry(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, prefix: str, depth: int) -> Iterator[Member]:
        name = info.orig_filename.replace("\\", "/")  # orig: zipfile cuts the name at a NUL byte
        full = prefix + name
        if info.is_dir() or _is_macos_metadata(name):
            return
        problem = member_name_problem(name)
        if problem:
            yield Member(full, problem)
            return
        if self.wanted is not None and not self.wanted(full):
            return
        if stat.S_ISLNK(info.external_attr >> 16):
            yield Member(full, "refused: symbolic link")
            return
        # A fresh spool per entry: emptying one for reuse (truncate to zero) makes ext4 flush it.
        with Spool(self.spool_dir, in_memory=IN_MEMORY) as spool:
            try:
                refusal = self._read(archive, info, spool, depth, full)
            except UNREADABLE as exc:  # bad CRC, bad deflate data, unsupported method: this entry only
                refusal = f"unreadable: {type(exc).__name__}: {exc}"
            if refusal == "":
                return  # a nested zip counted in the tree's one "not expanded" Member
            if refusal:
                yield Member(full, refusal)
            elif spool.head[:4] in _ZIP_MAGIC:
                with spool.open() as nested:
                    yield from self._walk(nested, full + "/", full, depth + 1)
            else:
                yield Member(full, None, spool)

    def _read(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, spool: Spool, depth: int, full: str) -> str | None:
        """Spool one entry within its limits: None if it was read whole, else the refusal ("" to count silently)."""
        limits = self.limits
        may_nest = not self.too_deep and depth < limits.max_depth
        try:
            with BoundedMember(archive, info, max_ratio=limits.max_ratio, budget=self.budget, refuse_claims=False) as entry:

                def cap_for(head: bytes) -> int:
                    if head[:4] in _ZIP_MAGIC:  # bounded by the tree's bytes; one too deep is read no further
                        return sys.maxsize if may_nest else 0
                    entry.limit(limits.max_member_bytes)
                    return sys.maxsize

                stopped = spool.fill(entry, cap=cap_for, deadline=self.deadline)
        except MemberRefused as refused:
            if refused.kind == "budget":
                raise _TreeStop(full, f"refused: archive expands beyond {limits.max_total_bytes} bytes in total") from None
            return _refusal(refused)
        if stopped == "deadline":
            raise _TreeStop(full, "refused: the time allowed for one upload ran out")
        if stopped is None:
            return None
        if self.too_deep:  # stopped at the head of a nested zip too deep
            self.not_expanded += 1
            return ""
        self.too_deep = True
        return f"refused: nested zip deeper than {limits.max_depth} levels"


def _refusal(refused: MemberRefused) -> str:
    """An upload row's wording for a member's broken limit."""
    if refused.kind == "encrypted":
        return "refused: encrypted entry"
    if refused.kind == "size":
        return f"refused: larger than {refused.limit} bytes"
    return (f"refused: compression ratio {refused.ratio:.0f}:1 exceeds {refused.max_ratio:.0f}:1"
            f" ({refused.info.compress_size} bytes expand beyond {refused.limit})")


def iter_zip_members(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    limits: ArchiveLimits = ArchiveLimits(),  # frozen, so sharing the default is safe
    prefix: str = "",
    spool_dir: str | None = None,
    deadline: float | None = None,
    wanted: Callable[[str], bool] | None = None,
) -> Iterator[Member]:
    """Yield every regular file of the zip (nested zips expanded), spooled, or a refusal.

    Directories and macOS metadata (``__MACOSX/``, ``._*``, ``.DS_Store``) are skipped, and so
    are entries whose full name `wanted` rejects (unread: they cost no bytes). Past `deadline`
    (a ``time.monotonic()`` value) the rest is refused in one Member. Nothing here raises for
    bad content; each spool is deleted when the next Member is asked for.
    """
    yield from _Walker(limits, spool_dir, deadline, wanted).run(source, prefix)
