"""Decide from a file's content whether Strava should get it: eligible, junk or failed.

The sweep runs this on every file an athlete hands us, so it reads as little as it can:
a FIT file's header and the messages up to its ``file_id`` (activityfiles.fit); a
GPX/TCX file up to its first timestamped track point (activityfiles.gpx_tcx). Gzip is
decompressed in full, streaming and bounded (activityfiles.compressed), the inner bytes
are classified and ``data_type`` gains ``.gz``. Content decides the type, never the name.
Each decision is tested in tests/activityfiles/test_classify.py against real files.
"""

from __future__ import annotations

import os
from datetime import datetime
from functools import partial

from .compressed import DEFAULT_MAX_GUNZIP_BYTES, GzipSink
from .fit import FIRST_READ, FitSink, Reader, bytes_readers, fit_data_end, fit_verdict, recorder
from .fit_recorded import fit_datetime, fit_recorded
from .gpx_tcx import XML_CHUNK, XmlSink
from .sniff import looks_like_xml, sniff_type
from .sports import strava_sport
from .verdict import Fixed, Sink, Verdict, failed


def _make_sink(head: bytes, max_gunzip_bytes: int, nested: bool = False) -> Sink:
    kind = sniff_type(head)
    if kind == "fit":
        return FitSink()
    if kind in ("gpx", "tcx") or (kind is None and looks_like_xml(head)):
        return XmlSink()
    if kind == "gzip":
        if nested:
            return Fixed(failed("unsupported: gzip inside gzip"))
        return GzipSink(max_gunzip_bytes, partial(_make_sink, max_gunzip_bytes=max_gunzip_bytes, nested=True))
    if kind == "zip":
        where = " inside gzip" if nested else ""
        return Fixed(failed(f"unsupported: zip archive{where} (expand it with uploads.archives first)"))
    if not head:
        return Fixed(failed("unreadable: empty file"))
    return Fixed(failed("unreadable: unrecognized content (not FIT, GPX, TCX or gzip)"))


def classify_bytes(data: bytes, *, max_gunzip_bytes: int = DEFAULT_MAX_GUNZIP_BYTES) -> Verdict:
    """Classify a whole file held in memory (an archive member, an upload)."""
    head = data[:FIRST_READ]
    if sniff_type(head) == "fit":
        verdict = fit_verdict(data, eof=True, recorded=recorder(*bytes_readers(data)))
        assert verdict is not None
        return verdict
    sink = _make_sink(head, max_gunzip_bytes)
    return sink.feed(data) or sink.finish()


def _read(fd: int, n: int) -> bytes:
    """Up to n bytes; fewer only at end of file (one read call in the usual case)."""
    data = os.read(fd, n)
    if len(data) < n:  # regular files return short only at EOF, but pipes may not: confirm
        parts = [data]
        got = len(data)
        while got < n:
            more = os.read(fd, n - got)
            if not more:
                break
            parts.append(more)
            got += len(more)
        data = b"".join(parts)
    return data


def _file_readers(fd: int, head: bytes) -> tuple[Reader, Reader]:
    """read_tail / read_head for an open FIT file of which ``head`` has been read (no re-read of it)."""
    end = fit_data_end(head)

    def read_tail(n: int) -> bytes:
        if end is not None and end <= len(head):
            return head[max(0, end - n) : end]
        if end is not None:
            data = os.pread(fd, n, max(0, end - n))  # one system call, no seek
            if len(data) == min(n, end):
                return data
            # data_size says more than the file holds (truncated): its tail is the file's tail.
        size = os.fstat(fd).st_size
        if size <= len(head):
            return head[max(0, size - n) :]
        return os.pread(fd, n, max(0, size - n))

    def read_head(n: int) -> bytes:
        return head[:n] if n <= len(head) else os.pread(fd, n, 0)

    return read_tail, read_head


def _recorded(fd: int, head: bytes) -> tuple[datetime | None, str | None, bool]:
    """fit.recorder's answer for an open file, in fewer calls (the sweep's hot path)."""
    found = fit_recorded(head, *_file_readers(fd, head))
    sport, trainer = strava_sport(found.sport, found.sub_sport)
    return fit_datetime(found.start), sport, trainer


def classify_file(path: str | os.PathLike[str], *, max_gunzip_bytes: int = DEFAULT_MAX_GUNZIP_BYTES) -> Verdict:
    """Classify a file on disk, reading only what the verdict needs.

    FIT: one read of FIRST_READ bytes, more only if the file_id lies further in; for an
    activity, one read of the 2 KiB before its end for the session (activityfiles.fit_recorded).
    GPX/TCX: chunks up to the first timed track point. Gzip: the whole stream (bomb check).
    Plain file descriptors, no file object: on the sweep's millions of small reads a file
    object costs as much as the FIT parsing (bench/classify.py).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        return failed(f"unreadable: {exc.strerror or exc}")
    try:
        head = _read(fd, FIRST_READ)
        if len(head) >= 12 and head[0] >= 12 and head[8:12] == b".FIT":  # sniff_type(head) == "fit", inlined
            buf, eof = head, len(head) < FIRST_READ
            while True:
                # The readers are made only for an activity: junk needs no more than the head.
                verdict = fit_verdict(buf, eof, recorded=partial(_recorded, fd))
                if verdict is not None:
                    return verdict
                more = _read(fd, len(buf))
                eof = len(more) < len(buf)
                buf += more
        sink = _make_sink(head, max_gunzip_bytes)
        verdict = sink.feed(head)
        while verdict is None:
            chunk = os.read(fd, XML_CHUNK)
            if not chunk:
                return sink.finish()
            verdict = sink.feed(chunk)
        return verdict
    except OSError as exc:
        return failed(f"unreadable: {exc.strerror or exc}")
    finally:
        os.close(fd)
