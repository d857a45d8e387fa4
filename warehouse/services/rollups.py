"""The weekly and monthly totals (Rollup): derived from the activities, recomputed for the periods touched.

Its own module because every writer of activities refreshes them: the Strava upsert, the files,
the export import and the webhooks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q

from warehouse.models import Activity, Rollup

ROLLUP_COLUMNS = ("start_day", "sport_type", "distance", "moving_time", "elapsed_time", "total_elevation_gain")


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def rollups_refresh(*, athlete_id: int, days: Iterable[date] | None = None) -> int:
    """Recompute the weekly and monthly totals that contain `days` (all of them when None).

    The rollups are derived data: recomputed from the activities of the periods touched, so
    they cannot drift; stats then read a few hundred rows instead of every activity.
    """
    day_set = set(days) if days is not None else None
    if day_set is not None and not day_set:
        return 0
    activities = Activity.objects.filter(athlete_id=athlete_id)
    weeks: set[date] | None = None
    months: set[date] | None = None
    if day_set is not None:
        weeks = {_week(d) for d in day_set}
        months = {_month(d) for d in day_set}
        activities = activities.filter(start_day__gte=min(min(weeks), min(months)),
                                       start_day__lt=max(max(weeks) + timedelta(days=7), _next_month(max(months))))
    totals: dict[tuple[str, date, str], list[float]] = defaultdict(lambda: [0, 0.0, 0, 0, 0.0])
    for day, sport, distance, moving, elapsed, gain in activities.values_list(*ROLLUP_COLUMNS).iterator(chunk_size=5000):
        for period, start, wanted in (("week", _week(day), weeks), ("month", _month(day), months)):
            if wanted is not None and start not in wanted:
                continue
            row = totals[(period, start, sport)]
            row[0] += 1
            row[1] += distance or 0.0
            row[2] += moving or 0
            row[3] += elapsed or 0
            row[4] += gain or 0.0
    rows = [
        Rollup(athlete_id=athlete_id, period=period, start=start, sport_type=sport, count=int(v[0]), distance=v[1],
               moving_time=int(v[2]), elapsed_time=int(v[3]), elevation_gain=v[4])
        for (period, start, sport), v in totals.items()
    ]
    with transaction.atomic():
        stale = Rollup.objects.filter(athlete_id=athlete_id)
        if weeks is not None and months is not None:
            stale = stale.filter(Q(period="week", start__in=weeks) | Q(period="month", start__in=months))
        stale.delete()
        Rollup.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
