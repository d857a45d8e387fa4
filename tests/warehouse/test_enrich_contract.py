"""activity_enrich as the segments app relies on it: one fetch, stored, efforts handed over, errors raised."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from .conftest import detail_json, summary_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def fetched(monkeypatch):
    """StravaClient.get_activity answered locally; the ids asked for are recorded."""
    asked = []

    def get_activity(self, activity_id, *, include_all_efforts=True):
        assert include_all_efforts
        asked.append(activity_id)
        self.calls += 1
        return detail_json(summary_json(activity_id=activity_id))

    monkeypatch.setattr("stravasync.strava.client.StravaClient.get_activity", get_activity)
    return asked


@pytest.fixture
def subscribers(monkeypatch):
    """activity_detail_stored with only the receivers given (the segments app's own is set aside)."""
    from warehouse.signals import activity_detail_stored

    def only(*receivers):
        monkeypatch.setattr(activity_detail_stored, "receivers", [])
        for receiver in receivers:
            activity_detail_stored.connect(receiver, weak=False)

    return only


def test_it_fetches_once_stores_the_detail_and_returns_whether_it_called(alice, store, fetched):
    from warehouse.services import activity_enrich

    activity = store(summary_json())[0]
    assert activity_enrich(activity_id=activity.pk) is True
    assert activity_enrich(activity_id=activity.pk) is False  # already there: no second call
    assert activity_enrich(activity_id=activity.pk, force=True) is True
    assert fetched == [activity.strava_id, activity.strava_id]
    activity.refresh_from_db()
    assert activity.detail["segment_efforts"][0]["name"] == "Climb 0" and activity.detail_fetched_at is not None
    assert activity.description == "Windy, coffee after." and activity.gear_name == "Canyon Endurace"


def test_it_hands_the_stored_detail_to_the_segments_app_without_another_call(alice, store, fetched, subscribers):
    from warehouse import services

    seen = []
    subscribers(lambda sender, *, activity, **kwargs: seen.append(len(activity.detail["segment_efforts"])))

    activity = store(summary_json())[0]
    services.activity_enrich(activity_id=activity.pk)
    assert seen == [2] and len(fetched) == 1


def test_a_failing_segments_app_never_costs_the_fetch(alice, store, fetched, subscribers):
    from warehouse import services

    def broken(sender, *, activity, **kwargs):
        raise RuntimeError("bug in segments")

    subscribers(broken)
    activity = store(summary_json())[0]

    assert services.activity_enrich(activity_id=activity.pk) is True
    activity.refresh_from_db()
    assert activity.detail is not None  # kept: the efforts can be stored again from it, no call


def test_without_the_segments_app_nothing_is_handed_over(alice, store, fetched, subscribers):
    from warehouse import services

    subscribers()
    activity = store(summary_json())[0]
    assert services.activity_enrich(activity_id=activity.pk) is True


@pytest.mark.parametrize(("error", "reason", "rest"), [
    ("rate", "waiting for the Strava quota", timedelta(minutes=9)),
    ("missing", "permission activity:read_all not granted", timedelta(days=1)),
    ("server", "will retry", timedelta(minutes=2)),
])
def test_strava_errors_propagate_and_are_recorded_on_the_activity_and_the_run(alice, store, monkeypatch, error, reason,
                                                                              rest):
    from stravasync.strava.errors import RateLimited, ServerError, StravaError, Unauthorized
    from warehouse.models import SyncRun
    from warehouse.services import activity_enrich

    retry_at = timezone.now() + timedelta(minutes=9)
    exc = {"rate": RateLimited("slow down", retry_at=retry_at), "missing": Unauthorized("no", missing_scope="activity:read_all"),
           "server": ServerError("boom", status=502)}[error]

    def fail(self, activity_id, *, include_all_efforts=True):
        raise exc

    monkeypatch.setattr("stravasync.strava.client.StravaClient.get_activity", fail)
    activity = store(summary_json())[0]
    with pytest.raises(StravaError):
        activity_enrich(activity_id=activity.pk)
    activity.refresh_from_db()
    assert reason in activity.enrich_error and activity.detail_fetched_at is None
    assert abs(activity.enrich_not_before - (timezone.now() + rest)) < timedelta(seconds=5)
    assert reason in SyncRun.objects.get(kind="enrich").error


def test_it_accepts_our_id_or_strava_s(alice, store, fetched):
    from warehouse.services import activity_enrich

    activity = store(summary_json())[0]
    assert activity_enrich(activity_id=activity.strava_id) is True
    assert activity_enrich(activity_id=123) is False  # nothing of that id: no call


def test_activities_without_details_is_the_backlog_newest_first(alice, bob, store):
    from warehouse.selectors import activities_without_details

    older = summary_json(start=timezone.now() - timedelta(days=3))
    newer = summary_json(start=timezone.now() - timedelta(days=1))
    store(older, newer)
    store(summary_json(athlete_strava_id=bob.strava_id), athlete=bob)
    assert [a.strava_id for a in activities_without_details(athlete=alice)] == [newer["id"], older["id"]]
    assert activities_without_details().count() == 3
