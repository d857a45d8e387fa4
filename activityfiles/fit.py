"""FIT: the fast header + ``file_id`` walker the sweep runs on every file, and the FIT enums.

It reads the header and the messages up to the first ``file_id``, nothing more: that is
~40,000x faster than a full parse (bench/classify.py), and the sweep runs on every file
of a Garmin export, most of them monitoring, sleep and settings files. Decisions:

* ``file_id.type == 4`` (activity) is eligible. Every other type is junk named by its
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

For an activity, the recorded start and sport come from the session at the file's end
(``with_recorded``, activityfiles.fit_recorded): one more read of its last 2 KiB.

Whole-file reads (the track) use fitdecode instead: see activityfiles.track.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Literal

from .fit_recorded import BIG_TAIL, fit_datetime, fit_recorded
from .sports import strava_sport
from .verdict import ELIGIBLE, FAILED, JUNK, Verdict, failed

FIT_TYPE_ACTIVITY = 4

# One page. Every real file we have seen has its file_id in the first KiB (the furthest, a
# Stages workout behind 21 developer-data messages, at byte 964); a 64 KiB first read
# measured twice as slow per file, and the rare file_id further in costs one more read.
FIRST_READ = 4096
MAX_FIT_SCAN_BYTES = 1024 * 1024  # give up looking for a file_id after this much
MAX_FIT_MESSAGES = 1000  # ... or after this many messages (a Stages file has 21 first)

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
_Layout = tuple[tuple[int, int, int], ...]  # file_id fields: (number, offset, size)
_FileIdStruct = tuple[struct.Struct, tuple[int, ...], tuple[int, ...]]  # their Struct, numbers, "invalid" values


def fit_crc16(data: bytes, crc: int = 0) -> int:
    """The FIT SDK's CRC-16 (the header CRC covers bytes 0-11)."""
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 4) ^ table[crc & 0xF] ^ table[byte & 0xF]
        crc = (crc >> 4) ^ table[crc & 0xF] ^ table[byte >> 4]
    return crc



def _ran_out(n: int, end: int, limit: int, eof: bool) -> Verdict | None:
    """The scan reached the end of what it has: no file_id, truncated, or read more (None)."""
    if end and limit == end:
        return failed("unreadable: no file_id message in the FIT data", "fit")
    if eof:
        return failed(f"unreadable: file ends at byte {n}, before the file_id message (truncated)", "fit")
    if n >= MAX_FIT_SCAN_BYTES:
        return failed(f"unreadable: no file_id message in the first {n} bytes", "fit")
    return None


def _file_id_verdict(
    buf: bytes, start: int, big: bool, layout: _Layout, recorded: Recorder | None, unpacker: _FileIdStruct | None
) -> Verdict:
    ftype = manufacturer = product = created = None
    product_name = None
    if unpacker is not None:  # every field 1, 2, 4 or 8 bytes (or the name): one unpack, values in layout order
        fields: Iterable[tuple[int, int, Any]] = zip(unpacker[1], unpacker[2], unpacker[0].unpack_from(buf, start))  # noqa: B905
    else:
        order: Literal["big", "little"] = "big" if big else "little"
        fields = (
            (num, (1 << (8 * size)) - 1, raw if num == 8 else int.from_bytes(raw, order))
            for num, off, size in layout
            for raw in (buf[start + off : start + off + size],)
        )
    for num, invalid, value in fields:  # value: the name's bytes for 8, else an int
        if num == 8:
            product_name = value.split(b"\0", 1)[0].decode("utf-8", "replace") or None
            continue
        if value == invalid:  # all bits set: FIT's "invalid" (field not given)
            continue
        if num == 0:
            ftype = value
        elif num == 1:
            manufacturer = value
        elif num == 2:
            product = value
        elif num == 4:
            created = value
    # time_created is when the file was written (a copy or an export: a later date), not the
    # recorded start; start_time is filled in for activities by fit_recorded, None otherwise.
    created_time = fit_datetime(created)
    maker = None if manufacturer is None else MANUFACTURERS.get(manufacturer, str(manufacturer))
    model = product_name if product is None else str(product)
    if ftype == FIT_TYPE_ACTIVITY:
        start_time, sport, trainer = recorded(buf) if recorded else (None, None, False)
        return Verdict(ELIGIBLE, "fit", "", "activity", start_time, sport, maker, model, created_time, trainer)
    if ftype is None:
        return Verdict(JUNK, "fit", "junk: file_id has no file type", None, None, None, maker, model, created_time)
    name = FILE_TYPES.get(ftype, str(ftype))
    return Verdict(JUNK, "fit", f"junk: {name} file", name, None, None, maker, model, created_time)


_DEFS_CACHE_SIZE = 1024
# raw definition (architecture byte to its end) -> (global number, data size, big-endian, file_id layout):
# a device writes the same few definitions at the start of every file.
_defs_cache: dict[bytes, tuple[int, int, bool, _Layout, _FileIdStruct | None]] = {}
_FORMATS = {1: "B", 2: "H", 4: "I", 8: "Q"}


def _file_id_struct(big: bool, layout: _Layout) -> _FileIdStruct | None:
    """One Struct for the file_id fields (the name as bytes), their numbers and "invalid" values; None if a size has no format."""
    parts = [">" if big else "<"]
    offset = 0
    for num, off, size in layout:
        if num != 8 and size not in _FORMATS:
            return None
        if off > offset:
            parts.append(f"{off - offset}x")
        parts.append(f"{size}s" if num == 8 else _FORMATS[size])
        offset = off + size
    nums = tuple(num for num, _off, _size in layout)
    invalids = tuple((1 << (8 * size)) - 1 for _num, _off, size in layout)
    return struct.Struct("".join(parts)), nums, invalids


def _parse_definition(buf: bytes, pos: int, fields_end: int, dev_end: int) -> tuple[int, int, bool, _Layout, _FileIdStruct | None]:
    """The definition at ``pos`` (architecture byte 0 or 1) as _scan_fit keeps it."""
    big = buf[pos + 2] == 1
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
        return gnum, size, big, layout, _file_id_struct(big, layout)
    return gnum, size, big, layout, None


def _scan_fit(buf: bytes, eof: bool, trust_size: bool = True, recorded: Recorder | None = None) -> Verdict | None:
    """Walk the records up to the first file_id; None means "give me more bytes"."""
    n = len(buf)
    if n < 12 or n < buf[0]:
        return None if not eof else failed(f"unreadable: truncated FIT header ({n} bytes)", "fit" if n else None)
    hsize = buf[0]
    if hsize < 12 or buf[8:12] != b".FIT":
        return failed("unreadable: not a FIT file (no .FIT signature)")
    data_size = int.from_bytes(buf[4:8], "little")
    end = hsize + data_size if data_size and trust_size else 0
    limit = end if end and end < n else n
    pos = hsize
    # local message number -> (global number, data size, big-endian, file_id layout)
    defs: list[tuple[int, int, bool, _Layout, _FileIdStruct | None] | None] = [None] * 16
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
            raw = buf[pos + 2 : dev_end]  # from the architecture byte on: the same bytes, the same definition
            parsed = _defs_cache.get(raw)
            if parsed is None:
                arch = buf[pos + 2]
                if arch > 1:
                    return failed(f"unreadable: bad architecture byte {arch} in a definition at byte {pos}", "fit")
                parsed = _parse_definition(buf, pos, fields_end, dev_end)
                if len(_defs_cache) >= _DEFS_CACHE_SIZE:
                    _defs_cache.clear()
                _defs_cache[raw] = parsed
            defs[header & 0x0F] = parsed
            pos = dev_end
            continue
        # data message: normal header (local in bits 0-3) or compressed timestamp (bits 5-6)
        local = (header >> 5) & 3 if header & 0x80 else header & 0x0F
        definition = defs[local]
        if definition is None:
            return failed(f"unreadable: data message for undefined local message {local} at byte {pos}", "fit")
        gnum, size, big, layout, unpacker = definition
        if pos + 1 + size > limit:
            return _ran_out(n, end, limit, eof)
        if gnum == 0:
            return _file_id_verdict(buf, pos + 1, big, layout, recorded, unpacker)
        pos += 1 + size
    return failed(f"unreadable: no file_id in the first {MAX_FIT_MESSAGES} messages", "fit")


def fit_verdict(buf: bytes, eof: bool, recorded: Recorder | None = None) -> Verdict | None:
    """_scan_fit plus the header-CRC decision (see the module docstring); None: read more.

    ``recorded(buf)`` gives an activity's (start_time, sport, trainer): see ``recorder``.
    """
    try:
        verdict = _scan_fit(buf, eof, recorded=recorded)
        if verdict is None or verdict.status != FAILED or len(buf) < 14 or buf[0] < 14:
            return verdict
        stored = buf[12] | buf[13] << 8
        computed = fit_crc16(buf[:12])
        if not stored or stored == computed or buf[8:12] != b".FIT":
            return verdict
        retry = _scan_fit(buf, eof, trust_size=False, recorded=recorded)
        if retry is None or retry.status != FAILED:
            return retry
        detail = verdict.reason.removeprefix("unreadable: ")
        return failed(f"unreadable: bad header CRC (0x{stored:04X}, expected 0x{computed:04X}); {detail}", "fit")
    except (IndexError, ValueError, OverflowError) as exc:  # a bound check we missed must not escape
        return failed(f"unreadable: {type(exc).__name__}: {exc}", "fit")


def classify_fit_header(head: bytes) -> Verdict:
    """The fast core: classify a FIT file from a prefix of it (``head`` is all there is).

    A prefix that stops before the file_id gets a failed "file ends ... (truncated)"
    verdict; ``classify_file`` instead reads on (up to MAX_FIT_SCAN_BYTES) and retries.
    The recorded start and sport are what the prefix holds (often nothing: the session is at the end).
    """
    verdict = fit_verdict(head, eof=True, recorded=recorder(*bytes_readers(head)))
    assert verdict is not None  # with eof=True the scan always decides
    return verdict



def fit_data_end(buf: bytes) -> int | None:
    """Where the first FIT file's records end (header + data_size); None when data_size is 0 (read to EOF)."""
    data_size = int.from_bytes(buf[4:8], "little")
    return buf[0] + data_size if data_size else None


Reader = Callable[[int], bytes]
Recorder = Callable[[bytes], tuple[datetime | None, str | None, bool]]


def recorder(read_tail: Reader, read_head: Reader) -> Recorder:
    """The (start_time, sport, trainer) of an activity, from its head and the readers of its tail and head."""

    def recorded(head: bytes) -> tuple[datetime | None, str | None, bool]:
        found = fit_recorded(head, read_tail, read_head)
        sport, trainer = strava_sport(found.sport, found.sub_sport)
        return fit_datetime(found.start), sport, trainer

    return recorded


def with_recorded(verdict: Verdict, head: bytes, read_tail: Reader, read_head: Reader) -> Verdict:
    """An eligible verdict with the recorded start, sport and trainer flag (others as they are)."""
    if verdict.status != ELIGIBLE:
        return verdict
    start_time, sport, trainer = recorder(read_tail, read_head)(head)
    return dataclasses.replace(verdict, start_time=start_time, sport=sport, trainer=trainer)


def bytes_readers(data: bytes) -> tuple[Reader, Reader]:
    """read_tail / read_head for a FIT file held in memory."""
    end = fit_data_end(data)
    if end is None or end > len(data):
        end = len(data)
    return (lambda n: data[max(0, end - n) : end]), (lambda n: data[:n])


class FitSink:
    """FIT bytes arriving in pieces (from gzip): a bounded prefix and a rolling tail.

    Junk and failures are known from the prefix; an activity waits for ``finish``, when the
    tail holding its session has gone by.
    """

    def __init__(self) -> None:
        self.buf = bytearray()
        self.next_scan = FIRST_READ
        self.verdict: Verdict | None = None
        self.total = 0  # bytes seen
        self.tail = bytearray()  # the last BIG_TAIL bytes seen before the end of the first FIT file
        self.end: int | None = None

    def feed(self, chunk: bytes) -> Verdict | None:
        self._keep_tail(chunk)
        room = MAX_FIT_SCAN_BYTES - len(self.buf)
        if room > 0:
            self.buf += chunk[:room]
        if self.verdict is not None or len(self.buf) < self.next_scan:
            return None
        self.next_scan = 2 * len(self.buf)
        verdict = fit_verdict(bytes(self.buf), eof=False)
        if verdict is not None and verdict.status == ELIGIBLE:
            self.verdict = verdict
            return None
        return verdict

    def _keep_tail(self, chunk: bytes) -> None:
        if self.end is None and len(self.buf) >= 12:
            self.end = fit_data_end(bytes(self.buf[:12])) or -1
        start = self.total
        self.total += len(chunk)
        if self.end is not None and self.end > 0:
            if start >= self.end:
                return
            chunk = chunk[: self.end - start]
        self.tail += chunk[-BIG_TAIL:]
        if len(self.tail) > BIG_TAIL:
            del self.tail[: len(self.tail) - BIG_TAIL]

    def finish(self) -> Verdict:
        head = bytes(self.buf)
        verdict = self.verdict or fit_verdict(head, eof=True)
        assert verdict is not None
        tail = bytes(self.tail)
        return with_recorded(verdict, head, lambda n: tail[-n:], lambda n: head[:n])
