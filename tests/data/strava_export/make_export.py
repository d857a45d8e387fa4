"""(Re)build tests/data/strava_export/strava_export.zip: a Strava "Download your data" archive.

Deterministic (fixed seed, fixed zip dates). Run from anywhere:

    .venv/bin/python tests/data/strava_export/make_export.py

What is in it, and why it looks like a real export (see PROVENANCE.md):
* `activities.csv` with Strava's 94 English columns in Strava's order, five names twice with
  their different units (first Distance in km, second in metres), `Activity Date` as
  `May 29, 2022, 3:53:35 PM` in UTC, free-text names and descriptions with commas, quotes,
  newlines and emoji, gear names, commutes, weather columns on some rows.
* `activities/<n>.<ext>` files whose number is not the activity id: eight real recordings
  from tests/data (FIT gzipped as Strava does, a GPX, TCX files: rides, runs, a pool swim
  without GPS, a virtual ride) with their real start times, and generated GPX/TCX tracks for
  the rest. Manual activities (weight training, yoga, a treadmill run typed in) have no file.
* the other CSVs of an export (profile, bikes, shoes, ...), header only.

`german_csv()` turns the English activities.csv into what a German account exports (header,
dates `29.05.2022, 15:53:35`, a decimal comma in the summary columns); tests build it on the fly.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import random
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent
ROOT = DATA.parent.parent
OUT = HERE / "strava_export.zip"
SEED = 2025
ZIP_DATE = (2025, 6, 1, 9, 0, 0)
HOME = (45.8992, 6.1294)  # Annecy

sys.path.insert(0, str(ROOT))
from warehouse.strava_export import ENGLISH_COLUMNS  # noqa: E402  (the one list of Strava's columns)

# Real recordings: (file in tests/data, displayed type, name, start UTC when the file has none).
REAL = [
    ("GoldenCheetah_GoldenCheetah__test_rides_20130716_202738.fit", "Ride", "Evening Ride", None),
    ("GoldenCheetah_GoldenCheetah__test_swims_argmac_Garmin_FR910XT_2015_01_31_10_17_02.tcx", "Swim", "Pool swim",
     datetime(2015, 1, 31, 9, 17, 2, tzinfo=UTC)),
    ("GoldenCheetah_GoldenCheetah__test_aerolab_open_air_helmet_test_activity_790564009.tcx", "Ride",
     "Helmet test, open air", None),
    ("jimmykane_sports-lib__samples_gpx_garmin.gpx", "Run", "Lunch Run", None),
    ("GoldenCheetah_GoldenCheetah__test_aerolab_helmet_testing_2018-10-03-08-36-06.fit", "Ride", "Aero testing 🚴",
     None),
    ("jimmykane_sports-lib__integrationTests_fixtures_rides_others_export_2020-01-09_virtualride.fit", "Virtual Ride",
     "Zwift - Tempus Fugit in Watopia", datetime(2020, 1, 9, 18, 2, 11, tzinfo=UTC)),
    ("GoldenCheetah_GoldenCheetah__test_runs_Move_2020_01_15_19_27_16_Running.fit", "Run", "Morning Run", None),
    ("GoldenCheetah_GoldenCheetah__test_rides_Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit", "Ride",
     "Botley – Swanmore – Wickham", None),
]
GENERATED = 72  # plus the real ones and MANUAL
MANUAL = [("Weight Training", "Leg day"), ("Yoga", "Evening yoga"), ("Run", "Treadmill, typed in by hand"),
          ("Weight Training", "Upper body")]
MIX = [("Ride", 30), ("Run", 24), ("Virtual Ride", 8), ("Walk", 8), ("Hike", 4), ("Gravel Ride", 4), ("Trail Run", 4),
       ("Swim", 4)]
SPEEDS = {"Ride": (6.5, 8.5), "Gravel Ride": (5.5, 7.0), "Virtual Ride": (8.0, 10.0), "Run": (2.7, 3.6),
          "Trail Run": (2.2, 3.0), "Walk": (1.2, 1.5), "Hike": (1.0, 1.3), "Swim": (0.7, 1.0), "Weight Training": (0, 0),
          "Yoga": (0, 0)}
DISTANCES = {"Ride": 48_000, "Gravel Ride": 38_000, "Virtual Ride": 32_000, "Run": 9_500, "Trail Run": 14_000,
             "Walk": 5_000, "Hike": 11_000, "Swim": 2_000}
GEAR = {"Ride": "Canyon Endurace", "Gravel Ride": "Canyon Grail", "Virtual Ride": "Tacx Neo", "Run": "Saucony Kinvara",
        "Trail Run": "Salomon Speedcross"}
NAMES = {
    "Ride": ["Morning Ride", "Lunch Ride", "Col de la Forclaz", "Tour du lac, coffee at Talloires ☕", "Semnoz \"easy\""],
    "Run": ["Morning Run", "Evening Run", "Intervals 6x800", "Long run along the lake"],
    "Walk": ["Afternoon Walk", "Walk with Pixel 🐕"], "Hike": ["Mont Veyrier", "La Tournette"],
    "Swim": ["Pool swim", "Lake swim"], "Virtual Ride": ["Zwift - Volcano Circuit", "Zwift - Group ride"],
    "Gravel Ride": ["Gravel, Glières plateau"], "Trail Run": ["Trail du Semnoz"],
}


def strava_date(moment: datetime) -> str:
    """`May 29, 2022, 3:53:35 PM` (Strava writes UTC)."""
    hour = moment.hour % 12 or 12
    return f"{moment:%b} {moment.day}, {moment.year}, {hour}:{moment:%M:%S} {'AM' if moment.hour < 12 else 'PM'}"


def strava_float(value: float) -> str:
    return repr(float(value))


def loop(rng: random.Random, distance: float, points: int) -> list[tuple[float, float]]:
    radius = max(distance, 500.0) / (2 * math.pi)
    bearing = rng.uniform(0, 2 * math.pi)
    centre = (HOME[0] + radius * math.cos(bearing) / 111_320, HOME[1] + radius * math.sin(bearing) / 77_600)
    route = []
    for i in range(points + 1):
        angle = bearing + math.pi + 2 * math.pi * i / points
        r = radius * rng.uniform(0.9, 1.1)
        route.append((round(centre[0] + r * math.cos(angle) / 111_320, 6), round(centre[1] + r * math.sin(angle) / 77_600, 6)))
    return route


def gpx(name: str, start: datetime, elapsed: int, route: list[tuple[float, float]]) -> bytes:
    step = elapsed / max(1, len(route) - 1)
    points = "\n".join(
        f'   <trkpt lat="{lat}" lon="{lng}"><ele>{450 + 20 * math.sin(i / 7):.1f}</ele>'
        f"<time>{(start + timedelta(seconds=round(i * step))):%Y-%m-%dT%H:%M:%SZ}</time></trkpt>"
        for i, (lat, lng) in enumerate(route)
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<gpx creator="StravaGPX" version="1.1" '
            f'xmlns="http://www.topografix.com/GPX/1/1">\n <metadata><time>{start:%Y-%m-%dT%H:%M:%SZ}</time></metadata>\n'
            f" <trk>\n  <name>{name.replace('&', '&amp;').replace('<', '&lt;')}</name>\n  <type>1</type>\n  <trkseg>\n{points}\n"
            f"  </trkseg>\n </trk>\n</gpx>\n").encode()


def tcx(start: datetime, elapsed: int, route: list[tuple[float, float]], sport: str) -> bytes:
    step = elapsed / max(1, len(route) - 1)
    points = "\n".join(
        f"<Trackpoint><Time>{(start + timedelta(seconds=round(i * step))):%Y-%m-%dT%H:%M:%SZ}</Time>"
        f"<Position><LatitudeDegrees>{lat}</LatitudeDegrees><LongitudeDegrees>{lng}</LongitudeDegrees></Position>"
        f"</Trackpoint>"
        for i, (lat, lng) in enumerate(route)
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<TrainingCenterDatabase '
            f'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">\n<Activities><Activity Sport="{sport}">'
            f"<Id>{start:%Y-%m-%dT%H:%M:%SZ}</Id><Lap StartTime=\"{start:%Y-%m-%dT%H:%M:%SZ}\"><Track>\n{points}\n"
            f"</Track></Lap></Activity></Activities>\n</TrainingCenterDatabase>\n").encode()


def haversine(route: list[tuple[float, float]]) -> float:
    total = 0.0
    for (a, b), (c, d) in zip(route, route[1:], strict=False):
        p1, p2 = math.radians(a), math.radians(c)
        h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(d - b) / 2) ** 2
        total += 2 * 6_371_000 * math.asin(math.sqrt(h))
    return total


def row(rng: random.Random, *, activity_id: int, start: datetime, kind: str, name: str, filename: str, distance: float,
        moving: int, description: str = "") -> list[str]:
    """One activities.csv row, column for column."""
    values = dict.fromkeys(range(len(ENGLISH_COLUMNS)), "")
    elapsed = int(moving * rng.uniform(1.0, 1.2))
    has_hr = kind not in ("Yoga", "Swim") and rng.random() < 0.8
    avg_hr = round(rng.uniform(118, 156), 1) if has_hr else None
    max_hr = float(int(avg_hr + rng.uniform(15, 32))) if avg_hr else None
    flat = kind in ("Swim", "Virtual Ride", "Weight Training", "Yoga")
    gain = 0.0 if flat else round(distance / 1000 * rng.uniform(2, 18), 1)
    commute = kind == "Ride" and rng.random() < 0.1
    watts = round(rng.uniform(150, 240), 1) if kind in ("Virtual Ride", "Ride") and rng.random() < 0.5 else None
    speed = distance / moving if moving and distance else 0.0
    values.update({
        0: str(activity_id), 1: strava_date(start), 2: name, 3: kind, 4: description, 5: str(elapsed),
        6: f"{distance / 1000:.2f}", 7: f"{max_hr:.1f}" if max_hr else "", 8: str(int(moving / 60 * 0.9)) if has_hr else "",
        9: "true" if commute else "false", 10: "", 11: GEAR.get(kind, ""), 12: filename,
        13: "68.0", 14: "8.2" if "Ride" in kind else "",
        15: strava_float(elapsed), 16: strava_float(moving), 17: strava_float(round(distance, 1)),
        18: strava_float(round(speed * rng.uniform(1.4, 2.1), 3)) if speed else "", 19: strava_float(round(speed, 3)),
        20: strava_float(gain), 21: strava_float(gain), 22: strava_float(440.0), 23: strava_float(440.0 + gain * 0.6),
        24: strava_float(round(rng.uniform(3, 14), 1)) if gain else "", 25: "0.0",
        29: strava_float(round(rng.uniform(78, 92), 1)) if kind in ("Ride", "Run", "Virtual Ride") else "",
        30: f"{max_hr:.1f}" if max_hr else "", 31: f"{avg_hr:.1f}" if avg_hr else "",
        32: strava_float(int(watts * 3.4)) if watts else "", 33: strava_float(watts) if watts else "",
        34: strava_float(round(moving / 60 * rng.uniform(7, 12), 1)) if moving else "",
        37: str(int(moving / 60 * 0.9)) if has_hr else "",
        46: strava_float(int(watts * 1.08)) if watts else "",
        50: "1.0" if commute else "0.0", 52: "1.0" if filename else "0.0",
        80: "0.0",
    })
    if filename and rng.random() < 0.4:  # Strava adds the weather to some recorded activities
        values.update({54: str(int(start.timestamp())), 55: str(rng.choice([1, 2, 3])), 56: f"{rng.uniform(4, 26):.1f}",
                       57: f"{rng.uniform(2, 27):.1f}", 59: f"{rng.uniform(0.4, 0.9):.2f}", 61: f"{rng.uniform(0, 6):.2f}"})
    return [values[i] for i in range(len(ENGLISH_COLUMNS))]


def build() -> bytes:
    from activityfiles import classify_file  # the project's own reader: the real files' start times

    rng = random.Random(SEED)
    rows: list[tuple[datetime, str, dict]] = []
    files: dict[str, bytes] = {}
    # Real recordings.
    for source, kind, name, start in REAL:
        path = DATA / source
        start = start or classify_file(path).start_time
        assert start is not None, source
        from warehouse.routes import route_from_file

        route = route_from_file(path.name, path.read_bytes())
        distance = haversine(route) if len(route) > 1 else (1500.0 if kind == "Swim" else 20_000.0)
        rows.append((start, kind, {"name": name, "distance": distance, "real": path}))
    # Generated history: two busy years.
    first, last = datetime(2023, 1, 2, tzinfo=UTC), datetime(2024, 12, 28, tzinfo=UTC)
    kinds = [k for k, w in MIX for _ in range(w)]
    for _ in range(GENERATED):
        start = first + timedelta(seconds=rng.uniform(0, (last - first).total_seconds()))
        start = start.replace(hour=rng.choice([5, 6, 11, 16, 17, 18]), minute=rng.randrange(60), second=rng.randrange(60),
                              microsecond=0)
        kind = rng.choice(kinds)
        distance = min(180_000.0, rng.lognormvariate(math.log(DISTANCES[kind]), 0.35))
        rows.append((start, kind, {"name": rng.choice(NAMES[kind]), "distance": distance}))
    for kind, name in MANUAL:
        start = first + timedelta(days=rng.uniform(0, 700), hours=rng.uniform(0, 10))
        start = start.replace(minute=0, second=0, microsecond=0)
        rows.append((start, kind, {"name": name, "distance": 8000.0 if kind == "Run" else 0.0, "manual": True}))
    rows.sort(key=lambda r: r[0])

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ENGLISH_COLUMNS)
    span = (rows[-1][0] - rows[0][0]).total_seconds()
    for index, (start, kind, info) in enumerate(rows):
        # Strava ids grow with time; all below the simulator's own range (12e9).
        activity_id = int(60_000_000 + (11_900_000_000 - 60_000_000) * ((start - rows[0][0]).total_seconds() / span) ** 2.2) + index
        low, high = SPEEDS[kind]
        moving = int(info["distance"] / rng.uniform(low, high)) if high else int(rng.uniform(1800, 4200))
        filename = ""
        description = ""
        if rng.random() < 0.15:
            description = rng.choice(["Legs felt good, wind from the north, coffee after.",
                                      'New PR on the climb! "Finally"', "Rain 🌧\nthen sun"])
        if not info.get("manual"):
            number = activity_id + 1_000_000_007 + rng.randrange(10_000)
            real = info.get("real")
            if real is not None:
                ext = real.suffix.lower()
                data = real.read_bytes()
                if ext == ".fit":
                    filename = f"activities/{number}.fit.gz"
                    data = gzip.compress(data, mtime=0)
                else:
                    filename = f"activities/{number}{ext}"
            else:
                route = loop(rng, info["distance"], rng.randint(60, 140))
                style = rng.random()
                if kind == "Swim":
                    filename, data = f"activities/{number}.tcx.gz", gzip.compress(tcx(start, moving, [], "Other"), mtime=0)
                elif style < 0.55:
                    filename, data = f"activities/{number}.gpx", gpx(info["name"], start, moving, route)
                elif style < 0.8:
                    filename, data = f"activities/{number}.gpx.gz", gzip.compress(gpx(info["name"], start, moving, route), mtime=0)
                else:
                    sport = "Biking" if "Ride" in kind else "Running"
                    filename, data = f"activities/{number}.tcx.gz", gzip.compress(tcx(start, moving, route, sport), mtime=0)
            files[filename] = data
        writer.writerow(row(rng, activity_id=activity_id, start=start, kind=kind, name=info["name"], filename=filename,
                            distance=info["distance"], moving=moving, description=description))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        def add(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)

        add("activities.csv", out.getvalue().encode())
        for name in sorted(files):
            add(name, files[name])
        for other, header in [
            ("profile.csv", "Athlete ID,Email Address,First Name,Last Name,Sex,Description,Weight,City,State,Country,"
                            "Health Consent Status,Date of Health Consent Status"),
            ("bikes.csv", "Bike Name,Bike Brand,Bike Model,Bike Default Sport Types"),
            ("shoes.csv", "Shoe Name,Shoe Brand,Shoe Model,Shoe Default Sport Types"),
            ("segments.csv", "Segment ID,Segment Name"),
            ("media.csv", "Media Filename,Media Caption"),
        ]:
            add(other, (header + "\n").encode())
    return buffer.getvalue()


# German headers for the columns the importer reads, as German exports write them; the other
# columns get German-looking names the importer does not know, so the fallback by position and
# the report of unknown columns are exercised too.
GERMAN = {
    "Activity ID": "Aktivitäts-ID", "Activity Date": "Aktivitätsdatum", "Activity Name": "Name der Aktivität",
    "Activity Type": "Aktivitätsart", "Activity Description": "Beschreibung der Aktivität",
    "Elapsed Time": "Verstrichene Zeit", "Distance": "Distanz", "Max Heart Rate": "Max. Herzfrequenz",
    "Commute": "Pendeln", "Activity Gear": "Aktivitätsausrüstung", "Filename": "Dateiname",
    "Moving Time": "Bewegungszeit", "Max Speed": "Höchstgeschw.", "Average Speed": "Durchschnittliche Geschwindigkeit",
    "Elevation Gain": "Höhenzunahme", "Elevation Loss": "Höhenunterschied", "Elevation Low": "Min. Höhe",
    "Elevation High": "Max. Höhe", "Average Cadence": "Durchschnittliche Trittfrequenz",
    "Average Heart Rate": "Durchschnittliche Herzfrequenz", "Max Watts": "Max. Watt",
    "Average Watts": "Durchschnittliche Watt", "Calories": "Kalorien",
    "Weighted Average Power": "Gewichtete durchschnittliche Leistung", "Start Time": "Startzeit",
}
GERMAN_TYPES = {"Ride": "Radfahrt", "Run": "Lauf", "Walk": "Spaziergang", "Hike": "Wanderung", "Swim": "Schwimmen",
                "Virtual Ride": "Virtuelle Radfahrt", "Weight Training": "Krafttraining"}


def german_csv(english: bytes) -> bytes:
    """The same activities as a German account exports them."""
    rows = list(csv.reader(io.StringIO(english.decode("utf-8"))))
    header = [GERMAN.get(name, f"{name} (de)") for name in rows[0]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for values in rows[1:]:
        values = list(values)
        start = datetime.strptime(values[1], "%b %d, %Y, %I:%M:%S %p")
        values[1] = f"{start:%d.%m.%Y, %H:%M:%S}"
        values[3] = GERMAN_TYPES.get(values[3], values[3])
        values[6] = values[6].replace(".", ",")  # the summary distance, in km, with a decimal comma
        writer.writerow(values)
    return out.getvalue().encode("utf-8")


def record_provenance(data: bytes) -> None:
    """Keep the zip's row in tests/data/PROVENANCE.csv (hash and size), as make_broken.py does for its files."""
    import hashlib

    path = DATA / "PROVENANCE.csv"
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames or [], list(reader)
    name = OUT.relative_to(DATA).as_posix()
    row = dict.fromkeys(fields, "")
    row.update(file=name, sha256=hashlib.sha256(data).hexdigest(), size=str(len(data)),
               source_repository="generated by tests/data/strava_export/make_export.py",
               source_path="Strava export: activities.csv + activity files (see strava_export/PROVENANCE.md)")
    rows = [r for r in rows if r["file"] != name] + [row]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    data = build()
    OUT.write_bytes(data)
    record_provenance(data)
    with zipfile.ZipFile(io.BytesIO(data)) as check:
        count = len(list(csv.reader(io.StringIO(check.read("activities.csv").decode())))) - 1
    print(f"wrote {OUT.relative_to(ROOT)}: {len(data):,} bytes, {count} activities")
