"""Fair share of permits between athletes: round-robin over whoever has work ready."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import OuterRef, QuerySet, Subquery

from .models import FairShareTurn


def _athletes_in_turn(queryset: QuerySet, count: int, *, after: int | None,
                      order_by: Sequence[str]) -> list[tuple[int, int]]:
    """Up to `count` (athlete, first ready row) pairs, athletes in rotation order from the one after `after`.

    Walks the athlete table in key order and probes each athlete's first ready row (an index probe on a
    backlog index such as `activity_enrich_backlog`), stopping at `count`: the cost follows the
    athletes looked at, never the backlog's length (ranking a million rows took seconds a tick).
    """
    athletes = queryset.model._meta.get_field("athlete").related_model._default_manager
    first = Subquery(queryset.filter(athlete_id=OuterRef("pk")).order_by(*order_by).values("pk")[:1])
    having = athletes.order_by("pk").annotate(first=first).filter(first__isnull=False).values_list("pk", "first")
    found = list(having.filter(pk__gt=after)[:count]) if after is not None else list(having[:count])
    if after is not None and len(found) < count:
        found += list(having.filter(pk__lte=after)[: count - len(found)])
    return found


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
