"""What `upload_folder` shows a person at a terminal: bars for the sweep and the uploads, when a spent quota resumes, a summary."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime, timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from uploads.models import Upload

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WINDOW, LIMIT = 60, 50


def ride_gpx(start: datetime) -> bytes:
    """A five-minute ride recorded from `start`: its own activity to Strava, whose duplicate check is the start."""
    points = "".join(
        f'<trkpt lat="{45 + i * 0.0005:.5f}" lon="{6 + i * 0.0005:.5f}"><ele>{300 + i}</ele>'
        f"<time>{start + timedelta(seconds=10 * i):%Y-%m-%dT%H:%M:%SZ}</time></trkpt>" for i in range(30))
    return (f'<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
            f"<trk><type>cycling</type><trkseg>{points}</trkseg></trk></gpx>").encode()


class Terminal(StringIO):
    """stderr as a terminal: tqdm draws its bars only there."""

    def isatty(self) -> bool:
        return True


class Clock:
    """The quota's and the simulator's clock, which moves on when the command sleeps (and with real time).

    It starts one second into a window, so no window ends while files are being posted unless the
    command waits for it: the test never depends on where in a window it happens to start.
    """

    def __init__(self) -> None:
        now = time.time()
        self.offset = math.ceil(now / WINDOW) * WINDOW + 1 - now
        self.slept = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, 0.05))  # the simulator's processing delay still passes in real time
        self.offset += seconds
        self.slept += seconds


@pytest.fixture
def small_quota(settings, monkeypatch):
    """Strava's limit, in the simulator and in our quota alike: 50 calls per 60-second window."""
    from sandbox import ratelimit
    from stravasync.strava import quota
    from uploads.management.commands import upload_folder

    settings.QUOTA_WINDOW_SECONDS = settings.SANDBOX_WINDOW_SECONDS = WINDOW
    settings.QUOTA_LIMIT_SHORT = settings.SANDBOX_LIMIT_SHORT = LIMIT
    settings.QUOTA_RESERVE_RELEASE = 0.0
    settings.SANDBOX_UPLOAD_DELAY = 0.2
    settings.UPLOADS_CONFIRM_DELAY = 0.5
    settings.UPLOADS_CONFIRM_FALLBACK = 1.5
    clock = Clock()
    monkeypatch.setattr(quota, "now_ts", clock.time)
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=clock.time))
    monkeypatch.setattr(upload_folder, "time", SimpleNamespace(sleep=clock.sleep, monotonic=time.monotonic))
    quota.reset_for_tests()
    return clock


def test_a_folder_of_150_files_shows_bars_the_time_a_spent_quota_resumes_and_a_summary(
        sim_connected_athlete, small_quota, tmp_path):
    athlete = sim_connected_athlete(firstname="Folder")
    folder = tmp_path / "rides"
    folder.mkdir()
    for i in range(150):
        (folder / f"ride_{i:03}.gpx").write_bytes(ride_gpx(datetime(2024, 1, 1, 8, tzinfo=UTC) + timedelta(hours=i)))

    out, terminal = StringIO(), Terminal()
    call_command("upload_folder", str(folder), "--athlete", str(athlete.strava_id), "--report-dir",
                 str(tmp_path / "reports"), stdout=out, stderr=terminal)

    assert Upload.objects.filter(athlete=athlete, status="done").count() == 150
    bars = terminal.getvalue()
    assert re.search(r"sweep: 100%\|.*\| 150/150", bars), bars[-500:]
    assert re.search(r"upload: 100%\|.*\| 150/150", bars), bars[-500:]
    text = out.getvalue()
    waits = re.findall(r"quota spent; resumes at (\d\d:\d\d:\d\d) UTC \(in [^)]+\): (\d+) file\(s\) waiting", text)
    # 150 posts at 50 calls a window: at least two windows are spent and waited out, each said once.
    assert len(waits) >= 2 and len(waits) == len(set(waits)), text
    assert all(int(left) > 0 for _, left in waits)
    assert small_quota.slept >= 2 * (WINDOW - 10)
    assert re.search(rf"batch \d+: 150 files, \d+ API calls in \d+ s, {len(waits)} wait\(s\) for the quota", text), text
    assert re.search(r"done\s+150", text)


def test_an_athlete_who_never_connected_is_told_to_connect_strava_in_the_web_app(db, tmp_path):
    with pytest.raises(CommandError, match="Connect Strava in the web app first"):
        call_command("upload_folder", str(tmp_path), "--athlete", "demo2", stdout=StringIO())


def test_a_disconnected_athlete_is_told_to_connect_again_before_any_file_is_read(alice, tmp_path):
    alice.token.delete()
    with pytest.raises(CommandError, match="connect Strava in the web app first"):
        call_command("upload_folder", str(tmp_path), "--athlete", str(alice.strava_id), stdout=StringIO())
    assert not Upload.objects.exists()


def test_a_folder_with_nothing_to_upload_says_so(sim_connected_athlete, tmp_path):
    athlete = sim_connected_athlete(firstname="Empty")
    (tmp_path / "notes.txt").write_text("not an activity")
    out = StringIO()
    call_command("upload_folder", str(tmp_path), "--athlete", str(athlete.strava_id), "--keep-in-place",
                 "--report-dir", str(tmp_path / "reports"), stdout=out)
    assert "nothing to upload" in out.getvalue()
