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
