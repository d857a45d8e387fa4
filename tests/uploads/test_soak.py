"""Soak: 1,000 files through real processes, with faults, two SIGKILLs and a foreign spend.

The files are swept from a folder by `upload_folder` (its own process) while the task cluster
and the dispatcher already post them to the simulator, which answers 10 % of calls with a 5xx
and 5 % too slowly for the client's timeout (the call still lands: the classic "did my POST
create the activity?"). The cluster and the dispatcher are killed twice, and another client of
our client id spends most of a window at its start. Then every file must have settled exactly
once, each activity exist once on "Strava", and the batch report say what the rows say.

Windows are compressed to a few seconds (the quota and the simulator read the same lengths),
so the quota is what paces the run, as in production, and the whole test stays bounded.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from activityfiles import classify_file
from stravasync.strava.models import QuotaState
from tests import processes
from tests.conftest import DATA_DIR
from tests.uploads.test_crash_recovery import wait_for
from uploads import selectors, services
from uploads.models import Upload, UploadBatch, UploadEvent

pytestmark = [pytest.mark.slow, pytest.mark.soak, pytest.mark.django_db(transaction=True)]

FILES = 1000  # distinct activities
COPIES = 12  # exact copies of some of them, under other names
WINDOW = 4  # seconds
LIMIT = 60  # calls per window, overall and read
FOREIGN = 40  # calls another client of our client id spends at a window's start
HTTP_TIMEOUT = 1.0  # the client's; slow answers take longer, so they become timeouts
SLOW_SECONDS = 2.0
SOURCES = (
    DATA_DIR / "jimmykane_sports-lib__samples_gpx_garmin.gpx",
    DATA_DIR / "sports-alliance_sports-lib__src_specs_fixtures_swim_gpx_4623204522-1.gpx",
)
JUNK = (  # not activities, or unreadable: rows with reasons, and never a call
    DATA_DIR / "mshroyer_coursepointer__integration_src_integration_data_cptr002.gpx",
    DATA_DIR / "GoldenCheetah_GoldenCheetah__test_rides_MetadataOnly.gpx",
    DATA_DIR / "dtcooper_python-fitparse__tests_files_Settings2.fit",
    DATA_DIR / "rgmf_fit_data_whiz__tests_files_monitor1_with_all.fit",
    DATA_DIR / "mshroyer_coursepointer__integration_src_integration_data_invalid_bad_xml.gpx",
    DATA_DIR / "broken" / "not_a_fit.fit",
    DATA_DIR / "broken" / "truncated_20_bytes.fit",
    DATA_DIR / "broken" / "billion_laughs.gpx",
    DATA_DIR / "broken" / "empty.fit",
)
FOREIGN_PATH = "/api/v3/athlete"  # the foreign client's call; our uploads never make it

_TIME = re.compile(rb"<time>(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z</time>")


class ShiftedGpx:
    """A real GPX track whose every <time> can be moved by an offset: a new activity, cheaply."""

    def __init__(self, path: Path) -> None:
        data = path.read_bytes()
        self.pieces: list[bytes] = []
        self.times: list[tuple[datetime, bytes]] = []
        last = 0
        for match in _TIME.finditer(data):
            self.pieces.append(data[last:match.start()])
            moment = datetime.strptime(match.group(1).decode(), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
            self.times.append((moment, match.group(2) or b""))
            last = match.end()
        self.tail = data[last:]
        assert self.times, f"{path.name} has no <time> to shift"

    def shifted(self, offset: timedelta) -> bytes:
        out = io.BytesIO()
        for piece, (moment, fraction) in zip(self.pieces, self.times, strict=True):
            out.write(piece)
            out.write(b"<time>" + (moment + offset).strftime("%Y-%m-%dT%H:%M:%S").encode() + fraction + b"Z</time>")
        out.write(self.tail)
        return out.getvalue()


def build_drop(folder: Path, *, files: int, copies: int) -> dict[str, list[str]]:
    """`files` distinct activities (a day apart, so a confirm's list stays near its files), some
    exact copies and the junk, under `folder`; returns the names by what they should become
    ("copies": "original|copy" pairs, of which one is sent and the other is its duplicate)."""
    folder.mkdir()
    sources = [ShiftedGpx(path) for path in SOURCES]
    names: dict[str, list[str]] = {"done": [], "copies": [], "junk": [], "failed": []}
    for index in range(files):
        name = f"rides/{index // 100:02d}/activity-{index:04d}.gpx"
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(sources[index % len(sources)].shifted(timedelta(days=index)))
        names["done"].append(name)
    for index in range(copies):
        # Which of two equal files is sent and which is its duplicate is the sweep's order: either will do.
        original = names["done"][index * (files // copies)]
        copy = f"copies/copy-{index:02d}.gpx"
        (folder / copy).parent.mkdir(exist_ok=True)
        shutil.copy(folder / original, folder / copy)
        names["copies"].append(f"{original}|{copy}")
    (folder / "other").mkdir()
    for path in JUNK:
        name = f"other/{path.name}"
        shutil.copy(path, folder / name)
        names[classify_file(path).status].append(name)
    return names


def test_shifted_copies_of_a_real_track_are_distinct_eligible_activities(tmp_path):
    names = build_drop(tmp_path / "drop", files=4, copies=1)
    verdicts = [classify_file(tmp_path / "drop" / name) for name in names["done"]]
    assert [v.status for v in verdicts] == ["eligible"] * 4
    assert len({v.start_time for v in verdicts}) == 4
    assert verdicts[2].start_time - classify_file(SOURCES[0]).start_time == timedelta(days=2)
    assert set(names) == {"done", "copies", "junk", "failed"} and names["junk"] and names["failed"]
    original, copy = names["copies"][0].split("|")
    assert (tmp_path / "drop" / original).read_bytes() == (tmp_path / "drop" / copy).read_bytes()


def quota_settings(settings) -> dict[str, object]:
    """The same compressed windows here (the simulator) and in the workers (their environment)."""
    return processes.compressed_windows(
        settings, window=WINDOW, limit=LIMIT,
        # The edge guards against the time between a permit's check and Strava counting the call;
        # here that includes the simulator's waits for the SQLite lock on a busy 2-core machine:
        # calls were seen counted up to ~2 s after their permit (0.2 s, then 0.5 s, let a call granted
        # late in one window be counted early in the next: one 429). Edge grants count in both windows.
        QUOTA_EDGE_SECONDS=1.5, QUOTA_RESERVE_RELEASE=0.3,
        # Every window is probed; a probe lost to a timeout is retried well within the window.
        QUOTA_WINDOW_PROBE_PERMITS=1, QUOTA_WINDOW_PROBE_TIMEOUT=2 * HTTP_TIMEOUT,
    )


def test_a_thousand_files_through_faults_kills_and_a_foreign_spend_settle_exactly_once(
    sim_connected_athlete, settings, tmp_path,
):
    from sandbox.models import SimActivity, SimRequestLog, SimUpload
    from sandbox.services import sim_config_update

    started = time.monotonic()
    env_quota = quota_settings(settings)
    athlete = sim_connected_athlete(firstname="Soak")
    names = build_drop(tmp_path / "drop", files=FILES, copies=COPIES)
    total = FILES + COPIES + len(JUNK)
    sim_config_update(error_rate=0.10, slow_rate=0.05, slow_seconds=SLOW_SECONDS)

    env = processes.worker_env(
        **env_quota, STRAVA_HTTP_TIMEOUT=HTTP_TIMEOUT, Q_WORKERS=4, Q_TIMEOUT=10, Q_RETRY=12,
        UPLOADS_CLAIM_TIMEOUT=12, UPLOADS_DISPATCH_BATCH=20, DISPATCH_INTERVAL=0.3,
        UPLOADS_CONFIRM_DELAY=0.5, UPLOADS_CONFIRM_FALLBACK=1.5, UPLOADS_CONFIRM_MAX_WAIT=3,
    )
    log = tmp_path / "workers.log"
    timeline: list[str] = []

    def note(event: str) -> None:
        timeline.append(f"{time.monotonic() - started:6.1f} s  {event}")

    def start_cluster() -> subprocess.Popen:
        return processes.start(["manage.py", "qcluster"], env, log)

    def start_dispatcher() -> subprocess.Popen:
        return processes.start(["manage.py", "run_dispatcher"], env, log)

    def batch_rows():
        return Upload.objects.filter(batch__athlete=athlete)

    def settled() -> int:
        return batch_rows().filter(status__in=Upload.FINAL).count()

    def explain() -> str:
        counts = Counter(batch_rows().values_list("status", flat=True))
        return f"{dict(counts)}\n" + "\n".join(timeline) + "\n" + log.read_text()[-4000:]

    cluster, dispatcher = start_cluster(), start_dispatcher()
    sweep = processes.start(
        ["manage.py", "upload_folder", str(tmp_path / "drop"), "--athlete", str(athlete.strava_id),
         "--no-wait", "--keep-in-place"],
        env, tmp_path / "sweep.log",
    )
    note("cluster, dispatcher and the sweep started")
    foreign_window: tuple[float, float] | None = None
    try:
        # First kill: cluster and dispatcher together, a quarter of the way.
        assert wait_for(lambda: settled() >= FILES // 4, timeout=150), explain()
        processes.kill(cluster)
        processes.kill(dispatcher)
        note(f"SIGKILL cluster and dispatcher at {settled()} settled")
        cluster, dispatcher = start_cluster(), start_dispatcher()

        # The foreign spend: at the start of a window, while the backlog is draining. As in the
        # issue, it is over before our first call in that window (a spend racing our probe is a
        # case no header can show in time): our calls are held, as by a closed window, from
        # just before the window (so no edge permit is spent in it) until the spend is done.
        assert wait_for(lambda: settled() >= FILES // 2, timeout=150), explain()
        window_start = (int(time.time() // WINDOW) + 2) * WINDOW
        time.sleep(window_start - 0.5 - time.time())
        QuotaState.objects.update(closed_until=datetime.fromtimestamp(window_start + WINDOW, UTC))
        time.sleep(window_start - time.time())
        foreign = processes.spend_foreign_calls(settings.STRAVA_API_URL, athlete.token.access_token, FOREIGN,
                                                threads=16, timeout=2 * SLOW_SECONDS)
        QuotaState.objects.update(closed_until=None)
        foreign_window = (window_start, window_start + WINDOW)
        note(f"foreign spend of {FOREIGN} at a window's start: {Counter(foreign)} "
             f"in {time.time() - window_start:.2f} s")

        # Second kill: the cluster alone, with tasks in flight; the dispatcher keeps handing out.
        assert wait_for(lambda: settled() >= 3 * FILES // 4, timeout=150), explain()
        processes.kill(cluster)
        note(f"SIGKILL cluster at {settled()} settled")
        time.sleep(1)
        cluster = start_cluster()

        assert sweep.wait(timeout=60) == 0, (tmp_path / "sweep.log").read_text()[-3000:]
        done = wait_for(lambda: batch_rows().count() == total and settled() == total, timeout=180)
        note(f"all settled: {done}")
        assert done, explain()
    finally:
        for process in (cluster, dispatcher, sweep):
            processes.kill(process)
        time.sleep(SLOW_SECONDS)  # the simulator's last slow answers end before the test database goes
    elapsed = time.monotonic() - started
    ours = SimRequestLog.objects.filter(path__startswith="/api/v3/").exclude(path=FOREIGN_PATH)
    kinds = Counter((method, re.sub(r"/\d+", "/N", path), status) for method, path, status in
                    ours.values_list("method", "path", "status"))
    refused = [(c.timestamp(), p) for c, p in ours.filter(status=429).values_list("created_at", "path")]
    print("\n".join(timeline), f"\nsoak: {total} files settled in {elapsed:.0f} s; calls of ours:",
          *(f"\n  {n:5} {k}" for k, n in sorted(kinds.items())),
          "\n429s (s after the foreign spend's window start):",
          [round(at - foreign_window[0], 2) for at, _ in refused] if foreign_window else refused)
    if foreign_window:
        window_calls = SimRequestLog.objects.filter(
            path__startswith="/api/v3/", created_at__gte=datetime.fromtimestamp(foreign_window[0], UTC),
            created_at__lt=datetime.fromtimestamp(foreign_window[0] + 1.5, UTC)).order_by("created_at")
        print("first 1.5 s of the foreign window (answered at, F=foreign, status, ms):", " ".join(
            f"{c.created_at.timestamp() - foreign_window[0]:.2f}{'F' if c.path == FOREIGN_PATH else ''}/{c.status}"
            f"/{c.duration_ms:.0f}" for c in window_calls))

    # None lost, every file settled exactly once, and each as its kind of file should.
    batch = UploadBatch.objects.get(athlete=athlete)
    uploads = list(Upload.objects.filter(batch=batch))
    assert len(uploads) == total
    by_name = {u.original_name: u for u in uploads}
    pairs = [pair.split("|") for pair in names["copies"]]
    assert set(by_name) == {*names["done"], *names["junk"], *names["failed"], *(copy for _, copy in pairs)}
    expected = {name: status for status in ("done", "junk", "failed") for name in names[status]}
    for original, copy in pairs:  # the first swept is sent; the other is its duplicate, at no cost
        first, second = sorted((by_name[original], by_name[copy]), key=lambda u: u.pk)
        expected |= {first.original_name: "done", second.original_name: "duplicate"}
        assert second.duplicate_of_upload_id == first.pk
    fates = {name: upload.status for name, upload in by_name.items()}
    assert fates == expected, {n: (s, by_name[n].reason) for n, s in fates.items() if s != expected[n]}
    final_steps = Counter(UploadEvent.objects.filter(upload__batch=batch, to_status__in=Upload.FINAL)
                          .values_list("upload_id", flat=True))
    assert set(final_steps.values()) == {1} and len(final_steps) == total, "a file settled twice"

    # Each activity exists exactly once on "Strava", and each done file names its own.
    activities = {a.pk: a for a in SimActivity.objects.filter(athlete_id=athlete.strava_id)}
    done = [u for u in uploads if u.status == "done"]
    assert len(activities) == FILES
    assert len({u.activity_id for u in done}) == FILES
    assert all(activities[u.activity_id].external_id == u.external_id for u in done)

    # No file is reported a duplicate of its own activity (only copies are duplicates: never sent).
    own = {a.external_id: a.pk for a in activities.values()}
    for upload in uploads:
        if upload.status == "duplicate":
            assert upload.external_id not in own, upload.original_name  # it was never sent
            assert upload.duplicate_of_upload is not None
            # The original's activity, if it had one when the copy was swept (else none yet).
            assert upload.duplicate_of_activity in (None, upload.duplicate_of_upload.activity_id)

    # Junk, unreadable files and copies cost no call.
    idle = [u for u in uploads if u.status != "done"]
    assert all(u.api_calls == 0 and u.attempts == 0 and u.strava_upload_id is None for u in idle)
    assert not SimUpload.objects.filter(external_id__in=[u.external_id for u in idle]).exists()

    # The report says what the rows say (the selector's JSON, its CSV, and the stored files).
    report = selectors.batch_report(batch=batch)
    assert report["files"] == total and report["finished_at"] is not None
    assert report["totals"] == dict(Counter(u.status for u in uploads)) == batch.counts
    rows = {row["file"]: row for row in report["rows"]}
    for upload in uploads:
        row = rows[upload.original_name]
        assert (row["status"], row["upload_id"], row["activity_id"], row["duplicate_of"]) == (
            upload.status, upload.strava_upload_id, upload.activity_id, upload.duplicate_of_activity)
    assert list(csv.DictReader(io.StringIO(selectors.batch_report_csv(batch=batch)))) == [
        {key: "" if value is None else str(value) for key, value in row.items()} for row in report["rows"]]
    upload_calls = ours.filter(path__startswith="/api/v3/uploads").count() + ours.filter(
        path="/api/v3/athlete/activities", query__contains="before=").count()
    assert batch.api_calls <= upload_calls, (batch.api_calls, upload_calls)

    # No 429 but in the foreign spend's window, and at most one there.
    assert foreign_window is not None
    inside = [r for r in refused if foreign_window[0] <= r[0] < foreign_window[1]]
    assert len(inside) <= 1 and len(refused) == len(inside), (refused, foreign_window)
    stored = services.batch_report_store(batch=batch, folder=tmp_path / "reports")
    assert json.loads(Path(stored[0]).read_text())["rows"] == report["rows"]
    assert Path(stored[1]).read_bytes().decode() == selectors.batch_report_csv(batch=batch)
