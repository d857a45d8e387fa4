"""Spool files: where an upload or an archive member is copied, bounded, before anything accepts it.

One copy for everything a person sends (a plain upload, a zip member, a nested zip): it copies
in chunks, hashes as it goes and stops one chunk past its cap, so memory never depends on what
the input expands to (a small input is kept in memory, up to a fixed size). A zip member comes
through ``stravasync.zipread``, which holds the member's own limits (size, ratio, the archive's bytes). A larger one goes to
a local temporary file, held with an exclusive ``flock`` by the request that made it; the lock
dies with its process, so a spool nobody holds is a leftover of a killed request and
``spool_clean`` may delete it.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol

CHUNK = 1024 * 1024
HEAD = 64 * 1024  # read first, so the cap may depend on what the content is (a zip or a file)
PREFIX = "stravasync-spool-"


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class Spool:
    """``with Spool(dir) as spool: spool.fill(stream, cap=...)``: in memory while it is small, else a file.

    Up to `in_memory` bytes stay in memory (as Django keeps small uploads); past that, everything
    goes to a temporary file this process holds. Small files thus cost no file of their own.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None, *, in_memory: int = 0) -> None:
        self.directory, self.in_memory = directory, in_memory
        self._buffer: io.BytesIO | None = io.BytesIO()
        self._file: BinaryIO | None = None
        self._path: Path | None = None
        self._digest = hashlib.sha256()
        self.size = 0
        self.head = b""
        if in_memory <= 0:
            self._to_disk()

    def _to_disk(self) -> BinaryIO:
        if self._file is None:
            fd, name = tempfile.mkstemp(dir=self.directory, prefix=PREFIX)
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._path, self._file = Path(name), os.fdopen(fd, "w+b")
            if self._buffer is not None:
                self._file.write(self._buffer.getbuffer())
                self._buffer = None
        return self._file

    def _write(self, chunk: bytes) -> None:
        if self._buffer is not None and self.size <= self.in_memory:
            self._buffer.write(chunk)
        else:
            self._to_disk().write(chunk)

    def fill(self, stream: Readable, *, cap: int | Callable[[bytes], int], deadline: float | None = None) -> str | None:
        """Copy `stream` in; None when all of it fit, else why it stopped: "size" or "deadline".

        `cap` may be a function of the first HEAD bytes. Reading stops at most one chunk past the
        cap (size then tells how far it got) and as soon as `deadline` (time.monotonic) is past.
        """
        limit = cap if isinstance(cap, int) else None
        while True:
            want = HEAD if self.size == 0 else CHUNK
            if limit is not None:
                want = min(want, limit + 1 - self.size)
            chunk = stream.read(want)
            if not chunk:
                break
            if self.size == 0:
                self.head = chunk[:HEAD]
            if limit is None:
                limit = cap(self.head) if callable(cap) else cap
            self.size += len(chunk)
            if self.size > limit:
                return "size"
            self._digest.update(chunk)
            self._write(chunk)
            if deadline is not None and time.monotonic() > deadline:
                return "deadline"
        if self._file is not None:
            self._file.flush()
        return None

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    @property
    def data(self) -> bytes | None:
        """The content when it is held in memory (small), else None: read it through open()."""
        return self._buffer.getvalue() if self._buffer is not None else None

    @property
    def path(self) -> Path:
        """The spool file (a small spool is written to one first)."""
        self._to_disk().flush()
        assert self._path is not None
        return self._path

    def open(self) -> BinaryIO:
        """A fresh reader of what was spooled."""
        if self._buffer is not None:
            return io.BytesIO(self._buffer.getbuffer())
        return open(self.path, "rb")

    def close(self) -> None:
        if self._path is not None:
            self._path.unlink(missing_ok=True)
        if self._file is not None:
            self._file.close()  # releases the lock; the name is gone already
        self._buffer = None

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def spool_clean(directory: str | os.PathLike[str] | None = None, *, min_age: float = 60.0) -> int:
    """Delete spool files that no live process holds and that are older than `min_age` seconds.

    The age guards the instant between a spool's creation and its lock. Returns how many went.
    """
    removed = 0
    now = time.time()
    for path in Path(directory or tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            if now - path.stat().st_mtime < min_age:
                continue
            with open(path, "rb") as fh:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live request still reads it
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
