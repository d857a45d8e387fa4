"""Segment details against the simulator: one call per segment, most ridden first, within the quota."""

from __future__ import annotations

import pytest
from django.utils import timezone

from segments import selectors, services
from segments.models import Segment
from stravasync.strava import quota
from stravasync.strava.errors import RateLimited
from stravasync.strava.quota import Kind, Priority

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def segment_calls() -> list[str]:
    from sandbox.models import SimRequestLog

    return list(SimRequestLog.objects.filter(path__startswith="/api/v3/segments/").order_by("id").values_list("path", flat=True))


@pytest.fixture
def ridden(sim_connected_athlete, make_activity):
    """A connected athlete who rode simulated segments a, b, c three, two and one times."""
    from sandbox.services import sim_segments_seed

    athlete = sim_connected_athlete(firstname="Rider")
    a, b, c = sim_segments_seed(count=3)
    for efforts in ([(a.pk, 300), (b.pk, 100), (c.pk, 50)], [(a.pk, 290), (b.pk, 98)], [(a.pk, 280)]):
        services.efforts_store(activity=make_activity(athlete, efforts=efforts))
    return athlete, [Segment.objects.get(strava_id=s.pk) for s in (a, b, c)]


def test_a_segments_details_cost_one_call_and_keep_nothing_personal(ridden):
    from sandbox.models import SimSegment

    athlete, (a, _, _) = ridden

    assert services.segment_details_fetch(segment_id=a.pk) == "fetched"

    assert segment_calls() == [f"/api/v3/segments/{a.strava_id}"]
    a.refresh_from_db()
    sim = SimSegment.objects.get(pk=a.strava_id)
    assert a.details_fetched_at is not None and a.details["id"] == a.strava_id
    assert (a.effort_count, a.athlete_count, a.star_count, a.hazardous) == (sim.effort_count, sim.athlete_count,
                                                                            sim.star_count, sim.hazardous)
    assert a.total_elevation_gain is not None
    # The athlete whose token fetched it has stats inside; the segment is everyone's, so they are dropped.
    assert "athlete_segment_stats" not in a.details and "athlete_pr_effort" not in a.details
    assert services.segment_details_fetch(segment_id=a.pk) == "skipped"
    assert len(segment_calls()) == 1


def test_the_dispatcher_fetches_the_most_ridden_first_and_only_what_is_missing(ridden, settings):
    _, (a, b, c) = ridden
    settings.SEGMENTS_DISPATCH_BATCH = 2

    assert services.segments_dispatch() == 2
    assert segment_calls() == [f"/api/v3/segments/{a.strava_id}", f"/api/v3/segments/{b.strava_id}"]

    assert services.segments_dispatch() == 1
    assert services.segments_dispatch() == 0
    assert segment_calls()[-1] == f"/api/v3/segments/{c.strava_id}" and len(segment_calls()) == 3
    assert not selectors.segments_without_details().exists()


def test_with_no_permit_the_dispatcher_makes_no_call_and_changes_nothing(ridden, settings):
    settings.QUOTA_READ_LIMIT_SHORT = 10
    quota.reset_for_tests()
    assert quota.acquire(kind=Kind.READ, priority=Priority.INTERACTIVE, count=10).count == 10

    assert services.segments_dispatch() == 0

    assert segment_calls() == []
    assert selectors.segments_needing_details().count() == 3


def test_a_refused_permit_gives_the_segment_back_for_later(ridden, settings):
    _, (a, _, _) = ridden
    settings.QUOTA_READ_LIMIT_SHORT = 10
    quota.reset_for_tests()
    quota.acquire(kind=Kind.READ, priority=Priority.INTERACTIVE, count=10)

    with pytest.raises(RateLimited):
        services.segment_details_fetch(segment_id=a.pk)

    a.refresh_from_db()
    assert (a.details_claim, a.details_claimed_until, a.details_fetched_at) == ("", None, None)
    assert segment_calls() == []


def test_a_segment_claimed_by_another_worker_is_not_fetched_twice(ridden, settings):
    _, (a, _, _) = ridden
    token = services.segment_claim(segment_id=a.pk)

    assert token
    assert services.segment_details_fetch(segment_id=a.pk) == "skipped"
    assert a.pk not in selectors.segments_needing_details().values_list("pk", flat=True)
    # The worker vanished: once its lease is over, the segment is fetched (once).
    Segment.objects.filter(pk=a.pk).update(details_claimed_until=timezone.now())
    assert services.segment_details_fetch(segment_id=a.pk) == "fetched"
    assert segment_calls() == [f"/api/v3/segments/{a.strava_id}"]


def test_a_segment_strava_does_not_show_costs_one_call_once(sim_connected_athlete, make_activity):
    athlete = sim_connected_athlete(firstname="Rider")
    services.efforts_store(activity=make_activity(athlete, efforts=[(987654321, 100)]))
    segment = Segment.objects.get(strava_id=987654321)

    assert services.segment_details_fetch(segment_id=segment.pk) == "unavailable"
    assert services.segments_dispatch() == 0

    segment.refresh_from_db()
    assert segment.details_unavailable and segment.details_fetched_at is None
    assert segment_calls() == ["/api/v3/segments/987654321"]
    assert not selectors.segments_without_details().exists()


def test_details_are_refreshed_only_when_a_person_asks(ridden, client):
    athlete, (a, _, _) = ridden
    services.segment_details_fetch(segment_id=a.pk)
    first = Segment.objects.get(pk=a.pk).details_fetched_at

    services.segments_dispatch()
    calls_before = segment_calls().count(f"/api/v3/segments/{a.strava_id}")
    client.force_login(athlete.user)
    assert client.get(f"/segments/{a.pk}/refresh/").status_code == 405
    response = client.post(f"/segments/{a.pk}/refresh/", follow=True)

    assert response.status_code == 200 and b"refreshed" in response.content
    assert segment_calls().count(f"/api/v3/segments/{a.strava_id}") == calls_before + 1 == 2
    a.refresh_from_db()
    assert a.details_fetched_at > first and a.details_requested_at is None


def test_a_refresh_the_quota_refuses_waits_for_the_dispatcher(ridden, client, settings):
    athlete, (a, _, _) = ridden
    services.segment_details_fetch(segment_id=a.pk)
    settings.QUOTA_READ_LIMIT_SHORT = 10
    quota.reset_for_tests()
    quota.acquire(kind=Kind.READ, priority=Priority.INTERACTIVE, count=10)
    client.force_login(athlete.user)

    response = client.post(f"/segments/{a.pk}/refresh/", follow=True)

    assert b"as soon as the Strava quota allows" in response.content
    assert Segment.objects.get(pk=a.pk).details_requested_at is not None
    quota.reset_for_tests()
    services.segments_dispatch()
    a.refresh_from_db()
    assert a.details_requested_at is None
    assert segment_calls().count(f"/api/v3/segments/{a.strava_id}") == 2


def test_the_dispatcher_tick_runs_the_segments_step_and_quota_status_shows_its_backlog(ridden):
    from stravasync.strava.dispatch import dispatch_tick

    (row,) = [r for r in quota.quota_status()["backlog"] if r["backlog"] == "segments"]
    assert (row["calls"], row["priority"]) == (3, "backfill") and row["estimated_finish"]

    assert dispatch_tick()["segments.services.segments_dispatch"] == 3

    assert len(segment_calls()) == 3
    (row,) = [r for r in quota.quota_status()["backlog"] if r["backlog"] == "segments"]
    assert (row["calls"], row["estimated_finish"]) == (0, None)
