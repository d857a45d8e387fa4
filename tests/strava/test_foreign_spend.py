"""Another client of our client id spends a window's start; our cluster then drains a backlog.

Strava counts by client id, so a "foreign client" is simply requests made to the simulator with a
valid token outside our quota (here: plain `requests` calls). Before the window probe, the
dispatcher granted a whole batch from its stale count and Strava refused the overflow (15 × 429
in one second in the hostile test of issue 12); now one probe's headers show the foreign spend
before any more permits are granted.
"""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from tests import processes
from tests.uploads.test_crash_recovery import wait_for
from uploads import services
from uploads.models import Upload

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WINDOW = 10  # seconds
LIMIT = 80  # calls per window, overall and read
FOREIGN = 60
FILES = 40  # more than the 20 calls the foreign client left in the window


def gpx(index: int) -> bytes:
    """A small ride with its own start time (so each file is a new activity on the simulator)."""
    start = datetime(2021, 3, 1, 7, 0, tzinfo=UTC) + timedelta(days=index)
    points = "".join(
        f'<trkpt lat="{51.5 + i * 0.001:.4f}" lon="{-0.1 + i * 0.001:.4f}"><ele>{10 + i}</ele>'
        f"<time>{(start + timedelta(seconds=10 * i)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for i in range(30)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="test" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>ride</name><type>cycling</type>'
        f"<trkseg>{points}</trkseg></trk></gpx>"
    ).encode()


def limits(settings) -> dict[str, object]:
    return processes.compressed_windows(settings, window=WINDOW, limit=LIMIT, QUOTA_EDGE_SECONDS=0.2,
                                        QUOTA_WINDOW_PROBE_PERMITS=1)


def test_a_foreign_spend_at_a_windows_start_costs_at_most_one_429(sim_connected_athlete, settings, tmp_path):
    from sandbox.models import SimRequestLog

    env_limits = limits(settings)
    athlete = sim_connected_athlete(firstname="Foreign")
    env = processes.worker_env(
        **env_limits, Q_WORKERS=4, DISPATCH_INTERVAL=0.3,
        UPLOADS_CONFIRM_DELAY=0.5, UPLOADS_CONFIRM_FALLBACK=1.5, UPLOADS_CONFIRM_MAX_WAIT=3,
    )
    log = tmp_path / "workers.log"
    running = [processes.start(["manage.py", "qcluster"], env, log),
               processes.start(["manage.py", "run_dispatcher"], env, log)]
    try:
        time.sleep(3)  # the cluster and the dispatcher boot, idle
        window_start = (int(time.time() // WINDOW) + 1) * WINDOW
        time.sleep(window_start - time.time() + 0.05)
        statuses = processes.spend_foreign_calls(settings.STRAVA_API_URL, athlete.token.access_token, FOREIGN)
        assert statuses == [200] * FOREIGN
        batch = services.batch_create(athlete=athlete, source="folder", label="after a foreign spend")
        with transaction.atomic():  # the backlog appears at once, as a dropped zip's files do
            for index in range(FILES):
                services.upload_ingest(batch=batch, name=f"ride-{index}.gpx", stream=io.BytesIO(gpx(index)))
        assert time.time() < window_start + WINDOW / 2, "the setup ran past the window's first half"
        settled = wait_for(lambda: not Upload.objects.filter(batch=batch).exclude(status__in=Upload.FINAL).exists(),
                           timeout=6 * WINDOW)
        assert settled, log.read_text()[-3000:]
    finally:
        for process in running:
            processes.kill(process)

    assert list(Upload.objects.filter(batch=batch).values_list("status", flat=True)) == ["done"] * FILES
    calls = SimRequestLog.objects.filter(path__startswith="/api/v3/").values_list("created_at", "status")
    refused_in_window = [c for c, s in calls if s == 429 and window_start <= c.timestamp() < window_start + WINDOW]
    print(f"429s in the foreign-spend window: {len(refused_in_window)}")
    assert len(refused_in_window) <= 1
    assert sum(1 for _, s in calls if s == 429) <= 1
