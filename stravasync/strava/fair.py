"""Fair share of permits between athletes: round-robin over whoever has work ready."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from .models import FairShareTurn


def _athletes_in_turn(queryset: QuerySet, count: int, *, after: int | None,
                      order_by: Sequence[str]) -> list[tuple[int, int]]:
    """Up to `count` (athlete, first ready row) pairs, athletes in rotation order from the one after `after`."""
    if after is None:
        return _athletes_with_work(queryset, count, order_by=order_by)
    found = _athletes_with_work(queryset.filter(athlete_id__gt=after), count, order_by=order_by)
    if len(found) < count:
        found += _athletes_with_work(queryset.filter(athlete_id__lte=after), count - len(found), order_by=order_by)
    return found


def _athletes_with_work(queryset: QuerySet, count: int, *, order_by: Sequence[str]) -> list[tuple[int, int]]:
    """The first `count` athletes (by id) with a row in `queryset`, each with its first row in `order_by`.

    A loose index scan in one recursive query: each step asks a backlog index (one leading with the
    athlete, such as `activity_enrich_backlog`) for the next athlete above the last one found, so the
    cost follows the athletes found, never the backlog's length nor the athletes without work (walking
    the athlete table took half a second a tick when 1 in 30 athletes was due for a pull).
    """
    turn = RawSQL('"fair_turn"."athlete_id"', ())
    first, first_params = _sql(queryset.order_by("athlete_id").values("athlete_id")[:1])
    following, following_params = _sql(queryset.filter(athlete_id__gt=turn).order_by("athlete_id")
                                       .values("athlete_id")[:1])
    row, row_params = _sql(queryset.filter(athlete_id=turn).order_by(*order_by).values("pk")[:1])
    sql = (
        f'WITH RECURSIVE "fair_turn"("athlete_id", "n") AS ('  # noqa: S608 (the ORM's own SQL, values as parameters)
        f"SELECT ({first}), 1 UNION ALL "
        f'SELECT ({following}), "fair_turn"."n" + 1 FROM "fair_turn" '
        f'WHERE "fair_turn"."athlete_id" IS NOT NULL AND "fair_turn"."n" < %s) '
        f'SELECT "fair_turn"."athlete_id", ({row}) FROM "fair_turn" WHERE "fair_turn"."athlete_id" IS NOT NULL '
        f'ORDER BY "fair_turn"."n"'
    )
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, (*first_params, *following_params, count, *row_params))
        return [(athlete, pk) for athlete, pk in cursor.fetchall() if pk is not None]


def _sql(queryset: QuerySet) -> tuple[str, tuple]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def fair_pick(queryset: QuerySet, count: int, *, key: str, order_by: Sequence[str] = ("id",)) -> list[int]:
    """Primary keys of up to `count` rows, taken one athlete at a time in rotation.

    Each athlete's rows keep their own order (`order_by`, "-field" for descending); athletes take turns, and the turn
    order rotates between calls (remembered under `key` in the database, so every dispatcher process
    shares it) so that when permits are fewer than athletes, nobody is always last. With as many
    athletes as permits, one query; with fewer, one more per athlete (each at most `count` rows).
    """
    if count <= 0:
        return []
    last_served = FairShareTurn.objects.filter(key=key).values_list("last_athlete_id", flat=True).first()
    found = _athletes_in_turn(queryset, count, after=last_served, order_by=order_by)
    if not found:
        return []
    if len(found) >= count:
        chosen = [(athlete, pk) for athlete, pk in found]
    else:
        # Fewer athletes than permits: each may take several, turn by turn.
        queues = [(athlete, list(queryset.filter(athlete_id=athlete).order_by(*order_by)
                                 .values_list("pk", flat=True)[:count])) for athlete, _ in found]
        chosen = []
        for turn in range(count):
            chosen += [(athlete, rows[turn]) for athlete, rows in queues if turn < len(rows)]
        chosen = chosen[:count]
    FairShareTurn.objects.update_or_create(key=key, defaults={"last_athlete_id": chosen[-1][0]})
    return [pk for _, pk in chosen]
