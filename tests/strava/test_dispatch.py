"""The one dispatch hand-out: a task is enqueued only once the claim it relies on is committed."""

from __future__ import annotations

import pytest
from django.db import transaction

pytestmark = pytest.mark.django_db


def test_a_hand_out_inside_a_transaction_enqueues_its_tasks_only_on_commit(alice, bob, monkeypatch,
                                                                          django_capture_on_commit_callbacks):
    from accounts.models import Athlete
    from stravasync.strava.dispatch import permits_hand_out
    from stravasync.strava.quota import Kind, Priority

    enqueued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda task, *args, **kwargs: enqueued.append((task, args)))

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        handed = permits_hand_out(
            ready=Athlete.objects.filter(pk__in=[alice.pk, bob.pk]).order_by("pk"), wanted=2, kind=Kind.READ,
            priority=Priority.PULL, fair_key=None, order_by=(), claim=lambda pk: (pk, "token"),
            run=lambda args, permit: None, task="some.task", label="test hand-out",
        )
        assert handed == 2 and enqueued == []  # nothing visible to a worker before the claims commit

    assert len(callbacks) == 2
    assert [(task, args[:2]) for task, args in enqueued] == [("some.task", (alice.pk, "token")),
                                                            ("some.task", (bob.pk, "token"))]
    assert all(args[2]["count"] == 1 for _, args in enqueued)  # one permit per task


# Three dispatcher steps over the same three rows, at three priorities; `WANTED` sets their batches.
WANTED = {"upload": 1, "enrich": 2, "interactive": 1}
HANDED: dict[str, int] = {}


def _step(name: str, priority: int) -> int:
    from accounts.models import Athlete
    from stravasync.strava.dispatch import permits_hand_out
    from stravasync.strava.quota import Kind

    HANDED[name] = permits_hand_out(
        ready=Athlete.objects.order_by("pk"), wanted=WANTED[name], kind=Kind.READ, priority=priority, fair_key=None,
        order_by=(), claim=lambda pk: pk, run=lambda pk, permit: None, task="some.task", label=f"{name} step",
        inline=True,
    )
    return HANDED[name]


def upload_step() -> int:
    return _step("upload", 2)


def enrich_step() -> int:
    return _step("enrich", 4)


def interactive_step() -> int:
    return _step("interactive", 0)


@pytest.fixture
def three_steps(alice, bob, make_athlete, settings):
    make_athlete(strava_id=1003, firstname="Cat")
    settings.DISPATCH_STEPS = [f"{__name__}.{name}" for name in ("upload_step", "enrich_step", "interactive_step")]
    HANDED.clear()


def test_a_lower_priority_takes_no_permit_in_a_tick_where_a_higher_one_had_more_ready_than_its_batch(three_steps):
    from stravasync.strava.dispatch import dispatch_tick

    dispatch_tick()

    # The upload step's batch (1) left two rows ready: enrich waits for the next tick, which the
    # uploads reach first; a higher priority than uploads is never held back.
    assert HANDED == {"upload": 1, "enrich": 0, "interactive": 1}


def test_a_lower_priority_takes_its_permits_when_the_higher_ones_batch_held_all_it_had_ready(three_steps):
    from stravasync.strava.dispatch import dispatch_tick

    WANTED["upload"] = 3
    try:
        dispatch_tick()
    finally:
        WANTED["upload"] = 1

    assert HANDED == {"upload": 3, "enrich": 2, "interactive": 1}


def test_outside_a_dispatcher_tick_nothing_is_held_back(three_steps):
    assert (upload_step(), enrich_step()) == (1, 2)
