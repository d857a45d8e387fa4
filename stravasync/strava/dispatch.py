"""The dispatcher tick: every backlog takes the permits the quota grants now, and no more."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.module_loading import import_string

from . import quota
from .fair import fair_pick
from .quota import Kind, Priority

logger = logging.getLogger(__name__)

# Within one tick: the priorities that had more work ready than their batch took. A lower priority
# takes nothing after them in that tick, or it would spend the window the higher one needs next
# tick (a per-tick batch is a limit on the broker, not a share of the quota).
_outgrown: ContextVar[set[Priority] | None] = ContextVar("dispatch_outgrown", default=None)


def dispatch_tick() -> dict[str, int]:
    """Run each registered step once (settings.DISPATCH_STEPS); a failing step never stops the others."""
    done: dict[str, int] = {}
    outgrown = _outgrown.set(set())
    try:
        for path in settings.DISPATCH_STEPS:
            try:
                done[path] = int(import_string(path)() or 0)
            except Exception:  # the loop must survive one bad step
                logger.exception("dispatch step %s failed", path)
                done[path] = 0
    finally:
        _outgrown.reset(outgrown)
    heartbeat_record(name="dispatcher")
    return done


def heartbeat_record(*, name: str) -> None:
    """Say this loop is alive (/healthz reads it; the row is shared by every machine)."""
    from django.utils import timezone

    from .models import Heartbeat

    if not Heartbeat.objects.filter(name=name).update(beat_at=timezone.now()):
        Heartbeat.objects.get_or_create(name=name, defaults={"beat_at": timezone.now()})


def ready_up_to(ready: QuerySet, batch: int) -> int:
    """How many rows of `ready` there are, counting no further than `batch` (what a step may ask permits for).

    Without an ORDER BY: the number needs no order, and a LIMIT without one stops at the first rows any
    index yields (ordered, PostgreSQL sorted the whole enrich backlog each tick to count to 50).
    """
    return len(ready.order_by().values_list("pk", flat=True)[:batch])


def permits_hand_out[A](
    *,
    ready: QuerySet,
    wanted: int,
    kind: Kind,
    priority: Priority,
    fair_key: str | None,
    order_by: Sequence[str],
    claim: Callable[[int], A | None] | None = None,
    run: Callable[[A, dict], object],
    task: str,
    label: str,
    inline: bool = False,
    claim_all: Callable[[list[int]], list[A]] | None = None,
) -> int:
    """The one dispatch pattern: take up to `wanted` permits, pick that many rows (fairly between
    athletes under `fair_key`; None: rows not owned by an athlete, in `ready`'s own order), claim
    each (`claim(pk)` gives the task's argument, a tuple for several, or None if someone else has
    it; or `claim_all(pks)` the whole batch, giving the arguments of the rows it took), give back the
    permits of rows not claimed, and hand each claimed row one permit — run here
    when `inline`, else as a django-q2 task `task(*args, permit)`, enqueued on commit. Returns how many were handed out.
    In a dispatcher tick, nothing is handed out while a higher priority has more ready than its batch took."""
    from django_q.tasks import async_task

    if wanted <= 0:
        return 0
    outgrown = _outgrown.get()
    if outgrown is not None and any(higher < priority for higher in outgrown):
        return 0
    more_ready = outgrown is not None and ready[wanted:wanted + 1].exists()
    grant = quota.acquire(kind=kind, priority=priority, count=wanted)
    if not grant.granted:
        return 0
    if fair_key is None:
        picked = list(ready.values_list("pk", flat=True)[: grant.count])
    else:
        picked = fair_pick(ready, grant.count, key=fair_key, order_by=order_by)
    # The batch's claims in one transaction: one commit (a WAL flush) for 50 rows, not one each.
    with transaction.atomic():
        if claim_all is not None:
            claimed = claim_all(picked)
        else:
            assert claim is not None, "permits_hand_out needs claim or claim_all"
            claimed = [arg for arg in (claim(pk) for pk in picked) if arg is not None]
    if grant.count > len(claimed):
        quota.release(grant, grant.count - len(claimed), kind=kind)
    if outgrown is not None and more_ready and len(claimed) == wanted:
        outgrown.add(priority)
    permit = grant.one_permit()
    for arg in claimed:
        if inline:
            run(arg, permit)
        else:
            args = arg if isinstance(arg, tuple) else (arg,)
            # After the claims commit: a worker must never see its task before the row's claim.
            transaction.on_commit(partial(async_task, task, *args, permit, task_name=f"{label} {args[0]}",
                                          group=label.split()[0]))
    return len(claimed)
