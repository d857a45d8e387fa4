"""Efforts come free inside the detailed activity: stored once, idempotently, with their segments."""

from __future__ import annotations

import pytest
from django.utils import timezone

from segments import selectors, services
from segments.models import Segment, SegmentEffort

pytestmark = pytest.mark.django_db


def test_efforts_and_their_segments_are_stored_from_the_detail_with_no_call(alice, make_activity):
    activity = make_activity(alice, efforts=[(11, 300), (12, 95), (11, 290)])

    stored = services.efforts_store(activity=activity)

    assert stored == 3
    assert SegmentEffort.objects.filter(activity=activity, athlete=alice).count() == 3
    assert set(Segment.objects.values_list("strava_id", flat=True)) == {11, 12}
    segment = Segment.objects.get(strava_id=11)
    assert (segment.name, segment.activity_type, segment.city, segment.climb_category) == ("Segment 11", "Ride", "London", 1)
    assert segment.start_latlng == [51.5, -0.1] and segment.details is None and segment.details_fetched_at is None
    effort = SegmentEffort.objects.get(strava_id=activity.strava_id * 100)
    assert (effort.elapsed_time, effort.moving_time, effort.average_watts, effort.average_heartrate) == (300, 299, 250.0, 150.0)
    assert effort.start_date_local is not None
    activity.refresh_from_db()
    assert activity.efforts_stored_at is not None


def test_storing_twice_changes_nothing(alice, make_activity):
    activity = make_activity(alice, efforts=[(11, 300), (12, 95)])
    services.efforts_store(activity=activity)
    before = list(SegmentEffort.objects.order_by("strava_id").values())

    assert services.efforts_store(activity=activity) == 2

    assert list(SegmentEffort.objects.order_by("strava_id").values()) == before
    assert Segment.objects.count() == 2


def test_details_already_fetched_are_never_overwritten_by_a_summary(alice, make_activity):
    fetched_at = timezone.now()
    Segment.objects.create(strava_id=11, name="Real name", effort_count=5000, details={"id": 11, "effort_count": 5000},
                           details_fetched_at=fetched_at)
    activity = make_activity(alice, efforts=[(11, 300)])

    services.efforts_store(activity=activity)

    segment = Segment.objects.get(strava_id=11)
    assert (segment.name, segment.effort_count, segment.details_fetched_at) == ("Real name", 5000, fetched_at)


def test_an_updated_detail_replaces_the_efforts_strava_no_longer_lists(alice, make_activity):
    activity = make_activity(alice, efforts=[(11, 300), (12, 95)])
    services.efforts_store(activity=activity)
    kept = activity.detail["segment_efforts"][1]
    kept["elapsed_time"] = 90
    activity.detail["segment_efforts"] = [kept]
    activity.save()

    assert services.efforts_store(activity=activity) == 1

    assert list(SegmentEffort.objects.values_list("strava_id", "elapsed_time")) == [(kept["id"], 90)]


def test_an_activity_without_segments_is_done_and_one_without_details_is_not(alice, make_activity):
    no_efforts = make_activity(alice, efforts=[])
    no_detail = make_activity(alice)

    assert services.efforts_store(activity=no_efforts) == 0
    assert services.efforts_store(activity=no_detail) == 0

    no_efforts.refresh_from_db()
    no_detail.refresh_from_db()
    assert no_efforts.efforts_stored_at is not None
    assert no_detail.efforts_stored_at is None


def test_pending_activities_are_finished_without_a_call(alice, bob, make_activity):
    make_activity(alice, efforts=[(11, 300)])
    make_activity(bob, efforts=[(11, 310), (13, 60)])
    make_activity(bob)  # no detail yet: the warehouse must fetch it first

    assert services.efforts_store_pending() == 2

    assert selectors.activities_pending_efforts().count() == 0
    assert SegmentEffort.objects.count() == 3


def test_an_activitys_efforts_are_listed_in_order_with_their_segment(alice, make_activity, django_assert_num_queries):
    activity = make_activity(alice, efforts=[(11, 300), (12, 95), (13, 40)])
    services.efforts_store(activity=activity)

    with django_assert_num_queries(1):
        names = [e.segment.name for e in selectors.efforts_for_activity(activity=activity)]

    assert names == ["Segment 11", "Segment 12", "Segment 13"]


def test_deleting_an_athlete_deletes_their_efforts_but_not_the_shared_segments(alice, bob, make_activity):
    services.efforts_store(activity=make_activity(alice, efforts=[(11, 300)]))
    services.efforts_store(activity=make_activity(bob, efforts=[(11, 280)]))

    alice.user.delete()

    assert list(SegmentEffort.objects.values_list("athlete_id", flat=True)) == [bob.pk]
    assert Segment.objects.filter(strava_id=11).exists()
