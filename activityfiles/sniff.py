"""The format of a file from its first bytes: content decides, never the file name."""

from __future__ import annotations

import re

_XML_ROOT = re.compile(
    rb"(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>)*"
    rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)(?=[\s/>])",
    re.S,
)


def _xml_text(head: bytes) -> bytes:
    """The head without BOM, as UTF-8 if it was UTF-16, for the cheap regex looks."""
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return head.decode("utf-16", "ignore").encode()
    return head


def sniff_type(head: bytes) -> str | None:
    """Type from the first bytes: "fit", "gzip", "zip", "gpx", "tcx", or None.

    Give at least 64 bytes; GPX/TCX need their root element inside ``head``.
    """
    if len(head) >= 12 and head[0] >= 12 and head[8:12] == b".FIT":
        return "fit"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    match = _XML_ROOT.match(_xml_text(head))
    if match:
        root = match.group(1)
        if root == b"gpx":
            return "gpx"
        if root == b"TrainingCenterDatabase":
            return "tcx"
    return None


def looks_like_xml(head: bytes) -> bool:
    """Some XML, maybe not GPX/TCX: worth a parse so the verdict can name its root."""
    return _xml_text(head).lstrip()[:1] == b"<"
