from __future__ import annotations

import pytest
from django.urls import reverse

from stravasync.strava import quota
from warehouse.models import SyncRun

pytestmark = pytest.mark.django_db


def test_the_sync_page_is_for_staff_only(client, alice):
    assert client.get("/ops/sync/").status_code == 302
    client.force_login(alice.user)
    assert client.get("/ops/sync/").status_code == 403


def test_it_shows_quota_windows_capacity_backlogs_and_failed_runs(admin_client, clock, alice, bob, add_activity,
                                                                  settings):
    settings.STRAVA_ATHLETE_CAPACITY = 10
    add_activity(alice, strava_id=501, name="Alice's hill repeats")
    quota.acquire(kind="read", count=3)
    clock["ts"] += 900  # the window rolls over: its usage is kept for the chart
    quota.acquire(kind="write", count=2)
    quota.record_rate_limited({})
    SyncRun.objects.create(kind="pull", athlete=bob, error="Strava answered 500 three times")
    page = admin_client.get("/ops/sync/").content.decode()
    assert "2 of 10" in page
    assert 'id="quota-chart"' in page
    assert "14:30 · reads: 3" in page
    assert "1 in 24 h" in page
    assert "Strava answered 500 three times" in page
    assert 'data-backlog="enrich"' in page and f'data-athlete="{alice.pk}"' in page
    assert "hill repeats" not in page and "Alice Tester" not in page


def test_the_inactive_state_is_shown(admin_client, clock):
    quota.mark_inactive("Inactive")
    assert 'id="ops-inactive"' in admin_client.get("/ops/sync/").content.decode()


def test_the_admin_shows_ids_and_states_not_activity_names_or_numbers(admin_client, alice, add_activity):
    from segments.models import Segment, SegmentEffort

    activity = add_activity(alice, strava_id=501, name="Alice's hill repeats", distance=12345.0)
    segment = Segment.objects.create(strava_id=77, name="The Wall")
    SegmentEffort.objects.create(strava_id=88, activity=activity, segment=segment, athlete=alice,
                                 start_date=activity.start_date, elapsed_time=4321)
    for url in (reverse("admin:warehouse_activity_changelist"),
                reverse("admin:warehouse_activity_change", args=[activity.pk]),
                reverse("admin:segments_segmenteffort_changelist")):
        page = admin_client.get(url).content.decode()
        assert "hill repeats" not in page and "12.3" not in page and "4321" not in page and "4,321" not in page
    assert "501" in admin_client.get(reverse("admin:warehouse_activity_changelist")).content.decode()


def test_the_sync_state_admin_hides_the_dates_of_activities(admin_client, alice):
    from datetime import UTC, datetime

    from warehouse.models import SyncState

    state = SyncState.objects.create(athlete=alice, watermark=datetime(2024, 7, 13, 6, 5, tzinfo=UTC))
    for url in (reverse("admin:warehouse_syncstate_changelist"),
                reverse("admin:warehouse_syncstate_change", args=[state.pk])):
        page = admin_client.get(url).content.decode()
        assert "2024" not in page and "July 13" not in page
