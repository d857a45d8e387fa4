"""SIGKILL the task cluster and the dispatcher in the middle of a batch, restart, lose nothing."""

from __future__ import annotations

import time

import pytest

from activityfiles import classify_file
from tests import processes
from tests.conftest import DATA_DIR
from uploads import services
from uploads.models import Upload

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def activity_files(limit: int) -> list:
    """Real activity files with distinct start times (so the simulator holds each once)."""
    chosen, starts = [], set()
    for path in sorted(DATA_DIR.glob("*.fit")) + sorted(DATA_DIR.glob("*.gpx")) + sorted(DATA_DIR.glob("*.tcx")):
        verdict = classify_file(path)
        if verdict.status == "eligible" and verdict.start_time and verdict.start_time not in starts:
            starts.add(verdict.start_time)
            chosen.append(path)
    return chosen[:limit]


def wait_for(condition, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def test_a_killed_cluster_loses_no_file_and_uploads_none_twice(sim_connected_athlete, settings, tmp_path):
    from sandbox.models import SimActivity, SimRequestLog
    from sandbox.services import sim_config_update

    settings.SANDBOX_UPLOAD_DELAY = 0.3
    athlete = sim_connected_athlete(firstname="Crash")
    batch = services.batch_create(athlete=athlete, source="folder", label="crash test")
    files = activity_files(18)
    for path in files:
        with open(path, "rb") as stream:
            services.upload_ingest(batch=batch, name=path.name, stream=stream)
    assert Upload.objects.filter(batch=batch, status="queued").count() == len(files)
    # Slow answers keep the batch in flight long enough to kill it half-way.
    sim_config_update(slow_rate=1.0, slow_seconds=0.4)

    env = processes.worker_env(
        Q_WORKERS=2, Q_TIMEOUT=4, Q_RETRY=5, UPLOADS_CLAIM_TIMEOUT=3, UPLOADS_DISPATCH_BATCH=3,
        UPLOADS_CONFIRM_DELAY=0.5, UPLOADS_CONFIRM_FALLBACK=1.5, UPLOADS_CONFIRM_MAX_WAIT=3, DISPATCH_INTERVAL=0.3,
    )
    log = tmp_path / "workers.log"

    def start_all():
        return [
            processes.start(["manage.py", "qcluster"], env, log),
            processes.start(["manage.py", "run_dispatcher"], env, log),
        ]

    running = start_all()
    try:
        in_flight = wait_for(
            lambda: Upload.objects.filter(batch=batch, status__in=["uploading", "processing", "done"]).count() >= 4,
            timeout=60,
        )
        assert in_flight, log.read_text()[-3000:]
        for process in running:
            processes.kill(process)  # SIGKILL: no cleanup, tasks cut mid-flight
        settled_at_kill = Upload.objects.filter(batch=batch, status__in=Upload.FINAL).count()
        assert settled_at_kill < len(files), "the batch finished before the kill: nothing was tested"

        sim_config_update(slow_rate=0.0)
        running = start_all()
        settled = wait_for(lambda: not Upload.objects.filter(batch=batch).exclude(status__in=Upload.FINAL).exists(),
                           timeout=90)
        assert settled, [(u.original_name, u.status) for u in Upload.objects.filter(batch=batch)] + [
            log.read_text()[-3000:]]
    finally:
        for process in running:
            processes.kill(process)

    uploads = list(Upload.objects.filter(batch=batch))
    assert len(uploads) == len(files)
    # Every file is new to Strava: a "duplicate" here could only name the activity of our own
    # POST that the kill cut off, which settles as done with it.
    assert {u.status for u in uploads} == {"done"}, [(u.original_name, u.status, u.reason) for u in uploads]
    # Each file's activity exists exactly once on "Strava".
    assert SimActivity.objects.filter(athlete_id=athlete.strava_id).count() == len(files)
    activity_ids = {u.activity_id or u.duplicate_of_activity for u in uploads}
    assert len(activity_ids) == len(files)
    assert not SimRequestLog.objects.filter(status=429).exists()
