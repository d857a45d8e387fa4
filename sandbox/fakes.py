"""Plausible athletes, segments, activities and efforts: unsaved model instances from a seeded RNG."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sandbox import geo
from sandbox.models import SimActivity, SimAthlete, SimSegment, SimSegmentEffort


@dataclass(frozen=True)
class City:
    name: str
    state: str
    country: str
    lat: float
    lng: float
    altitude: float
    timezone: str


CITIES = [
    City("Oakland", "CA", "United States", 37.8044, -122.2712, 20.0, "America/Los_Angeles"),
    City("Boulder", "CO", "United States", 40.0150, -105.2705, 1655.0, "America/Denver"),
    City("Girona", "Catalonia", "Spain", 41.9794, 2.8214, 75.0, "Europe/Madrid"),
    City("Annecy", "Auvergne-Rhône-Alpes", "France", 45.8992, 6.1294, 448.0, "Europe/Paris"),
    City("Utrecht", "Utrecht", "Netherlands", 52.0907, 5.1214, 5.0, "Europe/Amsterdam"),
]

FIRST_NAMES = [
    "Anna",
    "Ben",
    "Chloé",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Katrin",
    "Luca",
    "Marta",
    "Nils",
    "Olga",
    "Pablo",
    "Quentin",
    "Rosa",
    "Sven",
    "Tara",
    "Ugo",
    "Vera",
    "Wim",
    "Yara",
    "Zoe",
]
LAST_NAMES = [
    "Alvarez",
    "Bakker",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Hansen",
    "Ivanova",
    "Jansen",
    "Keller",
    "Lambert",
    "Moreau",
    "Novak",
    "Olsen",
    "Peeters",
    "Quint",
    "Rossi",
    "Schmidt",
    "Tanaka",
]
SEGMENT_PLACES = [
    "Old Mill",
    "Ridge Road",
    "Church Hill",
    "Lakeside",
    "Quarry",
    "Vineyard",
    "Harbour",
    "Station",
    "Forest Gate",
    "Summit",
    "Canal",
    "Castle",
    "Windmill",
    "Orchard",
    "Bridge",
    "Monastery",
    "Pine",
]
SEGMENT_KINDS = {"Ride": ["Climb", "Sprint", "Drag", "KOM", "Descent", "TT"], "Run": ["Hill", "Loop", "Dash", "Mile"]}
CUSTOM_NAMES = {
    "Ride": ["Coffee ride", "Tempo intervals", "Recovery spin", "Hill repeats", "Group ride", "Gravel adventure"],
    "VirtualRide": ["Zwift - Watopia", "Zwift - Tempus Fugit", "Zwift - Group Ride", "TrainerRoad workout"],
    "Run": ["Easy run", "Long run", "Track session", "Tempo run", "Parkrun", "Trail run"],
    "Swim": ["Pool swim", "Open water", "Masters swim"],
    "Walk": ["Walk with the dog", "Evening stroll", "Hike"],
}
DEVICES = {
    "Ride": ["Garmin Edge 530", "Garmin Edge 1040", "Wahoo ELEMNT BOLT", "Hammerhead Karoo 2"],
    "VirtualRide": ["Zwift", "TrainerRoad"],
    "Run": ["Garmin Forerunner 255", "COROS PACE 2", "Polar Vantage V2", "Strava App"],
    "Swim": ["Garmin Forerunner 955", "Garmin Swim 2"],
    "Walk": ["Strava App", "Garmin Fenix 7"],
}
# Weights of the sports in a seeded history.
SPORT_MIX = [("Ride", 0.42), ("Run", 0.30), ("VirtualRide", 0.10), ("Walk", 0.10), ("Swim", 0.08)]


def day_part(hour: int) -> str:
    """The words Strava uses for an activity's default name, by local start hour."""
    if 4 <= hour < 11:
        return "Morning"
    if 11 <= hour < 14:
        return "Lunch"
    if 14 <= hour < 18:
        return "Afternoon"
    if 18 <= hour < 22:
        return "Evening"
    return "Night"


def default_name(sport_type: str, start_local: datetime) -> str:
    noun = {"VirtualRide": "Virtual Ride", "GravelRide": "Gravel Ride", "MountainBikeRide": "Mountain Bike Ride"}
    return f"{day_part(start_local.hour)} {noun.get(sport_type, sport_type)}"


def city_for(athlete: SimAthlete) -> City:
    return next((c for c in CITIES if c.name == athlete.city), CITIES[0])


def athlete_fields(rng: random.Random) -> dict[str, object]:
    """Random values for a new simulated athlete (names excepted)."""
    city = rng.choice(CITIES)
    home = geo.offset((city.lat, city.lng), north_m=rng.uniform(-6000, 6000), east_m=rng.uniform(-6000, 6000))
    sex = rng.choice("MF")
    return {
        "city": city.name,
        "state": city.state,
        "country": city.country,
        "sex": sex,
        "premium": rng.random() < 0.4,
        "timezone": city.timezone,
        "home_lat": round(home[0], 6),
        "home_lng": round(home[1], 6),
        "weight": round(rng.uniform(52, 70) if sex == "F" else rng.uniform(62, 85), 1),
        "ftp": rng.randint(170, 330) if rng.random() < 0.6 else None,
    }


def random_name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def climb_category(distance: float, grade: float) -> int:
    """Strava's categories from distance (m) x grade (%): 0 none, 1 cat 4 ... 4 cat 1, 5 HC."""
    score = distance * grade
    for category, threshold in ((5, 80_000), (4, 64_000), (3, 32_000), (2, 16_000), (1, 8_000)):
        if score >= threshold:
            return category
    return 0


def segment_build(rng: random.Random, *, city: City, now: datetime) -> SimSegment:
    activity_type = "Ride" if rng.random() < 0.65 else "Run"
    distance = rng.uniform(400, 12_000) if activity_type == "Ride" else rng.uniform(200, 5_000)
    grade = round(rng.triangular(-3, 10, 3), 1)
    start = geo.offset((city.lat, city.lng), north_m=rng.uniform(-15_000, 15_000), east_m=rng.uniform(-15_000, 15_000))
    bearing = rng.uniform(0, 2 * math.pi)
    end = geo.offset(start, north_m=distance * 0.9 * math.cos(bearing), east_m=distance * 0.9 * math.sin(bearing))
    low = city.altitude + rng.uniform(0, 300)
    high = low + max(distance * grade / 100, rng.uniform(2, 10))
    effort_count = int(rng.paretovariate(1.2) * 300)
    created = now - timedelta(days=rng.uniform(365, 15 * 365))
    place, kind = rng.choice(SEGMENT_PLACES), rng.choice(SEGMENT_KINDS[activity_type])
    return SimSegment(
        name=f"{place} {kind}",
        activity_type=activity_type,
        distance=round(distance, 1),
        average_grade=grade,
        maximum_grade=round(max(grade, 0) + rng.uniform(2, 12), 1),
        elevation_high=round(high, 1),
        elevation_low=round(low, 1),
        start_lat=round(start[0], 6),
        start_lng=round(start[1], 6),
        end_lat=round(end[0], 6),
        end_lng=round(end[1], 6),
        climb_category=climb_category(distance, max(grade, 0)),
        city=city.name,
        state=city.state,
        country=city.country,
        hazardous=rng.random() < 0.03,
        polyline=geo.polyline_encode(geo.line(start, end, rng)),
        effort_count=effort_count,
        athlete_count=max(1, effort_count // rng.randint(4, 15)),
        star_count=effort_count // rng.randint(50, 200),
        popularity=rng.paretovariate(1.1),
        created_at=created,
        updated_at=created + timedelta(days=rng.uniform(0, 365)),
    )


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([k for k, _ in weighted], weights=[w for _, w in weighted])[0]


def random_start(rng: random.Random, *, tz: ZoneInfo, earliest: datetime, latest: datetime) -> datetime:
    """A start time in the athlete's local habits: mornings, lunch and evenings, later on weekends."""
    day = earliest + timedelta(seconds=rng.uniform(0, max((latest - earliest).total_seconds(), 1)))
    local = day.astimezone(tz)
    hour = rng.choices([6, 7, 8, 9, 10, 12, 13, 16, 17, 18, 19, 20], weights=[6, 10, 8, 6, 6, 5, 3, 3, 8, 10, 6, 3])[0]
    if local.weekday() >= 5:
        hour = rng.choice([7, 8, 9, 10])
    local = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
    return min(local.astimezone(ZoneInfo("UTC")), latest.replace(microsecond=0))


def activity_build(
    rng: random.Random,
    *,
    athlete: SimAthlete,
    start_date: datetime,
    sport: str | None = None,
    trainer: bool | None = None,
    commute: bool | None = None,
) -> SimActivity:
    """A plausible activity of `athlete` starting at `start_date` (aware, UTC).

    Strava's `start_date` has one-second resolution, so the simulator's has too: a start
    carrying microseconds would never equal the same start read back from our JSON.
    """
    start_date = start_date.replace(microsecond=0)
    sport = sport or _pick(rng, SPORT_MIX)
    tz = ZoneInfo(athlete.timezone or "UTC")
    city = city_for(athlete)
    activity = SimActivity(athlete=athlete, start_date=start_date, timezone=athlete.timezone or "UTC")
    is_commute = commute if commute is not None else sport == "Ride" and rng.random() < 0.12
    activity.commute = is_commute
    if sport in ("Ride", "VirtualRide"):
        virtual = sport == "VirtualRide"
        activity.type = sport
        activity.sport_type = sport if virtual else _pick(rng, [("Ride", 0.75), ("GravelRide", 0.15), ("MountainBikeRide", 0.10)])
        distance = rng.uniform(5_000, 20_000) if is_commute else rng.lognormvariate(math.log(45_000), 0.45)
        speed = rng.uniform(8.0, 10.5) if virtual else rng.uniform(6.0, 9.0)
        activity.trainer = virtual if trainer is None else trainer
        activity.total_elevation_gain = round(distance / 1000 * rng.uniform(1, 15), 1)
        activity.average_cadence = round(rng.uniform(75, 95), 1)
        if virtual or rng.random() < 0.5:
            watts = rng.uniform(120, 260)
            activity.average_watts = round(watts, 1)
            activity.weighted_average_watts = int(watts * rng.uniform(1.04, 1.15))
            activity.max_watts = int(watts * rng.uniform(2.5, 4.5))
            activity.device_watts = True
        activity.gear_id = f"b{athlete.pk * 10 + rng.randint(1, 2)}"
        activity.workout_type = 10 if rng.random() < 0.1 else None
    elif sport == "Run":
        activity.type = "Run"
        activity.sport_type = "Run" if rng.random() < 0.85 else "TrailRun"
        distance = rng.lognormvariate(math.log(9_000), 0.4)
        speed = rng.uniform(2.6, 4.2)
        activity.trainer = bool(trainer)
        activity.total_elevation_gain = round(distance / 1000 * rng.uniform(2, 25), 1)
        activity.average_cadence = round(rng.uniform(80, 92), 1)
        activity.gear_id = f"g{athlete.pk * 10 + rng.randint(1, 2)}"
        activity.workout_type = rng.choices([0, 1, 2, 3], weights=[80, 4, 8, 8])[0]
    elif sport == "Swim":
        activity.type = activity.sport_type = "Swim"
        distance = float(rng.randrange(800, 4_000, 50))
        speed = rng.uniform(0.6, 1.1)
        activity.trainer = bool(trainer)
    else:
        activity.type = activity.sport_type = "Hike" if rng.random() < 0.2 else "Walk"
        distance = rng.uniform(2_000, 12_000)
        speed = rng.uniform(1.1, 1.6)
        activity.trainer = bool(trainer)
        activity.total_elevation_gain = round(distance / 1000 * rng.uniform(2, 30), 1)
    distance = min(distance, 250_000)
    activity.distance = round(distance, 1)
    activity.moving_time = max(60, int(distance / speed))
    activity.elapsed_time = int(activity.moving_time * rng.uniform(1.0, 1.25))
    activity.average_speed = round(distance / activity.moving_time, 3)
    activity.max_speed = round(activity.average_speed * rng.uniform(1.3, 2.2), 3)
    activity.elev_low = round(city.altitude + rng.uniform(-10, 50), 1)
    activity.elev_high = round(activity.elev_low + activity.total_elevation_gain * rng.uniform(0.3, 0.8), 1)
    if activity.average_watts is not None:
        activity.kilojoules = round(activity.average_watts * activity.moving_time / 1000, 1)
        activity.calories = round(activity.kilojoules * rng.uniform(1.0, 1.1), 1)
    else:
        activity.calories = round(distance / 1000 * rng.uniform(30, 70), 1)
    if rng.random() < 0.7:
        activity.has_heartrate = True
        activity.average_heartrate = round(rng.uniform(115, 160), 1)
        activity.max_heartrate = float(int(activity.average_heartrate + rng.uniform(15, 35)))
        activity.suffer_score = int(activity.moving_time / 60 * rng.uniform(0.5, 1.5))
    activity.manual = rng.random() < 0.02
    activity.device_name = "" if activity.manual else rng.choice(DEVICES.get(sport, DEVICES["Walk"]))
    outdoors = not activity.trainer and not activity.manual and not (sport == "Swim" and rng.random() < 0.8)
    if outdoors:
        home = (athlete.home_lat, athlete.home_lng)
        route = geo.loop(home, distance, rng)
        activity.summary_polyline = geo.polyline_encode(route)
        activity.start_lat, activity.start_lng = round(route[0][0], 6), round(route[0][1], 6)
        activity.end_lat, activity.end_lng = round(route[-1][0], 6), round(route[-1][1], 6)
    activity.private = rng.random() < 0.08
    activity.visibility = "only_me" if activity.private else rng.choice(["everyone", "everyone", "followers_only"])
    activity.kudos_count = int(rng.paretovariate(1.5) * 2) - 2 if rng.random() < 0.8 else 0
    activity.comment_count = rng.choices([0, 1, 2, 3, 5], weights=[70, 15, 8, 5, 2])[0]
    activity.athlete_count = rng.choices([1, 2, 3, 5, 12], weights=[70, 15, 8, 5, 2])[0]
    activity.total_photo_count = rng.choices([0, 1, 3], weights=[85, 10, 5])[0]
    activity.photo_count = 0
    start_local = start_date.astimezone(tz)
    activity.name = (
        rng.choice(CUSTOM_NAMES.get(sport, CUSTOM_NAMES["Walk"]))
        if rng.random() < 0.25
        else ("Commute" if is_commute and rng.random() < 0.5 else default_name(activity.sport_type, start_local))
    )
    if not activity.manual:
        activity.external_id = f"garmin_ping_{rng.randrange(10**11, 10**12)}"
        activity.upload_id = rng.randrange(10**12, 10**13)
    return activity


def efforts_build(
    rng: random.Random, *, activity: SimActivity, segments: list[SimSegment], weights: list[float]
) -> list[SimSegmentEffort]:
    """0–12 efforts for a ride or run on the segments of its type, mostly the popular ones."""
    if activity.type not in ("Ride", "Run") or activity.trainer or activity.manual or not segments:
        return []
    wanted = min(12, len(segments), int(rng.uniform(0, 1.3) * activity.distance / 5_000))
    chosen: dict[int, SimSegment] = {}
    for segment in rng.choices(segments, weights=weights, k=wanted * 2):
        if len(chosen) >= wanted:
            break
        chosen.setdefault(segment.pk, segment)
    efforts = []
    offset_s = 0.0
    for index, segment in enumerate(chosen.values()):
        speed = activity.average_speed * rng.uniform(0.85, 1.15) / (1 + max(segment.average_grade, 0) / 12)
        elapsed = max(5, int(segment.distance / max(speed, 0.5)))
        offset_s = min(offset_s + rng.uniform(60, 900), max(activity.elapsed_time - elapsed, 0))
        start_index = int(offset_s)
        roll = rng.random()
        efforts.append(
            SimSegmentEffort(
                activity=activity,
                athlete_id=activity.athlete_id,
                segment_id=segment.pk,
                name=segment.name,
                elapsed_time=elapsed,
                moving_time=max(1, elapsed - rng.randint(0, 3)),
                start_date=activity.start_date + timedelta(seconds=start_index),  # whole seconds, as Strava
                distance=round(segment.distance * rng.uniform(0.99, 1.01), 1),
                start_index=start_index,
                end_index=start_index + elapsed,
                average_cadence=activity.average_cadence,
                average_watts=round(activity.average_watts * rng.uniform(0.9, 1.3), 1) if activity.average_watts else None,
                device_watts=activity.device_watts,
                average_heartrate=round(activity.average_heartrate + rng.uniform(-5, 10), 1)
                if activity.average_heartrate
                else None,
                max_heartrate=activity.max_heartrate,
                pr_rank=rng.randint(1, 3) if roll < 0.12 else None,
                kom_rank=rng.randint(1, 10) if roll < 0.012 or (index == 0 and rng.random() < 0.005) else None,
            )
        )
    activity.pr_count = sum(1 for e in efforts if e.pr_rank == 1)
    activity.achievement_count = sum(1 for e in efforts if e.pr_rank or e.kom_rank)
    return efforts
