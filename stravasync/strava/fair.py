"""Fair share of permits between athletes: round-robin over whoever has work ready."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import F, OrderBy, QuerySet, Window
from django.db.models.functions import RowNumber

from .models import FairShareTurn


def _order(field: str) -> OrderBy | F:
    """`"-start_date"` sorts descending, as in `order_by()`."""
    return F(field[1:]).desc() if field.startswith("-") else F(field)


def fair_pick(queryset: QuerySet, count: int, *, key: str, order_by: Sequence[str] = ("id",)) -> list[int]:
    """Primary keys of up to `count` rows, taken one athlete at a time in rotation.

    Each athlete's rows keep their own order (`order_by`, "-field" for descending); athletes take turns, and the turn
    order rotates between calls (remembered under `key` in the database, so every dispatcher process
    shares it) so that when permits are fewer than athletes, nobody is always last. One query,
    however long the backlog.
    """
    if count <= 0:
        return []
    athletes = queryset.order_by().values("athlete_id").distinct().count()
    if athletes == 0:
        return []
    ranked = (
        queryset.annotate(
            turn=Window(RowNumber(), partition_by=[F("athlete_id")], order_by=[_order(f) for f in order_by])
        )
        .filter(turn__lte=count)
        .order_by("turn", "athlete_id")
        .values_list("pk", "athlete_id", "turn")[: count + athletes]
    )
    rows = list(ranked)
    last_served = FairShareTurn.objects.filter(key=key).values_list("last_athlete_id", flat=True).first()
    ids = sorted({athlete for _, athlete, _ in rows})
    start = 0
    if last_served is not None:
        start = next((i for i, a in enumerate(ids) if a > last_served), 0)
    position = {athlete: (i - start) % len(ids) for i, athlete in enumerate(ids)}
    rows.sort(key=lambda row: (row[2], position[row[1]]))
    chosen = rows[:count]
    if chosen:
        FairShareTurn.objects.update_or_create(key=key, defaults={"last_athlete_id": chosen[-1][1]})
    return [pk for pk, _, _ in chosen]
