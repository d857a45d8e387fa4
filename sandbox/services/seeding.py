"""Simulated athletes and their history: segments, activities and efforts, seeded in bulk."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connections, router, transaction
from django.db.models import Field, Model
from django.utils import timezone

from sandbox import fakes, webhooks
from sandbox.models import (
    SimActivity,
    SimAthlete,
    SimSegment,
    SimSegmentEffort,
    SimToken,
)


def sim_athlete_create(
    *, firstname: str = "", lastname: str = "", username: str = "", rng: random.Random | None = None, **fields: Any
) -> SimAthlete:
    """A simulated athlete with a home, a timezone and a body; blank names are made up."""
    rng = rng or random.Random()
    made_up_first, made_up_last = fakes.random_name(rng)
    values: dict[str, Any] = {**fakes.athlete_fields(rng), **fields}
    athlete = SimAthlete.objects.create(
        firstname=firstname.strip() or made_up_first,
        lastname=lastname.strip() or made_up_last,
        username=username,
        **values,
    )
    return athlete


def sim_segments_seed(*, count: int, rng: random.Random | None = None, now: datetime | None = None) -> list[SimSegment]:
    """`count` segments spread over the cities athletes live in."""
    rng = rng or random.Random()
    now = now or timezone.now()
    segments = [fakes.segment_build(rng, city=fakes.CITIES[i % len(fakes.CITIES)], now=now) for i in range(count)]
    return SimSegment.objects.bulk_create(segments, batch_size=500)


def _unique_starts(rng: random.Random, *, athlete: SimAthlete, count: int, earliest: datetime, latest: datetime) -> list[datetime]:
    tz = ZoneInfo(athlete.timezone or "UTC")
    taken = set(SimActivity.objects.filter(athlete=athlete).values_list("start_date", flat=True))
    starts = []
    for _ in range(count):
        start = fakes.random_start(rng, tz=tz, earliest=earliest, latest=latest)
        while start in taken:
            start -= timedelta(seconds=1)
        taken.add(start)
        starts.append(start)
    return starts


def sim_activities_seed(
    athlete: SimAthlete,
    count: int,
    *,
    segments: list[SimSegment] | None = None,
    rng: random.Random | None = None,
    years: float = 3.0,
    now: datetime | None = None,
) -> list[SimActivity]:
    """`count` activities over the past `years`, with efforts on the segments near the athlete.

    The applications the athlete has authorized get a create event for each (if subscribed).
    """
    rng = rng or random.Random()
    now = (now or timezone.now()).replace(microsecond=0)  # Strava's one-second resolution
    if segments is None:
        segments = list(SimSegment.objects.all())
    segments = [s for s in segments if s.city == athlete.city] or segments
    by_type: dict[str, list[SimSegment]] = {"Ride": [], "Run": []}
    for segment in segments:
        by_type.setdefault(segment.activity_type, []).append(segment)
    weights = {kind: [s.popularity for s in pool] for kind, pool in by_type.items()}

    starts = _unique_starts(rng, athlete=athlete, count=count, earliest=now - timedelta(days=365 * years), latest=now)
    activities, efforts = [], []
    for start in starts:
        activity = fakes.activity_build(rng, athlete=athlete, start_date=start)
        pool = by_type.get(activity.type, [])
        efforts += fakes.efforts_build(rng, activity=activity, segments=pool, weights=weights.get(activity.type, []))
        activities.append(activity)
    with transaction.atomic():
        _bulk_insert(SimActivity, activities)
        for effort in efforts:
            effort.activity_id = effort.activity.pk
        _bulk_insert(SimSegmentEffort, efforts)
        # An athlete who has authorized an application: Strava tells it of each new activity.
        if SimToken.objects.filter(athlete=athlete, revoked_at__isnull=True).exists():
            for activity in activities:
                webhooks.activity_event_send(activity=activity, aspect_type="create")
    return activities


def _bulk_insert[M: Model](model: type[M], objs: list[M]) -> None:
    """bulk_create, or on SQLite a plain executemany with ids assigned here: ten times faster for seeding.

    Safe because SQLite transactions here are IMMEDIATE: nobody else inserts between reading the
    highest id and writing, and AUTOINCREMENT then moves its sequence past the ids used.
    """
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "sqlite" or not objs:
        model._default_manager.bulk_create(objs, batch_size=500)  # `objects`: these models have no other manager
        return
    table, fields = model._meta.db_table, model._meta.concrete_fields
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [table])
        last = cursor.fetchone()[0]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        last = max(last, cursor.fetchone()[0])
        rows = []
        for pk, obj in enumerate(objs, start=last + 1):
            obj.pk = pk
            obj._state.adding, obj._state.db = False, connection.alias
            values = (getattr(obj, field.attname) for field in fields)
            rows.append([adapt(v) if isinstance(v, datetime) else v for v in values])
        columns = ", ".join(connection.ops.quote_name(_column(field)) for field in fields)
        marks = ", ".join(["%s"] * len(fields))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _column(field: Field[Any, Any]) -> str:
    """A concrete field's column: Django calls a field concrete when it has one, so it is never None here."""
    if field.column is None:
        raise ValueError(f"{field.name} has no column of its own")
    return field.column


@dataclass(frozen=True)
class SeedResult:
    athletes: list[SimAthlete]
    activities: int
    segments_created: int


def sim_seed(
    *, athletes: int, activities: int, segments: int = 300, seed: int | None = None, username_prefix: str = "sim"
) -> SeedResult:
    """Athletes with years of history on a shared segment pool; running it again adds more athletes."""
    rng = random.Random(seed)
    now = timezone.now()
    missing = max(0, segments - SimSegment.objects.count())
    sim_segments_seed(count=missing, rng=rng, now=now)
    pool = list(SimSegment.objects.all())
    first = SimAthlete.objects.filter(username__startswith=username_prefix).count() + 1
    created, total = [], 0
    for number in range(first, first + athletes):
        athlete = sim_athlete_create(
            username=f"{username_prefix}{number}",
            rng=rng,
            created_at=now - timedelta(days=rng.uniform(3 * 365, 8 * 365)),
        )
        total += len(sim_activities_seed(athlete, activities, segments=pool, rng=rng, now=now))
        created.append(athlete)
    return SeedResult(athletes=created, activities=total, segments_created=missing)
