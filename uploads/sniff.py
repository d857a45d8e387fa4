"""Decide from a file's content whether Strava should get it: eligible, junk or failed.

The sweep runs this on every file an athlete hands us, and most of a Garmin export is
monitoring, sleep and settings files, so it reads as little as it can: a FIT file's
header and the messages up to its ``file_id``; a GPX/TCX file up to its first
timestamped track point. Content decides the type, never the file name.

Decisions (each tested in tests/uploads/test_sniff.py against real files):

* FIT ``file_id.type == 4`` (activity) is eligible. Every other type is junk named by its
  type (``junk: monitoring_b file``, ``junk: 49 file``); a ``file_id`` without a type is
  junk too. A file with no readable ``file_id`` is failed.
* Header CRC ``0x0000`` means "not computed" and is accepted. A wrong non-zero header CRC
  is not a gate either: if the messages still lead to a ``file_id``, the data decides.
  Only when they do not is the verdict ``unreadable: bad header CRC ...`` (after one more
  try that ignores the header's ``data_size``, the field a corrupt header most often
  breaks).
* The file CRC is not checked and the tail is not read: a file whose ``file_id`` is
  readable is classified by it even if its tail is truncated or corrupt. Strava is the
  final judge, and checking would mean reading every byte of every file. A file that
  ends before its ``file_id`` is failed (``unreadable: file ends ... before the file_id``).
* ``data_size == 0`` (Edge 1030, Zwift) means "read on to the end of the file".
* Chained FIT files are classified by the first one.
* Gzip is decompressed in full, streaming, so a bomb is refused before anything is
  forwarded; the inner bytes are classified and ``data_type`` gains ``.gz``.
* XML with a DOCTYPE (and so any entity declaration) is refused: GPX and TCX never need
  one, and entity expansion is how XML bombs work.
"""

from __future__ import annotations

import dataclasses
import os
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO, Protocol
from xml.parsers import expat

ELIGIBLE = "eligible"
JUNK = "junk"
FAILED = "failed"

FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z as a Unix timestamp
FIT_FIRST_DATE = 0x10000000  # smaller time values count from device power-up, not dates
FIT_TYPE_ACTIVITY = 4

# One page. Every real file we have seen has its file_id in the first KiB (the furthest, a
# Stages workout behind 21 developer-data messages, at byte 964); a 64 KiB first read
# measured twice as slow per file, and the rare file_id further in costs one more read.
FIRST_READ = 4096
MAX_FIT_SCAN_BYTES = 1024 * 1024  # give up looking for a file_id after this much
MAX_FIT_MESSAGES = 1000  # ... or after this many messages (a Stages file has 21 first)
XML_CHUNK = 256 * 1024
GZIP_STEP = 1024 * 1024  # decompress at most this much per step, so memory stays bounded
DEFAULT_MAX_GUNZIP_BYTES = 200 * 1024 * 1024

FILE_TYPES: dict[int, str] = {
    1: "device", 2: "settings", 3: "sport", 4: "activity", 5: "workout", 6: "course", 7: "schedules",
    9: "weight", 10: "totals", 11: "goals", 14: "blood_pressure", 15: "monitoring_a", 20: "activity_summary",
    28: "monitoring_daily", 32: "monitoring_b", 34: "segment", 35: "segment_list", 40: "exd_configuration",
    247: "mfg_range_min", 254: "mfg_range_max",
}  # fmt: skip

# FIT SDK profile, Manufacturer enum (number:name). Unknown numbers are reported as digits.
_MANUFACTURERS = """
1:garmin 2:garmin_fr405_antfs 3:zephyr 4:dayton 5:idt 6:srm 7:quarq 8:ibike 9:saris 10:spark_hk 11:tanita
12:echowell 13:dynastream_oem 14:nautilus 15:dynastream 16:timex 17:metrigear 18:xelic 19:beurer 20:cardiosport
21:a_and_d 22:hmm 23:suunto 24:thita_elektronik 25:gpulse 26:clean_mobile 27:pedal_brain 28:peaksware 29:saxonar
30:lemond_fitness 31:dexcom 32:wahoo_fitness 33:octane_fitness 34:archinoetics 35:the_hurt_box
36:citizen_systems 37:magellan 38:osynce 39:holux 40:concept2 41:shimano 42:one_giant_leap 43:ace_sensor
44:brim_brothers 45:xplova 46:perception_digital 47:bf1systems 48:pioneer 49:spantec 50:metalogics 51:4iiiis
52:seiko_epson 53:seiko_epson_oem 54:ifor_powell 55:maxwell_guider 56:star_trac 57:breakaway
58:alatech_technology_ltd 59:mio_technology_europe 60:rotor 61:geonaute 62:id_bike 63:specialized 64:wtek
65:physical_enterprises 66:north_pole_engineering 67:bkool 68:cateye 69:stages_cycling 70:sigmasport 71:tomtom
72:peripedal 73:wattbike 76:moxy 77:ciclosport 78:powerbahn 79:acorn_projects_aps 80:lifebeam 81:bontrager
82:wellgo 83:scosche 84:magura 85:woodway 86:elite 87:nielsen_kellerman 88:dk_city 89:tacx
90:direction_technology 91:magtonic 92:1partcarbon 93:inside_ride_technologies 94:sound_of_motion 95:stryd
96:icg 97:MiPulse 98:bsx_athletics 99:look 100:campagnolo_srl 101:body_bike_smart 102:praxisworks
103:limits_technology 104:topaction_technology 105:cosinuss 106:fitcare 107:magene 108:giant_manufacturing_co
109:tigrasport 110:salutron 111:technogym 112:bryton_sensors 113:latitude_limited 114:soaring_technology
115:igpsport 116:thinkrider 117:gopher_sport 118:waterrower 119:orangetheory 120:inpeak 121:kinetic
122:johnson_health_tech 123:polar_electro 124:seesense 125:nci_technology 126:iqsquare 127:leomo 128:ifit_com
129:coros_byte 130:versa_design 131:chileaf 132:cycplus 133:gravaa_byte 134:sigeyi 135:coospo 136:geoid
137:bosch 138:kyto 139:kinetic_sports 140:decathlon_byte 141:tq_systems 142:tag_heuer 143:keiser_fitness
144:zwift_byte 145:porsche_ep 146:blackbird 147:meilan_byte 148:ezon 149:laisi 150:myzone 151:abawo 152:bafang
153:luhong_technology 255:development 257:healthandlife 258:lezyne 259:scribe_labs 260:zwift 261:watteam
262:recon 263:favero_electronics 264:dynovelo 265:strava 266:precor 267:bryton 268:sram 269:navman 270:cobi
271:spivi 272:mio_magellan 273:evesports 274:sensitivus_gauge 275:podoon 276:life_time_fitness
277:falco_e_motors 278:minoura 279:cycliq 280:luxottica 281:trainer_road 282:the_sufferfest 283:fullspeedahead
284:virtualtraining 285:feedbacksports 286:omata 287:vdo 288:magneticdays 289:hammerhead 290:kinetic_by_kurt
291:shapelog 292:dabuziduo 293:jetblack 294:coros 295:virtugo 296:velosense 297:cycligentinc 298:trailforks
299:mahle_ebikemotion 300:nurvv 301:microprogram 302:zone5cloud 303:greenteg 304:yamaha_motors 305:whoop
306:gravaa 307:onelap 308:monark_exercise 309:form 310:decathlon 311:syncros 312:heatup 313:cannondale
314:true_fitness 315:RGT_cycling 316:vasa 317:race_republic 318:fazua 319:oreka_training 320:lsec
321:lululemon_studio 322:shanyue 323:spinning_mda 324:hilldating 325:aero_sensor 326:nike 327:magicshine
328:ictrainer 329:absolute_cycling 330:eo_swimbetter 331:mywhoosh 332:ravemen 333:tektro_racing_products
334:darad_innovation_corporation 335:cycloptim 337:runna 339:zepp 340:peloton 341:carv 342:tissot 345:real_velo
346:wetech 347:jespr 348:huawei 349:gotoes 350:cadence_app 5759:actigraphcorp
"""
MANUFACTURERS: dict[int, str] = {
    int(number): name for number, name in (pair.split(":") for pair in _MANUFACTURERS.split())
}

_CRC_TABLE = (
    0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
    0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
)  # fmt: skip

# file_id fields we read: type, manufacturer, product, time_created, product_name.
_FILE_ID_FIELDS = frozenset((0, 1, 2, 4, 8))


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the sweep decided about one file, and the little it learnt on the way."""

    status: str  # "eligible" | "junk" | "failed"
    data_type: str | None  # Strava's data_type for the bytes as given ("fit", "fit.gz", "gpx", ...)
    reason: str  # "" when eligible
    file_type: str | None  # FIT file_id.type name ("activity", "monitoring_b", "49", ...) or "gpx"/"tcx"
    start_time: datetime | None  # aware UTC
    sport: str | None = None
    manufacturer: str | None = None
    product: str | None = None  # FIT product number as digits (or product_name when there is no number)


def _failed(reason: str, data_type: str | None = None, file_type: str | None = None) -> Verdict:
    return Verdict(FAILED, data_type, reason, file_type, None)


def fit_crc16(data: bytes, crc: int = 0) -> int:
    """The FIT SDK's CRC-16 (the header CRC covers bytes 0-11)."""
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 4) ^ table[crc & 0xF] ^ table[byte & 0xF]
        crc = (crc >> 4) ^ table[crc & 0xF] ^ table[byte >> 4]
    return crc


# --------------------------------------------------------------------------- sniffing

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


def _looks_like_xml(head: bytes) -> bool:
    return _xml_text(head).lstrip()[:1] == b"<"


# --------------------------------------------------------------------------- FIT


def _ran_out(n: int, end: int, limit: int, eof: bool) -> Verdict | None:
    """The scan reached the end of what it has: no file_id, truncated, or read more (None)."""
    if end and limit == end:
        return _failed("unreadable: no file_id message in the FIT data", "fit")
    if eof:
        return _failed(f"unreadable: file ends at byte {n}, before the file_id message (truncated)", "fit")
    if n >= MAX_FIT_SCAN_BYTES:
        return _failed(f"unreadable: no file_id message in the first {n} bytes", "fit")
    return None


def _file_id_verdict(buf: bytes, start: int, big: bool, layout: tuple[tuple[int, int, int], ...]) -> Verdict:
    order = "big" if big else "little"
    ftype = manufacturer = product = created = None
    product_name = None
    for num, off, size in layout:
        raw = buf[start + off : start + off + size]
        if num == 8:
            product_name = raw.split(b"\0", 1)[0].decode("utf-8", "replace") or None
            continue
        value = int.from_bytes(raw, order)
        if value == (1 << (8 * size)) - 1:  # all bits set: FIT's "invalid" (field not given)
            continue
        if num == 0:
            ftype = value
        elif num == 1:
            manufacturer = value
        elif num == 2:
            product = value
        elif num == 4:
            created = value
    start_time = None
    if created is not None and created >= FIT_FIRST_DATE:
        start_time = datetime.fromtimestamp(FIT_EPOCH + created, UTC)
    maker = None if manufacturer is None else MANUFACTURERS.get(manufacturer, str(manufacturer))
    model = product_name if product is None else str(product)
    if ftype == FIT_TYPE_ACTIVITY:
        return Verdict(ELIGIBLE, "fit", "", "activity", start_time, None, maker, model)
    if ftype is None:
        return Verdict(JUNK, "fit", "junk: file_id has no file type", None, start_time, None, maker, model)
    name = FILE_TYPES.get(ftype, str(ftype))
    return Verdict(JUNK, "fit", f"junk: {name} file", name, start_time, None, maker, model)


def _scan_fit(buf: bytes, eof: bool, trust_size: bool = True) -> Verdict | None:
    """Walk the records up to the first file_id; None means "give me more bytes"."""
    n = len(buf)
    if n < 12 or n < buf[0]:
        return None if not eof else _failed(f"unreadable: truncated FIT header ({n} bytes)", "fit" if n else None)
    hsize = buf[0]
    if hsize < 12 or buf[8:12] != b".FIT":
        return _failed("unreadable: not a FIT file (no .FIT signature)")
    data_size = int.from_bytes(buf[4:8], "little")
    end = hsize + data_size if data_size and trust_size else 0
    limit = end if end and end < n else n
    pos = hsize
    # local message number -> (global number, data size, big-endian, file_id layout)
    defs: list[tuple[int, int, bool, tuple[tuple[int, int, int], ...]] | None] = [None] * 16
    for _ in range(MAX_FIT_MESSAGES):
        if pos >= limit:
            return _ran_out(n, end, limit, eof)
        header = buf[pos]
        if header & 0xC0 == 0x40:  # definition message
            if pos + 6 > limit:
                return _ran_out(n, end, limit, eof)
            fields_end = dev_end = pos + 6 + 3 * buf[pos + 5]
            if header & 0x20:  # developer field definitions follow
                if fields_end >= limit:
                    return _ran_out(n, end, limit, eof)
                dev_end = fields_end + 1 + 3 * buf[fields_end]
            if dev_end > limit:
                return _ran_out(n, end, limit, eof)
            arch = buf[pos + 2]
            if arch > 1:
                return _failed(f"unreadable: bad architecture byte {arch} in a definition at byte {pos}", "fit")
            big = arch == 1
            gnum = (buf[pos + 3] << 8 | buf[pos + 4]) if big else (buf[pos + 3] | buf[pos + 4] << 8)
            size = sum(buf[pos + 7 : fields_end : 3])
            if dev_end > fields_end:
                size += sum(buf[fields_end + 2 : dev_end : 3])
            layout: tuple[tuple[int, int, int], ...] = ()
            if gnum == 0:
                offsets = []
                offset = 0
                for i in range(pos + 6, fields_end, 3):
                    if buf[i] in _FILE_ID_FIELDS and buf[i + 1]:
                        offsets.append((buf[i], offset, buf[i + 1]))
                    offset += buf[i + 1]
                layout = tuple(offsets)
            defs[header & 0x0F] = (gnum, size, big, layout)
            pos = dev_end
            continue
        # data message: normal header (local in bits 0-3) or compressed timestamp (bits 5-6)
        local = (header >> 5) & 3 if header & 0x80 else header & 0x0F
        definition = defs[local]
        if definition is None:
            return _failed(f"unreadable: data message for undefined local message {local} at byte {pos}", "fit")
        gnum, size, big, layout = definition
        if pos + 1 + size > limit:
            return _ran_out(n, end, limit, eof)
        if gnum == 0:
            return _file_id_verdict(buf, pos + 1, big, layout)
        pos += 1 + size
    return _failed(f"unreadable: no file_id in the first {MAX_FIT_MESSAGES} messages", "fit")


def _classify_fit(buf: bytes, eof: bool) -> Verdict | None:
    """_scan_fit plus the header-CRC decision (see the module docstring); None: read more."""
    try:
        verdict = _scan_fit(buf, eof)
        if verdict is None or verdict.status != FAILED or len(buf) < 14 or buf[0] < 14:
            return verdict
        stored = buf[12] | buf[13] << 8
        computed = fit_crc16(buf[:12])
        if not stored or stored == computed or buf[8:12] != b".FIT":
            return verdict
        retry = _scan_fit(buf, eof, trust_size=False)
        if retry is None or retry.status != FAILED:
            return retry
        detail = verdict.reason.removeprefix("unreadable: ")
        return _failed(f"unreadable: bad header CRC (0x{stored:04X}, expected 0x{computed:04X}); {detail}", "fit")
    except (IndexError, ValueError, OverflowError) as exc:  # a bound check we missed must not escape
        return _failed(f"unreadable: {type(exc).__name__}: {exc}", "fit")


def classify_fit_header(head: bytes) -> Verdict:
    """The fast core: classify a FIT file from a prefix of it (``head`` is all there is).

    A prefix that stops before the file_id gets a failed "file ends ... (truncated)"
    verdict; ``classify_file`` instead reads on (up to MAX_FIT_SCAN_BYTES) and retries.
    """
    verdict = _classify_fit(head, eof=True)
    assert verdict is not None  # with eof=True the scan always decides
    return verdict


# --------------------------------------------------------------------------- streaming classifiers


class _Sink(Protocol):
    def feed(self, chunk: bytes) -> Verdict | None: ...
    def finish(self) -> Verdict: ...


class _Fixed:
    """A verdict known from the head alone (empty, unrecognized, unsupported)."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict

    def feed(self, chunk: bytes) -> Verdict | None:
        return self.verdict

    def finish(self) -> Verdict:
        return self.verdict


class _FitSink:
    """FIT bytes arriving in pieces (from gzip): keep a bounded prefix, scan as it grows."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.next_scan = FIRST_READ

    def feed(self, chunk: bytes) -> Verdict | None:
        room = MAX_FIT_SCAN_BYTES - len(self.buf)
        if room > 0:
            self.buf += chunk[:room]
        if len(self.buf) < self.next_scan:
            return None
        self.next_scan = 2 * len(self.buf)
        return _classify_fit(bytes(self.buf), eof=False)

    def finish(self) -> Verdict:
        verdict = _classify_fit(bytes(self.buf), eof=True)
        assert verdict is not None
        return verdict


class _Decided(Exception):  # control flow out of expat callbacks, not an error
    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.reason)
        self.verdict = verdict


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:  # GPX/TCX times are UTC by definition; some writers drop the Z
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class _XmlSink:
    """GPX/TCX through expat, namespace-agnostic, stopping at the first timed track point."""

    def __init__(self) -> None:
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._doctype
        self.parser = parser
        self.kind: str | None = None  # "gpx" | "tcx" once the root is seen
        self.stack: list[str] = []
        self.capture: str | None = None  # local name of the element whose text we collect
        self.parts: list[str] = []
        self.sport: str | None = None
        self.in_point = False
        self.in_activity = False
        self.saw_course = False

    def _doctype(self, *args: object) -> None:
        raise _Decided(_failed("refused: XML with a DOCTYPE or entity declaration (entity expansion risk)"))

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        parent = self.stack[-1] if self.stack else None
        self.stack.append(local)
        if self.kind is None:
            if local == "gpx":
                self.kind = "gpx"
            elif local == "TrainingCenterDatabase":
                self.kind = "tcx"
            else:
                raise _Decided(Verdict(JUNK, None, f"not an activity file: XML document <{local}>", None, None))
        elif self.kind == "gpx":
            if local == "trkpt":
                self.in_point = True
            elif (local == "time" and parent == "trkpt") or (local == "type" and parent == "trk"):
                self.capture, self.parts = local, []
        elif local == "Trackpoint":
            self.in_point = True
        elif local == "Time" and parent == "Trackpoint":
            self.capture, self.parts = local, []
        elif local == "Activity":
            self.in_activity = True
            self.sport = attrs.get("Sport") or None
        elif local == "Course":
            self.saw_course = True

    def _text(self, data: str) -> None:
        if self.capture is not None:
            self.parts.append(data)

    def _end(self, name: str) -> None:
        local = self.stack.pop()
        if local == self.capture:
            self.capture = None
            text = "".join(self.parts)
            if local == "type":
                self.sport = text.strip() or None
                return
            moment = _parse_time(text)
            if moment is not None and (self.kind == "gpx" or self.in_activity):
                raise _Decided(Verdict(ELIGIBLE, self.kind, "", self.kind, moment, self.sport))
        elif local in ("trkpt", "Trackpoint"):
            self.in_point = False
        elif local == "Activity":
            self.in_activity = False

    def _parse(self, chunk: bytes, final: bool) -> Verdict | None:
        try:
            self.parser.Parse(chunk, final)
        except _Decided as decided:
            return decided.verdict
        except (expat.ExpatError, ValueError, LookupError) as exc:
            return _failed(f"unreadable: {exc}", self.kind, self.kind)
        return None

    def feed(self, chunk: bytes) -> Verdict | None:
        return self._parse(chunk, False)

    def finish(self) -> Verdict:
        verdict = self._parse(b"", True)
        if verdict is not None:
            return verdict
        reason = "not an activity file: no timestamped track points"
        if self.kind == "tcx" and self.saw_course:
            reason = "not an activity file: TCX course"
        return Verdict(JUNK, self.kind, reason, self.kind, None, self.sport)


class _GzipSink:
    """Stream-decompress, refusing past ``max_bytes``; classify the inner bytes on the way."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.total = 0
        self.head = bytearray()
        self.inner: _Sink | None = None
        self.inner_kind: str | None = None
        self.verdict: Verdict | None = None
        self.trailing = False

    def _failed(self, reason: str) -> Verdict:
        """A failure of the wrapper; data_type still names the inner type once it is known."""
        kind = sniff_type(bytes(self.head[:4096])) if self.inner is None else self.inner_kind
        return _failed(reason, f"{kind}.gz" if kind in ("fit", "gpx", "tcx") else None)

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
            self.inner = _make_sink(out, self.max_bytes, nested=True)
        return self.inner.feed(out)

    def finish(self) -> Verdict:
        if not self.inflater.eof:
            return self._failed("unreadable: gzip stream is truncated")
        if self.verdict is None:
            if self.inner is None:
                self.inner = _make_sink(bytes(self.head), self.max_bytes, nested=True)
                self.verdict = self.inner.feed(bytes(self.head))
            if self.verdict is None:
                self.verdict = self.inner.finish()
        verdict = self.verdict
        if verdict.data_type in ("fit", "gpx", "tcx"):
            verdict = dataclasses.replace(verdict, data_type=f"{verdict.data_type}.gz")
        return verdict


def _make_sink(head: bytes, max_gunzip_bytes: int, nested: bool = False) -> _Sink:
    kind = sniff_type(head)
    if kind == "fit":
        return _FitSink()
    if kind in ("gpx", "tcx") or (kind is None and _looks_like_xml(head)):
        return _XmlSink()
    if kind == "gzip":
        if nested:
            return _Fixed(_failed("unsupported: gzip inside gzip"))
        return _GzipSink(max_gunzip_bytes)
    if kind == "zip":
        where = " inside gzip" if nested else ""
        return _Fixed(_failed(f"unsupported: zip archive{where} (expand it with uploads.archives first)"))
    if not head:
        return _Fixed(_failed("unreadable: empty file"))
    return _Fixed(_failed("unreadable: unrecognized content (not FIT, GPX, TCX or gzip)"))


# --------------------------------------------------------------------------- entry points


def classify_bytes(data: bytes, *, max_gunzip_bytes: int = DEFAULT_MAX_GUNZIP_BYTES) -> Verdict:
    """Classify a whole file held in memory (an archive member, an upload)."""
    head = data[:FIRST_READ]
    if sniff_type(head) == "fit":
        verdict = _classify_fit(data, eof=True)
        assert verdict is not None
        return verdict
    sink = _make_sink(head, max_gunzip_bytes)
    return sink.feed(data) or sink.finish()


def _read(f: BinaryIO, n: int) -> bytes:
    """Up to n bytes; fewer only at end of file (one read call in the usual case)."""
    data = f.read(n)
    if len(data) < n:  # raw files may return short only at EOF, but pipes may not: confirm
        parts = [data]
        got = len(data)
        while got < n:
            more = f.read(n - got)
            if not more:
                break
            parts.append(more)
            got += len(more)
        data = b"".join(parts)
    return data


def classify_file(path: str | os.PathLike[str], *, max_gunzip_bytes: int = DEFAULT_MAX_GUNZIP_BYTES) -> Verdict:
    """Classify a file on disk, reading only what the verdict needs.

    FIT: one read of FIRST_READ bytes, more only if the file_id lies further in.
    GPX/TCX: chunks up to the first timed track point. Gzip: the whole stream (bomb check).
    """
    try:
        with open(path, "rb", buffering=0) as f:
            head = _read(f, FIRST_READ)
            if sniff_type(head) == "fit":
                buf, eof = head, len(head) < FIRST_READ
                while True:
                    verdict = _classify_fit(buf, eof)
                    if verdict is not None:
                        return verdict
                    more = _read(f, len(buf))
                    eof = len(more) < len(buf)
                    buf += more
            sink = _make_sink(head, max_gunzip_bytes)
            verdict = sink.feed(head)
            while verdict is None:
                chunk = f.read(XML_CHUNK)
                if not chunk:
                    return sink.finish()
                verdict = sink.feed(chunk)
            return verdict
    except OSError as exc:
        return _failed(f"unreadable: {exc.strerror or exc}")
