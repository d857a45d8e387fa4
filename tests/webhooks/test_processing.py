"""Events end to end against the simulator, over HTTP: it POSTs them, one dispatcher tick applies them."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from tests.webhooks.conftest import request_log_mark, strava_calls

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _reads(strava_id: int) -> int:
    return len(strava_calls(strava_id))


def _files(storage) -> int:
    total, stack = 0, [""]
    while stack:
        folder = stack.pop()
        if not storage.exists(folder or "."):
            continue
        dirs, files = storage.listdir(folder or ".")
        total += len(files)
        stack += [f"{folder}/{d}".lstrip("/") for d in dirs]
    return total


def test_an_uploaded_file_arrives_with_details_and_efforts_after_one_read_and_settles_with_no_confirmer_call(
    sim_connected_athlete, subscribed, settings
):
    # The tick without the new athlete's first history pull, which would be a read of its own, and without the
    # segments' backfill, whose segment details are reads at its own priority; the confirmer stays in.
    settings.DISPATCH_STEPS = [s for s in settings.DISPATCH_STEPS if "pulls_dispatch" not in s and "segments" not in s]
    from activityfiles.summary import read_activity
    from sandbox import services as sim
    from sandbox.models import SimSegment
    from sandbox.webhooks import deliveries_wait
    from segments.models import SegmentEffort
    from stravasync.strava.dispatch import dispatch_tick
    from tests.uploads.conftest import ACTIVITY_FIT
    from uploads import services
    from uploads.models import Upload
    from warehouse.models import Activity
    from webhooks.models import WebhookEvent

    # A segment on the file's route, so that Strava's activity has an effort to bring.
    route = [p for p in read_activity(ACTIVITY_FIT.read_bytes()).points if p.lat is not None]
    begin, end = route[2000], route[2400]
    SimSegment.objects.create(name="Riverside sprint", activity_type="Ride", distance=1000.0, average_grade=0.0,
                              maximum_grade=1.0, elevation_high=20.0, elevation_low=10.0, start_lat=begin.lat,
                              start_lng=begin.lng, end_lat=end.lat, end_lng=end.lng)
    athlete = sim_connected_athlete(firstname="Hook")
    batch = services.batch_create(athlete=athlete, source="web")
    with open(ACTIVITY_FIT, "rb") as stream:
        (upload,) = services.upload_ingest(batch=batch, name=ACTIVITY_FIT.name, stream=stream)
    services.uploads_dispatch(inline=True)
    assert Upload.objects.get(pk=upload.pk).status == "processing"
    mark = request_log_mark()

    sim.uploads_process_due(athlete_id=athlete.strava_id)  # Strava finishes the file: the create event goes out
    deliveries_wait()
    (event,) = WebhookEvent.objects.filter(aspect_type="create")
    dispatch_tick()

    upload.refresh_from_db()
    activity = Activity.objects.get(athlete=athlete)
    assert (upload.status, upload.activity_id) == ("done", activity.strava_id)
    assert activity.detail_fetched_at is not None
    efforts = SegmentEffort.objects.filter(activity=activity)
    assert efforts.count() == len(activity.detail["segment_efforts"]) >= 1
    # One read: the detail call. No upload status (the confirmer's), no listing.
    assert strava_calls(athlete.strava_id, since=mark) == [
        (f"/api/v3/activities/{activity.strava_id}", "include_all_efforts=true")]
    event.refresh_from_db()
    assert event.processed_at is not None and "upload settled" in event.result


def test_a_deauthorization_purges_tokens_rows_and_files_within_one_tick_and_its_duplicate_changes_nothing(
    sim_connected_athlete, subscribed, client, settings
):
    settings.DISPATCH_STEPS = ["webhooks.services.webhook_events_dispatch"]  # the keeper's file stays queued
    import json

    from accounts.models import Athlete, StravaToken
    from sandbox.models import SimToken
    from sandbox.services import tokens_revoke
    from sandbox.webhooks import deliveries_wait
    from stravasync.strava.dispatch import dispatch_tick
    from tests.uploads.conftest import ACTIVITY_FIT
    from uploads import services
    from uploads.models import Upload
    from warehouse.models import Activity
    from warehouse.services import activities_upsert
    from webhooks.models import WebhookEvent

    athlete = sim_connected_athlete(firstname="Leaving")
    keeper = sim_connected_athlete(firstname="Staying")
    for who in (athlete, keeper):
        batch = services.batch_create(athlete=who, source="web")
        with open(ACTIVITY_FIT, "rb") as stream:
            services.upload_ingest(batch=batch, name=ACTIVITY_FIT.name, stream=stream)
        activities_upsert(athlete_id=who.pk, summaries=[
            {"id": 9_000_000_000 + who.pk, "name": "x", "start_date": "2024-05-01T06:00:00Z", "sport_type": "Ride"}])
    files_before = _files(default_storage)
    assert files_before >= 2

    tokens_revoke(token=SimToken.objects.filter(athlete_id=athlete.strava_id).latest("pk"))
    deliveries_wait()
    (event,) = WebhookEvent.objects.filter(object_type="athlete")
    assert event.updates == {"authorized": "false"}
    dispatch_tick()

    assert not Athlete.objects.filter(pk=athlete.pk).exists()
    assert not StravaToken.objects.filter(athlete_id=athlete.pk).exists()
    assert not Upload.objects.filter(athlete_id=athlete.pk).exists()
    assert not Activity.objects.filter(athlete_id=athlete.pk).exists()
    assert _files(default_storage) == files_before - 1  # the leaver's one stored file
    assert Upload.objects.filter(athlete=keeper).count() == 1 and Activity.objects.filter(athlete=keeper).count() == 1

    duplicate = client.post("/strava/webhook/", json.dumps(event.payload), content_type="application/json")
    dispatch_tick()
    assert duplicate.status_code == 200 and duplicate.json()["stored"] is False
    assert WebhookEvent.objects.count() == 1
    assert Athlete.objects.filter(pk=keeper.pk).exists() and _files(default_storage) == files_before - 1


def test_update_and_delete_events_change_the_warehouse_without_a_call(sim_connected_athlete, subscribed, settings):
    # Only the events' step: what the warehouse holds comes from the events alone.
    settings.DISPATCH_STEPS = ["webhooks.services.webhook_events_dispatch"]
    from sandbox.models import SimActivity, SimAthlete
    from sandbox.services import ActivityChanges, sim_activities_seed, sim_activity_update
    from sandbox.services.uploads import sim_activity_delete
    from sandbox.webhooks import deliveries_wait
    from stravasync.strava.dispatch import dispatch_tick
    from warehouse.models import Activity, Rollup

    athlete = sim_connected_athlete(firstname="Editor")
    seeded = sim_activities_seed(SimAthlete.objects.get(pk=athlete.strava_id), 2)
    assert deliveries_wait()
    dispatch_tick()  # the two create events: a detail call each
    first, second = (Activity.objects.get(strava_id=a.pk) for a in sorted(seeded, key=lambda a: a.pk))
    new_sport = "TrailRun" if first.sport_type != "TrailRun" else "Walk"
    reads = _reads(athlete.strava_id)

    sim_activity_update(activity=SimActivity.objects.get(pk=first.strava_id),
                        changes=ActivityChanges(name="Renamed", sport_type=new_sport, private=not first.private))
    sim_activity_delete(activity_id=second.strava_id)
    assert deliveries_wait()
    dispatch_tick()

    was_private = first.private
    first.refresh_from_db()
    assert (first.name, first.sport_type, first.private) == ("Renamed", new_sport, not was_private)
    assert not Activity.objects.filter(pk=second.pk).exists()
    # The week's totals moved to the new sport type with it.
    week = Rollup.objects.filter(athlete=athlete, period="week", start__lte=first.start_day).order_by("-start")
    assert week.filter(sport_type=new_sport).exists()
    assert _reads(athlete.strava_id) == reads
