"""Gzip, bounded: a bomb is refused by what it expands to, never by what its header claims.

The sweep decompresses the whole stream (so a bomb is refused before anything is
forwarded) and classifies the inner bytes on the way; the track reader gunzips in one
bounded step.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable

from .sniff import sniff_type
from .verdict import Sink, Verdict, failed

GZIP_STEP = 1024 * 1024  # decompress at most this much per step, so memory stays bounded
DEFAULT_MAX_GUNZIP_BYTES = 200 * 1024 * 1024


def gunzip(data: bytes, limit: int = DEFAULT_MAX_GUNZIP_BYTES) -> bytes | None:
    """The first gzip member decompressed; None if it grows past ``limit`` (a bomb) or is damaged."""
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        return None
    return None if len(out) > limit else out


class GzipSink:
    """Stream-decompress, refusing past ``max_bytes``; classify the inner bytes on the way.

    ``make_inner(head)`` picks the classifier for the inner bytes from their first 4 KiB.
    """

    def __init__(self, max_bytes: int, make_inner: Callable[[bytes], Sink]) -> None:
        self.max_bytes = max_bytes
        self.make_inner = make_inner
        self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.total = 0
        self.head = bytearray()
        self.inner: Sink | None = None
        self.inner_kind: str | None = None
        self.verdict: Verdict | None = None
        self.trailing = False

    def _failed(self, reason: str) -> Verdict:
        """A failure of the wrapper; data_type still names the inner type once it is known."""
        kind = sniff_type(bytes(self.head[:4096])) if self.inner is None else self.inner_kind
        return failed(reason, f"{kind}.gz" if kind in ("fit", "gpx", "tcx") else None)

    def feed(self, chunk: bytes) -> Verdict | None:
        data = chunk
        while data and not self.trailing:
            if self.inflater.eof:  # another gzip member, or trailing garbage (ignored, as gzip(1) does)
                if data[:2] != b"\x1f\x8b":
                    self.trailing = True
                    break
                self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                out = self.inflater.decompress(data, GZIP_STEP)
            except zlib.error as exc:
                return self._failed(f"unreadable: gzip: {exc}")
            data = self.inflater.unconsumed_tail or (self.inflater.unused_data if self.inflater.eof else b"")
            self.total += len(out)
            if self.total > self.max_bytes:
                return self._failed(f"refused: gzip expands beyond {self.max_bytes} bytes")
            if self.verdict is None and out:
                self.verdict = self._inner_feed(out)
        return None

    def _inner_feed(self, out: bytes) -> Verdict | None:
        if self.inner is None:
            self.head += out
            if len(self.head) < 4096:  # enough to sniff the inner type
                return None
            out = bytes(self.head)
            self.inner_kind = sniff_type(out)
            self.inner = self.make_inner(out)
        return self.inner.feed(out)

    def finish(self) -> Verdict:
        if not self.inflater.eof:
            return self._failed("unreadable: gzip stream is truncated")
        if self.verdict is None:
            if self.inner is None:
                self.inner = self.make_inner(bytes(self.head))
                self.verdict = self.inner.feed(bytes(self.head))
            if self.verdict is None:
                self.verdict = self.inner.finish()
        verdict = self.verdict
        if verdict.data_type in ("fit", "gpx", "tcx"):
            verdict = dataclasses.replace(verdict, data_type=f"{verdict.data_type}.gz")
        return verdict

