"""Reading Strava's bulk export ("Download your data"): `activities.csv`, by position, in any language.

The CSV has 94 columns (see ../shared/formats.md); five names appear twice with different units
(the first `Distance` in km or miles as the athlete displays it, the second in metres), so a
dict reader silently keeps the wrong one. Columns are therefore identified by (name, occurrence)
taken in order from the header, in English or German; a header we cannot name but that sits in
the standard 94-column layout is taken by its position, and anything else is reported.
Pure functions: no database, no network.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

# The English header, in Strava's order: position i holds column i.
ENGLISH_COLUMNS = [
    "Activity ID", "Activity Date", "Activity Name", "Activity Type", "Activity Description", "Elapsed Time",
    "Distance", "Max Heart Rate", "Relative Effort", "Commute", "Activity Private Note", "Activity Gear", "Filename",
    "Athlete Weight", "Bike Weight", "Elapsed Time", "Moving Time", "Distance", "Max Speed", "Average Speed",
    "Elevation Gain", "Elevation Loss", "Elevation Low", "Elevation High", "Max Grade", "Average Grade",
    "Average Positive Grade", "Average Negative Grade", "Max Cadence", "Average Cadence", "Max Heart Rate",
    "Average Heart Rate", "Max Watts", "Average Watts", "Calories", "Max Temperature", "Average Temperature",
    "Relative Effort", "Total Work", "Number of Runs", "Uphill Time", "Downhill Time", "Other Time",
    "Perceived Exertion", "Type", "Start Time", "Weighted Average Power", "Power Count", "Prefer Perceived Exertion",
    "Perceived Relative Effort", "Commute", "Total Weight Lifted", "From Upload", "Grade Adjusted Distance",
    "Weather Observation Time", "Weather Condition", "Weather Temperature", "Apparent Temperature", "Dewpoint",
    "Humidity", "Weather Pressure", "Wind Speed", "Wind Gust", "Wind Bearing", "Precipitation Intensity",
    "Sunrise Time", "Sunset Time", "Moon Phase", "Bike", "Gear", "Precipitation Probability", "Precipitation Type",
    "Cloud Cover", "Weather Visibility", "UV Index", "Weather Ozone", "Jump Count", "Total Grit", "Average Flow",
    "Flagged", "Average Elapsed Speed", "Dirt Distance", "Newly Explored Distance", "Newly Explored Dirt Distance",
    "Activity Count", "Total Steps", "Carbon Saved", "Pool Length", "Training Load", "Intensity",
    "Average Grade Adjusted Pace", "Timer Time", "Total Cycles", "Media",
]
assert len(ENGLISH_COLUMNS) == 94


def _keys() -> list[str]:
    """A stable key per position: the snake-cased name, with `_2` for a name's second appearance."""
    seen: dict[str, int] = {}
    keys = []
    for name in ENGLISH_COLUMNS:
        base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        seen[base] = seen.get(base, 0) + 1
        keys.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return keys


COLUMN_KEYS = _keys()  # "activity_id", ..., "distance" (km), ..., "distance_2" (metres), ...

# German headers, as German accounts export them, mapped to the English name (occurrences count
# the same way). Only names seen in real German exports are listed; the rest fall back to position.
GERMAN_NAMES = {
    "Aktivitäts-ID": "Activity ID",
    "Aktivitätsdatum": "Activity Date",
    "Name der Aktivität": "Activity Name",
    "Aktivitätsart": "Activity Type",
    "Beschreibung der Aktivität": "Activity Description",
    "Aktivitätsbeschreibung": "Activity Description",
    "Verstrichene Zeit": "Elapsed Time",
    "Distanz": "Distance",
    "Max. Herzfrequenz": "Max Heart Rate",
    "Relative Leistung": "Relative Effort",
    "Pendeln": "Commute",
    "Private Notiz zur Aktivität": "Activity Private Note",
    "Aktivitätsausrüstung": "Activity Gear",
    "Dateiname": "Filename",
    "Gewicht des Sportlers": "Athlete Weight",
    "Fahrradgewicht": "Bike Weight",
    "Bewegungszeit": "Moving Time",
    "Höchstgeschw.": "Max Speed",
    "Max. Geschwindigkeit": "Max Speed",
    "Durchschnittliche Geschwindigkeit": "Average Speed",
    "Höhenzunahme": "Elevation Gain",
    "Höhenunterschied": "Elevation Loss",
    "Min. Höhe": "Elevation Low",
    "Max. Höhe": "Elevation High",
    "Max. Steigung": "Max Grade",
    "Durchschnittliche Steigung": "Average Grade",
    "Max. Tritt-/Schrittfrequenz": "Max Cadence",
    "Durchschnittliche Trittfrequenz": "Average Cadence",
    "Durchschnittliche Herzfrequenz": "Average Heart Rate",
    "Max. Watt": "Max Watts",
    "Durchschnittliche Watt": "Average Watts",
    "Durchschnittliche Wattzahl": "Average Watts",
    "Kalorien": "Calories",
    "Max. Temperatur": "Max Temperature",
    "Durchschnittliche Temperatur": "Average Temperature",
    "Startzeit": "Start Time",
    "Gewichtete durchschnittliche Leistung": "Weighted Average Power",
    "Von Upload": "From Upload",
    "Markiert": "Flagged",
    "Schritte insgesamt": "Total Steps",
    "Trainingsbelastung": "Training Load",
    "Leistungszahl": "Intensity",
}

# The first of each duplicated name: a display column (km or miles, a decimal comma in German).
SUMMARY_KEYS = {"elapsed_time", "distance", "max_heart_rate", "relative_effort"}

# What an import cannot do without.
REQUIRED = ("activity_id", "activity_date", "activity_type")

# Strava's display names of sport types where removing spaces and hyphens is not enough, and
# German display names. Anything else: spaces and hyphens removed ("Virtual Ride" -> "VirtualRide").
SPORT_NAMES = {
    "Football (Soccer)": "Soccer",
    "Soccer": "Soccer",
    "Canoe": "Canoeing",
    "Kayak": "Kayaking",
    "E-Bike Ride": "EBikeRide",
    "E-Mountain Bike Ride": "EMountainBikeRide",
    "Rock Climb": "RockClimbing",
    "Stair-Stepper": "StairStepper",
    "HIIT": "HighIntensityIntervalTraining",
    "Radfahrt": "Ride",
    "Fahrt": "Ride",
    "Lauf": "Run",
    "Schwimmen": "Swim",
    "Wanderung": "Hike",
    "Spaziergang": "Walk",
    "Gehen": "Walk",
    "Virtuelle Radfahrt": "VirtualRide",
    "Virtueller Lauf": "VirtualRun",
    "E-Bike-Fahrt": "EBikeRide",
    "Mountainbike-Fahrt": "MountainBikeRide",
    "Gravel-Fahrt": "GravelRide",
    "Trailrun": "TrailRun",
    "Krafttraining": "WeightTraining",
    "Skilanglauf": "NordicSki",
    "Ski alpin": "AlpineSki",
    "Rudern": "Rowing",
    "Kajak": "Kayaking",
    "Kanu": "Canoeing",
    "Skaten": "InlineSkate",
    "Eislaufen": "IceSkate",
    "Schneeschuhwandern": "Snowshoe",
    "Klettern": "RockClimbing",
}
KNOWN_SPORTS = {
    "AlpineSki", "BackcountrySki", "Badminton", "Canoeing", "Crossfit", "EBikeRide", "Elliptical", "EMountainBikeRide",
    "Golf", "GravelRide", "Handcycle", "HighIntensityIntervalTraining", "Hike", "IceSkate", "InlineSkate", "Kayaking",
    "Kitesurf", "MountainBikeRide", "NordicSki", "Pickleball", "Pilates", "Racquetball", "Ride", "RockClimbing",
    "RollerSki", "Rowing", "Run", "Sail", "Skateboard", "Snowboard", "Snowshoe", "Soccer", "Squash", "StairStepper",
    "StandUpPaddling", "Surfing", "Swim", "TableTennis", "Tennis", "TrailRun", "Velomobile", "VirtualRide",
    "VirtualRow", "VirtualRun", "Walk", "WeightTraining", "Wheelchair", "Windsurf", "Workout", "Yoga",
}
# `type` (the older, coarser field) for the sport types that have a coarser parent.
SPORT_PARENT = {"GravelRide": "Ride", "MountainBikeRide": "Ride", "EMountainBikeRide": "EBikeRide", "TrailRun": "Run"}

_GERMAN_MONTHS = {
    "jan": 1, "januar": 1, "feb": 2, "februar": 2, "mär": 3, "mrz": 3, "märz": 3, "apr": 4, "april": 4, "mai": 5,
    "jun": 6, "juni": 6, "jul": 7, "juli": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "okt": 10, "oktober": 10, "nov": 11, "november": 11, "dez": 12, "dezember": 12,
}
_ENGLISH_MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
         ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")],
        start=1,
    )
    for name in names
}


class ExportError(Exception):
    """The export cannot be imported (no activities.csv, required columns missing, ...): said plainly."""


@dataclass
class ColumnMap:
    """Which position holds which column, and what could not be mapped."""

    positions: dict[str, int]
    language: str  # "en", "de" or "unknown"
    by_position: list[str] = field(default_factory=list)  # "column 47 'Foo' read as 'Weighted Average Power'"
    unknown: list[str] = field(default_factory=list)  # "column 95 'Bar'": ignored

    def has(self, key: str) -> bool:
        return key in self.positions


def _clean(name: str) -> str:
    return name.replace("\ufeff", "").strip()


def map_columns(header: list[str]) -> ColumnMap:
    """Name every column of the header by (name, occurrence); fall back to position in the 94-column layout."""
    names = [_clean(h) for h in header]
    german = sum(1 for n in names if n in GERMAN_NAMES)
    english = sum(1 for n in names if n in ENGLISH_COLUMNS)
    language = "de" if german > english else "en" if english else "unknown"
    occurrences: dict[str, list[int]] = {}
    for position, column in enumerate(ENGLISH_COLUMNS):
        occurrences.setdefault(column, []).append(position)
    seen: dict[str, int] = {}
    positions: dict[str, int] = {}
    unnamed: list[int] = []
    for index, name in enumerate(names):
        english_name = name if name in occurrences else GERMAN_NAMES.get(name)
        if english_name is None:
            unnamed.append(index)
            continue
        nth = seen.get(english_name, 0)
        seen[english_name] = nth + 1
        layout = occurrences[english_name]
        if nth >= len(layout):
            unnamed.append(index)  # a third "Distance": not Strava's layout
            continue
        positions.setdefault(COLUMN_KEYS[layout[nth]], index)
    result = ColumnMap(positions=positions, language=language)
    standard_layout = len(names) == len(ENGLISH_COLUMNS)
    taken = set(positions)
    for index in unnamed:
        key = COLUMN_KEYS[index] if standard_layout and index < len(COLUMN_KEYS) else None
        if key is not None and key not in taken:
            positions[key] = index
            taken.add(key)
            result.by_position.append(f"column {index + 1} '{names[index]}' read as '{ENGLISH_COLUMNS[index]}' (by position)")
        else:
            result.unknown.append(f"column {index + 1} '{names[index]}'")
    missing = [key for key in REQUIRED if key not in positions]
    if missing:
        wanted = ", ".join(ENGLISH_COLUMNS[COLUMN_KEYS.index(k)] for k in missing)
        raise ExportError(
            f"activities.csv lacks required column(s): {wanted}. Its header has {len(names)} columns"
            + (f"; columns not recognised: {', '.join(result.unknown[:10])}" if result.unknown else "")
            + ". Strava's English and German headers are understood."
        )
    return result


def parse_number(text: str | None, *, decimal_comma: bool = False) -> float | None:
    """"12.34", "1,234.5", "12,34" (German) -> float; empty -> None."""
    if text is None:
        return None
    value = text.strip().replace("\u00a0", "").replace(" ", "")
    if not value:
        return None
    if "," in value and "." in value:
        # The last separator is the decimal one.
        if value.rfind(",") > value.rfind("."):
            value = value.replace(".", "").replace(",", ".")
        else:
            value = value.replace(",", "")
    elif "," in value:
        # "12,34" is a decimal comma; "1,234" a thousands separator, unless the column is German.
        looks_decimal = value.count(",") == 1 and len(value.split(",")[1]) != 3
        value = value.replace(",", ".") if decimal_comma or looks_decimal else value.replace(",", "")
    try:
        return float(value)
    except ValueError:
        return None


def parse_bool(text: str | None) -> bool:
    return (text or "").strip().lower() in {"true", "1", "1.0", "yes", "ja", "wahr"}


_DATE_NUMERIC = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DATE_WORDS = re.compile(
    r"^(?:(?P<m1>[A-Za-zÄÖÜäöü]+)\.?\s+(?P<d1>\d{1,2}),?|(?P<d2>\d{1,2})\.?\s+(?P<m2>[A-Za-zÄÖÜäöü]+)\.?)\s+(?P<y>\d{4}),?\s+"
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?$"
)


def parse_activity_date(text: str) -> datetime:
    """`May 29, 2022, 3:53:35 PM`, `29 May 2022, 15:53:35`, `29.05.2022, 15:53:35`, ISO -> aware UTC.

    Strava writes the export's dates in UTC whatever the account's language.
    """
    value = " ".join(text.strip().split())
    match = _DATE_NUMERIC.match(value)
    if match:
        day, month, year, hour, minute, second = match.groups()
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=UTC)
    match = _DATE_WORDS.match(value)
    if match:
        month_name = (match["m1"] or match["m2"]).lower().rstrip(".")
        month = _ENGLISH_MONTHS.get(month_name) or _GERMAN_MONTHS.get(month_name)
        if month is None:
            raise ValueError(f"unknown month {month_name!r}")
        hour = int(match["H"])
        ampm = (match["ampm"] or "").lower().replace(".", "")
        if ampm == "pm" and hour != 12:
            hour += 12
        elif ampm == "am" and hour == 12:
            hour = 0
        day = int(match["d1"] or match["d2"])
        return datetime(int(match["y"]), month, day, hour, int(match["M"]), int(match["S"] or 0), tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"unreadable date {text!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def sport_type_of(display: str) -> tuple[str, bool]:
    """Strava's sport_type for an export's displayed activity type; False when we had to guess."""
    name = display.strip()
    if name in SPORT_NAMES:
        return SPORT_NAMES[name], True
    squashed = re.sub(r"[\s\-]+", "", name)
    if squashed in KNOWN_SPORTS:
        return squashed, True
    # Not a type we know: kept as Strava wrote it (and reported), never squashed into a type
    # that does not exist; enrichment replaces it with Strava's own sport_type.
    return name[:40], False


@dataclass
class ExportActivity:
    """One activities.csv row turned into warehouse columns."""

    strava_id: int
    columns: dict[str, Any]
    filename: str
    row: dict[str, str]
    sport_known: bool = True


# One physical line, and one record (a quoted description may span lines), in characters: a
# real export's rows are a few KB. Bounds what the csv module holds, whatever its global field limit.
MAX_LINE_CHARS = 1024 * 1024
MAX_RECORD_CHARS = 4 * 1024 * 1024
_CONTROL = bytes(c for c in range(32) if chr(c) not in "\t\n\r") + b"\x7f"


class _Lines:
    """A text stream's lines for csv.reader, refusing what no CSV holds (NUL bytes, endless lines, binary)."""

    def __init__(self, text: IO[str]) -> None:
        self.text = text
        self.line = 0
        self.record_chars = 0  # since the last complete row (read_csv resets it)

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.text.readline(MAX_LINE_CHARS + 1)
        if not line:
            raise StopIteration
        self.line += 1
        if "\x00" in line:
            raise ExportError(f"activities.csv line {self.line} holds NUL bytes: binary content, not Strava's CSV")
        if len(line) > MAX_LINE_CHARS:
            raise ExportError(f"activities.csv line {self.line} is longer than {MAX_LINE_CHARS:,} characters: "
                              "not Strava's CSV")
        self.record_chars += len(line)
        if self.record_chars > MAX_RECORD_CHARS:
            raise ExportError(f"activities.csv: the row ending at line {self.line} is longer than "
                              f"{MAX_RECORD_CHARS:,} characters (an unclosed quote?): not Strava's CSV")
        # Text has few control characters and decodes as UTF-8; more than a tenth of either is binary.
        encoded = line.encode("utf-8", errors="surrogatepass")
        odd = len(encoded) - len(encoded.translate(None, _CONTROL)) + line.count("\ufffd")
        if len(line) >= 64 and odd * 10 > len(line):
            raise ExportError(f"activities.csv line {self.line} is binary content, not Strava's CSV")
        return line


def read_csv(stream: IO[bytes]) -> tuple[list[str], Iterator[list[str]]]:
    """The header and the rows of activities.csv, read from a binary stream line by line (never whole).

    Raises ExportError, with the line, for content that is not a CSV; the stream's own limits
    (see stravasync.zipread) bound the bytes read.
    """
    lines = _Lines(io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline=""))
    reader = csv.reader(lines)

    def rows() -> Iterator[list[str]]:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # "field larger than field limit" and the like
                raise ExportError(f"activities.csv line {lines.line}: {exc}: not Strava's CSV") from None
            lines.record_chars = 0
            yield row

    try:
        header = next(rows())
    except StopIteration:
        raise ExportError("activities.csv is empty") from None
    return header, rows()


def row_activity(row: list[str], columns: ColumnMap, *, header: list[str]) -> ExportActivity:
    """One row -> ExportActivity; raises ValueError with a reason for a row that cannot be read."""
    def cell(key: str) -> str:
        index = columns.positions.get(key)
        return row[index].strip() if index is not None and index < len(row) else ""

    comma = columns.language == "de"

    def number(*keys: str) -> float | None:
        for key in keys:
            # German exports write the five summary columns with a decimal comma, the rest with a point.
            value = parse_number(cell(key), decimal_comma=comma and key in SUMMARY_KEYS)
            if value is not None:
                return value
        return None

    raw_id = cell("activity_id")
    if not raw_id.isdigit():
        raise ValueError(f"activity id {raw_id!r} is not a number")
    start = parse_activity_date(cell("activity_date"))
    display_type = cell("activity_type")
    sport, known = sport_type_of(display_type)
    distance = number("distance_2")
    if distance is None:
        km = number("distance")
        distance = km * 1000 if km is not None else 0.0
    elapsed = number("elapsed_time_2", "elapsed_time") or 0.0
    moving = number("moving_time") or elapsed
    filename = cell("filename")
    commute = cell("commute_2") or cell("commute")
    columns_out: dict[str, Any] = {
        "name": cell("activity_name")[:255],
        "sport_type": sport,
        "type": SPORT_PARENT.get(sport, sport)[:40],
        "start_date": start,
        "distance": round(distance, 1),
        "moving_time": int(moving),
        "elapsed_time": int(elapsed),
        "total_elevation_gain": number("elevation_gain") or 0.0,
        "elev_high": number("elevation_high"),
        "elev_low": number("elevation_low"),
        "average_speed": number("average_speed") or (round(distance / moving, 3) if moving else 0.0),
        "max_speed": number("max_speed") or 0.0,
        "average_cadence": number("average_cadence"),
        "average_watts": number("average_watts"),
        "weighted_average_watts": _int(number("weighted_average_power")),
        "max_watts": _int(number("max_watts")),
        "average_heartrate": number("average_heart_rate"),
        "max_heartrate": number("max_heart_rate_2", "max_heart_rate"),
        "calories": number("calories"),
        "commute": parse_bool(commute),
        "flagged": parse_bool(cell("flagged")),
        "manual": not filename,
        "description": cell("activity_description"),
        "gear_name": cell("activity_gear")[:255],
        "export_file": filename[:255],
    }
    columns_out["has_heartrate"] = columns_out["average_heartrate"] is not None
    if columns_out["average_watts"] is not None and moving:
        columns_out["kilojoules"] = round(columns_out["average_watts"] * moving / 1000, 1)
    named: dict[str, str] = {}
    for i, value in enumerate(row):
        if value.strip():
            name = _clean(header[i]) if i < len(header) else f"column {i + 1}"
            named[f"{name} (2)" if name in named else name] = value.strip()
    return ExportActivity(strava_id=int(raw_id), columns=columns_out, filename=filename, row=named, sport_known=known)


def _int(value: float | None) -> int | None:
    return None if value is None else int(round(value))
