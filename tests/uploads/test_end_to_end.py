"""A whole folder through the real pipeline against the simulator, over HTTP."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from datetime import UTC
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from activityfiles import classify_file
from tests.conftest import DATA_DIR
from uploads.models import Upload

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BROKEN = DATA_DIR / "broken"


def provenance() -> dict[str, str]:
    with open(DATA_DIR / "PROVENANCE.csv", newline="") as fh:
        return {row["file"]: row["fit_file_type"] for row in csv.DictReader(fh)}


@pytest.fixture
def fast_pipeline(settings):
    settings.SANDBOX_UPLOAD_DELAY = 0.2
    settings.UPLOADS_CONFIRM_DELAY = 0.5
    settings.UPLOADS_CONFIRM_FALLBACK = 1.5
    settings.UPLOADS_CONFIRM_MAX_WAIT = 30  # all posts first, then one list call, even on a loaded machine


def build_folder(root: Path) -> dict[str, str]:
    """About 60 files of every kind; returns the expected final state of each by name."""
    kinds = provenance()
    expected: dict[str, str] = {}
    seen_starts: set = set()
    for path in sorted(DATA_DIR.glob("*")):
        if not path.is_file() or path.suffix.lower() not in (".fit", ".gpx", ".tcx"):
            continue
        verdict = classify_file(path)
        if verdict.status == "eligible":
            if verdict.start_time in seen_starts:
                continue  # two public files recorded at the same second would be a Strava duplicate
            seen_starts.add(verdict.start_time)
        target = root / ("device" if path.suffix.lower() == ".fit" else "gps") / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
        ftype = kinds.get(path.name)
        state = {"eligible": "done", "junk": "junk"}.get(verdict.status, "failed")
        if state == "done" and verdict.start_time is None:
            state = "failed"  # the simulator, reading only file_id, says "Time information is missing"
        expected[str(target.relative_to(root))] = state
        if path.suffix.lower() == ".fit" and ftype and ftype != "activity":
            assert expected[str(target.relative_to(root))] == "junk", path.name
    # exact copies under another name: local duplicates, no call
    for name in list(expected)[:3]:
        if expected[name] == "done":
            copy = root / "zz_copies" / Path(name).name.upper()
            copy.parent.mkdir(exist_ok=True)
            shutil.copy(root / name, copy)
            expected[str(copy.relative_to(root))] = "duplicate"
    for name in ("empty.fit", "not_a_fit.fit", "truncated_20_bytes.fit", "activity.fit.gz"):
        shutil.copy(BROKEN / name, root / name)
        # activity.fit.gz is a gzip of a FIT also in the folder: other bytes, same ride → Strava's duplicate
        expected[name] = "duplicate" if name == "activity.fit.gz" else "failed"
    return expected


def test_a_mixed_folder_settles_every_file_and_spends_at_most_1_15_calls_per_posted_file(
    sim_connected_athlete, fast_pipeline, tmp_path
):
    from sandbox.models import SimActivity, SimRequestLog
    from sandbox.services import sim_activities_seed

    athlete = sim_connected_athlete(firstname="Folder")
    folder = tmp_path / "export"
    expected = build_folder(folder)
    shutil.copy(BROKEN / "garmin_export.zip", folder / "garmin_export.zip")

    # One file Strava already has (recorded on another device): Strava calls it a duplicate.
    strava_dupe = next(n for n, s in expected.items() if s == "done" and n.startswith("device/"))
    start = classify_file(folder / strava_dupe).start_time
    sim_athlete = SimActivity.objects.model._meta.get_field("athlete").related_model.objects.get(pk=athlete.strava_id)
    seeded = sim_activities_seed(sim_athlete, 1)
    SimActivity.objects.filter(pk=seeded[0].pk).update(start_date=start)
    expected[strava_dupe] = "duplicate"
    SimRequestLog.objects.all().delete()

    out = StringIO()
    call_command("upload_folder", str(folder), "--athlete", str(athlete.strava_id), "--report-dir",
                 str(tmp_path / "reports"), stdout=out)

    uploads = {u.original_name: u for u in Upload.objects.filter(athlete=athlete)}
    assert all(u.is_final for u in uploads.values()), [(n, u.status) for n, u in uploads.items() if not u.is_final]
    for name, state in expected.items():
        assert uploads[name].status == state, (name, uploads[name].status, uploads[name].reason)
    assert uploads[strava_dupe].duplicate_of_activity == seeded[0].pk
    zipped = [u for n, u in uploads.items() if n.startswith("garmin_export.zip/")]
    assert zipped and all(u.is_final for u in zipped)

    for upload in uploads.values():
        if upload.status == "junk" or (upload.status == "duplicate" and upload.duplicate_of_upload_id):
            assert upload.api_calls == 0, upload.original_name

    api = SimRequestLog.objects.filter(path__startswith="/api/v3/")
    posts = api.filter(method="POST", path="/api/v3/uploads").count()
    assert posts == Counter(u.status for u in uploads.values() if u.strava_upload_id or u.activity_id).total() or posts
    assert api.count() <= 1.15 * posts, (api.count(), posts)
    assert not api.filter(status=429).exists()

    # Strava holds every activity once.
    done = [u.activity_id for u in uploads.values() if u.status == "done"]
    assert len(done) == len(set(done))
    assert SimActivity.objects.filter(athlete_id=athlete.strava_id).count() == len(done) + 1

    # The folder was tidied, nothing deleted.
    assert (folder / "_uploaded").is_dir() and (folder / "_junk").is_dir() and (folder / "_failed").is_dir()
    assert not (folder / "empty.fit").exists() and (folder / "_failed" / "empty.fit").exists()
    report = (tmp_path / "reports").glob("batch-*.csv")
    rows = list(csv.DictReader(open(next(report))))
    assert len(rows) == len(uploads)
    assert "calls" in out.getvalue().lower()


def test_dry_run_classifies_without_a_single_call(sim_connected_athlete, tmp_path):
    from sandbox.models import SimRequestLog

    athlete = sim_connected_athlete(firstname="Dry")
    SimRequestLog.objects.all().delete()
    folder = tmp_path / "dry"
    build_folder(folder)
    out = StringIO()
    call_command("upload_folder", str(folder), "--athlete", str(athlete.strava_id), "--dry-run", stdout=out)
    assert "dry run, no call made" in out.getvalue()
    assert not Upload.objects.exists()
    assert SimRequestLog.objects.count() == 0
    assert (folder / "device").is_dir()  # nothing moved


def test_a_post_that_timed_out_after_strava_created_the_activity_settles_done_with_that_activity(
    sim_connected_athlete, settings
):
    """The client gave up, the simulator went on: the retry hears "duplicate of N", and N is our own."""
    import time

    from sandbox.models import SimActivity, SimUpload
    from sandbox.services import sim_config_update
    from tests.uploads.conftest import ACTIVITY_FIT
    from uploads import services

    settings.STRAVA_HTTP_TIMEOUT, settings.STRAVA_MAX_RETRIES = 0.5, 0
    settings.SANDBOX_UPLOAD_DELAY, settings.UPLOADS_CONFIRM_DELAY, settings.UPLOADS_CONFIRM_MAX_WAIT = 0, 0, 0
    athlete = sim_connected_athlete(firstname="Timeout")
    batch = services.batch_create(athlete=athlete, source="web")
    with open(ACTIVITY_FIT, "rb") as stream:
        (upload,) = services.upload_ingest(batch=batch, name=ACTIVITY_FIT.name, stream=stream)

    sim_config_update(slow_rate=1.0, slow_seconds=2.0)
    services.uploads_dispatch(inline=True)
    upload.refresh_from_db()
    assert upload.status == "queued" and upload.reason.startswith("will retry"), upload.reason
    deadline = time.monotonic() + 30  # the simulator finishes the request the client gave up on
    while not SimUpload.objects.filter(athlete_id=athlete.strava_id).exists():
        assert time.monotonic() < deadline, "the timed-out POST never reached the simulator"
        time.sleep(0.05)
    sim_config_update(slow_rate=0.0)
    settings.STRAVA_HTTP_TIMEOUT = 30  # no more timeouts: the retry and the confirmation get their answers
    Upload.objects.filter(pk=upload.pk).update(next_attempt_at=None)

    services.uploads_dispatch(inline=True)
    services.uploads_confirm()

    upload.refresh_from_db()
    (activity,) = SimActivity.objects.filter(athlete_id=athlete.strava_id)
    assert (upload.status, upload.activity_id, upload.duplicate_of_activity) == ("done", activity.pk, None)
    assert activity.external_id == upload.external_id
    assert SimUpload.objects.filter(athlete_id=athlete.strava_id).count() == 2  # the file reached Strava twice


def _fitparse_session(path: Path) -> dict | None:
    """The reference: fitparse's first session of a FIT file (None when it has none or fitparse fails)."""
    import fitparse

    try:
        for message in fitparse.FitFile(str(path)).get_messages("session"):
            return message.get_values()
    except Exception:  # fitparse refuses some real files (bad CRC, misaligned fields): no reference then
        return None
    return None


def test_each_real_activity_file_becomes_the_activity_it_records_with_its_track_drawn(
    sim_connected_athlete, fast_pipeline, tmp_path, client
):
    """Sport, start, distance and elapsed time as the file records them (fitparse's session), not made up.

    Half the FIT files are copies whose file_id.time_created was moved years away, as a copied or
    re-exported file's is: each still settles against its own activity, at about one call a file.
    """
    from activityfiles.sports import strava_sport
    from sandbox.models import SimActivity, SimRequestLog
    from tests.fitedit import with_time_created
    from warehouse.services import activities_pull

    athlete = sim_connected_athlete(firstname="Files")
    folder, starts, moved = tmp_path / "files", set(), 0
    folder.mkdir()
    for path in sorted(DATA_DIR.glob("*")):
        verdict = classify_file(path) if path.is_file() else None
        if verdict is None or verdict.status != "eligible" or verdict.start_time in starts:
            continue  # two public files recorded at the same second would be a Strava duplicate
        starts.add(verdict.start_time)
        data = path.read_bytes()
        if verdict.data_type == "fit" and len(starts) % 2:
            try:
                data = with_time_created(data, 1_000_000_000)  # 2021-09-09, years from most recordings
                moved += 1
            except ValueError:
                pass  # its first message is no plain file_id: kept as it is
        (folder / path.name).write_bytes(data)
    assert moved >= 8
    SimRequestLog.objects.all().delete()

    call_command("upload_folder", str(folder), "--athlete", str(athlete.strava_id), "--keep-in-place",
                 "--report-dir", str(tmp_path / "reports"), stdout=StringIO())

    uploads = list(Upload.objects.filter(athlete=athlete))
    assert len(uploads) == len(starts) >= 20
    api = SimRequestLog.objects.filter(path__startswith="/api/v3/")
    posts = api.filter(method="POST", path="/api/v3/uploads").count()
    assert api.count() <= 1.05 * posts, (api.count(), posts)
    compared = 0
    for upload in uploads:
        if upload.status == "failed":
            assert upload.reason == "Time information is missing from file.", upload.original_name
            continue
        assert upload.status == "done", (upload.original_name, upload.status, upload.reason)
        activity = SimActivity.objects.get(pk=upload.activity_id)
        assert activity.external_id == upload.external_id, upload.original_name  # its own activity
        assert activity.start_date == upload.start_time, upload.original_name  # the recorded start, exactly
        session = _fitparse_session(folder / upload.original_name) if upload.data_type == "fit" else None
        if session is None or session.get("start_time") is None:
            continue
        name = upload.original_name
        assert activity.start_date == session["start_time"].replace(tzinfo=UTC), name
        assert activity.sport_type == (strava_sport(session.get("sport"), session.get("sub_sport"))[0] or "Ride"), name
        if session.get("total_distance"):
            assert abs(activity.distance - session["total_distance"]) <= 0.01 * session["total_distance"] + 0.1, name
        if session.get("total_elapsed_time"):
            assert abs(activity.elapsed_time - session["total_elapsed_time"]) <= 2, name
        compared += 1
    assert compared >= 10

    # The warehouse's copy, listed from Strava, draws the route the file recorded.
    activities_pull(athlete_id=athlete.pk)
    client.force_login(athlete.user)
    with_route = next(a for a in SimActivity.objects.filter(athlete_id=athlete.strava_id) if a.summary_polyline)
    page = client.get(f"/activities/{with_route.pk}/").content.decode()
    assert '<svg id="route"' in page and '<path d="M' in page
