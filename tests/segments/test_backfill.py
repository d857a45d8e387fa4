"""The acceptance of issue 7 against the simulator: exact call counts, stats, continuous runs, kills."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from segments.models import Segment, SegmentEffort
from stravasync.strava import quota
from stravasync.strava.quota import Priority
from tests import processes

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def api_calls() -> Counter:
    """Every API request the simulator answered, by path (status 200 only: nothing else was sent)."""
    from sandbox.models import SimRequestLog

    rows = SimRequestLog.objects.filter(path__startswith="/api/v3/")
    assert set(rows.values_list("status", flat=True)) <= {200}, list(rows.exclude(status=200).values_list("path", "status"))
    return Counter(rows.values_list("path", flat=True))


def warehouse_rows(athlete, sim_athlete) -> list:
    """What a pull would have stored: one warehouse activity per simulated activity, no details."""
    from sandbox.models import SimActivity
    from warehouse.models import Activity

    return [
        Activity.objects.create(strava_id=a.pk, athlete=athlete, name=a.name, sport_type=a.sport_type,
                                start_date=a.start_date, distance=a.distance, moving_time=a.moving_time,
                                elapsed_time=a.elapsed_time)
        for a in SimActivity.objects.filter(athlete=sim_athlete).order_by("id")
    ]


def detail_of(activity) -> dict:
    """The detailed activity the simulator would answer (built here, without a call)."""
    from sandbox import selectors as sim_selectors
    from sandbox import serializers
    from sandbox.models import SimActivity

    sim = SimActivity.objects.get(pk=activity.strava_id)
    return serializers.activity_detailed(sim, efforts=sim_selectors.activity_efforts(activity=sim, include_all=True), prs={})


def touched_segments(activity_ids) -> set[int]:
    from sandbox.models import SimSegmentEffort

    return set(SimSegmentEffort.objects.filter(activity_id__in=activity_ids).values_list("segment_id", flat=True))


def plenty_of_quota(settings) -> None:
    """Strava's real limits would make this test last days; the arithmetic is the same."""
    for name in ("LIMIT_SHORT", "LIMIT_DAILY", "READ_LIMIT_SHORT", "READ_LIMIT_DAILY"):
        setattr(settings, f"SANDBOX_{name}", 1_000_000)
        setattr(settings, f"QUOTA_{name}", 1_000_000)
    quota.reset_for_tests()


def run(*args: str) -> str:
    out = StringIO()
    call_command("backfill_segments", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(sim_connected_athlete):
    """Connected athletes whose simulated history is in the warehouse without details."""
    from sandbox.services import sim_seed

    def seed(*, athletes: int, activities: int, segments: int = 150) -> list:
        result = sim_seed(athletes=athletes, activities=activities, segments=segments, seed=7)
        rows = []
        for sim_athlete in result.athletes:
            athlete = sim_connected_athlete(sim_athlete=sim_athlete)
            rows += warehouse_rows(athlete, sim_athlete)
        return rows

    return seed


def test_backfilling_500_activities_costs_one_call_per_missing_detail_and_per_new_segment(seeded, settings):
    from warehouse.models import Activity

    activities = seeded(athletes=2, activities=250)
    assert len(activities) == 500
    # Some details are already stored (efforts not yet), some segments already detailed.
    for activity in activities[:20]:
        Activity.objects.filter(pk=activity.pk).update(detail=detail_of(activity), detail_fetched_at=timezone.now())
    segments = touched_segments(a.strava_id for a in activities)
    already = sorted(segments)[:5]
    Segment.objects.bulk_create([Segment(strava_id=sid, name="known", details={"id": sid}, details_fetched_at=timezone.now())
                                 for sid in already])
    expected = (500 - 20) + (len(segments) - len(already))

    before = run("--mode", "stats")

    assert "activities: 0 done, 500 remaining (480 need a call, 20 need none)" in before
    assert "segments:   5 detailed, 0 remaining" in before
    assert "calls still needed: 480 (more as the remaining activities reveal new segments)" in before
    eta = quota.estimate_finish(480, priority=Priority.BACKFILL)
    assert f"estimated finish: {eta:%Y-%m-%d %H:%M} UTC" in before, before
    assert eta.timestamp() - time.time() > 3600  # 480 reads at backfill priority take hours at Strava's defaults
    assert sum(api_calls().values()) == 0  # stats cost nothing

    plenty_of_quota(settings)
    started = time.monotonic()
    out = run("--mode", "one-time", "--activities", "500", "--segments", "1000")
    elapsed = time.monotonic() - started

    calls = api_calls()
    assert sum(calls.values()) == expected, out
    assert max(calls.values()) == 1  # no call repeated
    assert sum(1 for path in calls if path.startswith("/api/v3/activities/")) == 480
    assert {int(p.rsplit("/", 1)[1]) for p in calls if p.startswith("/api/v3/segments/")} == segments - set(already)
    from sandbox.models import SimSegmentEffort

    assert SegmentEffort.objects.count() == SimSegmentEffort.objects.count()
    assert not Activity.objects.filter(efforts_stored_at__isnull=True).exists()

    after = run("--mode", "stats")
    assert "activities: 500 done, 0 remaining (0 need a call, 0 need none)" in after
    assert f"segments:   {len(segments)} detailed, 0 remaining" in after
    assert "calls still needed: 0" in after and "nothing left to fetch" in after
    print(f"\n500 activities + {len(segments) - 5} segments: {expected} calls in {elapsed:.1f} s")


def test_continuous_mode_with_max_runs_stops_by_itself(seeded, settings):
    seeded(athletes=1, activities=30)
    plenty_of_quota(settings)

    out = run("--mode", "continuous", "--activities", "4", "--segments", "3", "--interval", "0.05", "--max-runs", "3")

    assert re.findall(r"^run (\d+)$", out, flags=re.M) == ["1", "2", "3"]
    assert "finished after 3 runs" in out
    calls = api_calls()
    assert sum(1 for p in calls if p.startswith("/api/v3/activities/")) == 12
    assert sum(1 for p in calls if p.startswith("/api/v3/segments/")) <= 9
    assert max(calls.values()) == 1


def test_the_quota_is_waited_for_not_overrun(seeded, settings):
    """With 3 backfill permits a window, the run waits for the next window instead of being refused."""
    seeded(athletes=1, activities=8)
    settings.QUOTA_WINDOW_SECONDS = 2
    settings.QUOTA_READ_LIMIT_SHORT = 4
    settings.QUOTA_RESERVE_RELEASE = 0.0
    settings.QUOTA_EDGE_SECONDS = 0.05
    settings.SANDBOX_WINDOW_SECONDS = 2
    settings.SANDBOX_READ_LIMIT_SHORT = 4
    quota.reset_for_tests()

    out = run("--mode", "one-time", "--activities", "8", "--segments", "0")

    assert "quota spent; resumes at" in out
    assert sum(api_calls().values()) == 8


def start_backfill(tmp_path, *args: str):
    env = processes.worker_env(SEGMENTS_CLAIM_TIMEOUT=1, QUOTA_LIMIT_SHORT=100000, QUOTA_LIMIT_DAILY=100000,
                               QUOTA_READ_LIMIT_SHORT=100000, QUOTA_READ_LIMIT_DAILY=100000)
    log = tmp_path / "backfill.log"
    return processes.start(["manage.py", "backfill_segments", *args], env, log), log


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def slow_history(seeded, settings):
    """40 activities; every answer takes 0.1 s, so that a run can be stopped in its middle."""
    from sandbox.services import sim_config_update

    activities = seeded(athletes=1, activities=40)
    plenty_of_quota(settings)
    sim_config_update(slow_rate=1.0, slow_seconds=0.1)
    expected = 40 + len(touched_segments(a.strava_id for a in activities))
    return activities, expected


def sim_efforts() -> int:
    from sandbox.models import SimSegmentEffort

    return SimSegmentEffort.objects.count()


def done_activities() -> int:
    from warehouse.models import Activity

    return Activity.objects.filter(efforts_stored_at__isnull=False).count()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopped_mid_run_and_restarted_it_loses_nothing_and_repeats_no_call(slow_history, tmp_path, sig):
    activities, expected = slow_history
    process, log = start_backfill(tmp_path, "--mode", "continuous", "--activities", "6", "--segments", "6", "--interval", "0.1")
    assert wait_for(lambda: done_activities() >= 10, timeout=60), log.read_text()[-3000:]

    processes.kill(process, sig)  # Ctrl+C (or the service manager's SIGTERM) in the middle of a run

    assert process.returncode == 0, log.read_text()[-3000:]
    assert "stopped on request" in log.read_text()
    assert sum(api_calls().values()) < expected, "the run finished before the stop: nothing was tested"

    process, log = start_backfill(tmp_path, "--mode", "one-time", "--activities", "100", "--segments", "100")
    assert process.wait(timeout=120) == 0, log.read_text()[-3000:]

    calls = api_calls()
    assert sum(calls.values()) == expected and max(calls.values()) == 1
    assert done_activities() == 40 and SegmentEffort.objects.count() == sim_efforts()
    assert not Segment.objects.filter(details_fetched_at__isnull=True).exists()


def test_killed_mid_run_and_restarted_it_loses_nothing_and_repeats_at_most_the_call_in_flight(slow_history, tmp_path):
    activities, expected = slow_history
    process, log = start_backfill(tmp_path, "--mode", "continuous", "--activities", "6", "--segments", "6", "--interval", "0.1")
    assert wait_for(lambda: done_activities() >= 10, timeout=60), log.read_text()[-3000:]

    processes.kill(process)  # SIGKILL: no cleanup at all
    time.sleep(1.2)  # the claim it held lapses (SEGMENTS_CLAIM_TIMEOUT=1 here)

    process, log = start_backfill(tmp_path, "--mode", "one-time", "--activities", "100", "--segments", "100")
    assert process.wait(timeout=120) == 0, log.read_text()[-3000:]

    calls = api_calls()
    repeated = [path for path, n in calls.items() if n > 1]
    # A GET cut off between Strava's answer and our commit cannot be known to have happened.
    assert len(repeated) <= 1 and max(calls.values()) <= 2, repeated
    assert sum(calls.values()) == expected + len(repeated)
    assert done_activities() == 40 and SegmentEffort.objects.count() == sim_efforts()
    assert not Segment.objects.filter(details_fetched_at__isnull=True).exists()


def test_athlete_limits_the_backfill_and_the_stats_to_one_athlete(seeded, settings):
    from warehouse.models import Activity

    activities = seeded(athletes=2, activities=6)
    plenty_of_quota(settings)
    first = activities[0].athlete

    out = run("--mode", "one-time", "--athlete", str(first.strava_id))

    assert Activity.objects.filter(athlete=first, efforts_stored_at__isnull=True).count() == 0
    assert Activity.objects.exclude(athlete=first).filter(efforts_stored_at__isnull=False).count() == 0
    mine = {int(p.rsplit("/", 1)[1]) for p in api_calls() if p.startswith("/api/v3/activities/")}
    assert mine == set(Activity.objects.filter(athlete=first).values_list("strava_id", flat=True))
    assert "activities: 6 done, 0 remaining" in out
    assert "activities: 0 done, 6 remaining" in run("--mode", "stats", "--athlete", str(activities[-1].athlete.strava_id))


def test_mode_efforts_fetches_activity_details_only_and_mode_segments_then_the_segments_only(seeded, settings):
    from segments.models import Segment
    from warehouse.models import Activity

    seeded(athletes=1, activities=6)
    plenty_of_quota(settings)

    run("--mode", "efforts")
    calls = api_calls()
    assert Activity.objects.filter(efforts_stored_at__isnull=True).count() == 0
    assert not [p for p in calls if p.startswith("/api/v3/segments/")]
    assert Segment.objects.exists() and not Segment.objects.filter(details_fetched_at__isnull=False).exists()

    run("--mode", "segments", "--mode", "one-time")
    new_calls = api_calls() - calls
    assert new_calls and all(p.startswith("/api/v3/segments/") for p in new_calls)
    assert not Segment.objects.filter(details_fetched_at__isnull=True).exists()


def test_mode_segments_alone_fetches_no_activity(seeded, settings):
    seeded(athletes=1, activities=4)
    plenty_of_quota(settings)
    out = run("--mode", "segments")
    assert not [p for p in api_calls() if p.startswith("/api/v3/activities/")]
    assert "activities: 0 done, 4 remaining" in out


def test_two_modes_of_one_kind_are_refused_by_name(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--mode takes one of both, efforts, segments and one of one-time"):
        run("--mode", "efforts", "--mode", "segments")
