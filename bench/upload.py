"""Calls per file and files per quota window: our pipeline against the original uploader.

Usage: .venv/bin/python bench/upload.py [--files 40]
Both upload the same real activity files, for two fresh simulated athletes, over real HTTP to
the simulator (uploads take ~1.5 s to process, like Strava's mean). The original uploader
POSTs each file and polls GET /uploads/{id} every second until it settles.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._server import BenchServer  # noqa: E402

STRAVA_WINDOW_LIMIT = 200  # overall calls per 15 minutes, Strava's default


def distinct_activity_files(limit: int) -> list[Path]:
    from activityfiles import classify_file

    chosen, starts = [], set()
    sources = [ROOT / "tests" / "data", ROOT.parent / "shared" / "data" / "fit", ROOT.parent / "shared" / "data" / "gpx-tcx"]
    for folder in sources:
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            if path.suffix.lower() not in (".fit", ".gpx", ".tcx"):
                continue
            verdict = classify_file(path)
            if verdict.status == "eligible" and verdict.start_time and verdict.start_time not in starts:
                starts.add(verdict.start_time)
                chosen.append(path)
    return chosen[:limit]


def connect_athlete(firstname: str):
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from accounts.services import athlete_connect
    from sandbox import services as sim
    from stravasync.strava import oauth as strava

    sim_athlete = sim.sim_athlete_create(firstname=firstname, lastname="Bench")
    code = sim.auth_code_issue(athlete=sim_athlete, client_id=settings.STRAVA_CLIENT_ID,
                               scopes=["read", "activity:read_all", "activity:write"])
    payload = strava.exchange_code(code.code)
    user = get_user_model().objects.create_user(username=f"bench-{payload['athlete']['id']}")
    return athlete_connect(user=user, athlete_data=payload["athlete"], token_payload=payload,
                           scopes="read,activity:read_all,activity:write")


def api_calls(athlete_id: int) -> int:
    from sandbox.models import SimRequestLog

    return SimRequestLog.objects.filter(athlete_id=athlete_id, path__startswith="/api/v3/").count()


def run_ours(server: BenchServer, athlete, folder: Path) -> tuple[int, float]:
    before = api_calls(athlete.strava_id)  # the connect's first page of history is not the uploads' cost
    started = time.monotonic()
    subprocess.run([sys.executable, "manage.py", "upload_folder", str(folder), "--athlete", str(athlete.strava_id),
                    "--keep-in-place"], cwd=ROOT, env=server.env, check=True, capture_output=True)
    return api_calls(athlete.strava_id) - before, time.monotonic() - started


def run_original(server: BenchServer, athlete, files: list[Path]) -> tuple[int, float]:
    """POST, then poll every second until ready or error: what the original uploader did."""
    from accounts.models import StravaToken

    token = StravaToken.objects.get(athlete=athlete).access_token
    api = f"{server.url}/sandbox/strava/api/v3"
    headers = {"Authorization": f"Bearer {token}"}
    before = api_calls(athlete.strava_id)
    started = time.monotonic()
    for path in files:
        data_type = path.suffix.lower().lstrip(".")
        with open(path, "rb") as fh:
            upload = requests.post(f"{api}/uploads", headers=headers, files={"file": (path.name, fh)},
                                   data={"data_type": data_type}, timeout=30).json()
        while not upload.get("error") and not upload.get("activity_id"):
            time.sleep(1)
            upload = requests.get(f"{api}/uploads/{upload['id']}", headers=headers, timeout=30).json()
    return api_calls(athlete.strava_id) - before, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=40)
    args = parser.parse_args()
    env = {"SANDBOX_UPLOAD_DELAY": "1.5"}
    with BenchServer("upload", env) as server:
        os.environ.update(server.env)
        import django

        django.setup()
        files = distinct_activity_files(args.files)
        folder = Path(tempfile.mkdtemp(prefix="stravasync-bench-"))
        for path in files:
            shutil.copy(path, folder / path.name)
        ours_calls, ours_time = run_ours(server, connect_athlete("Ours"), folder)
        original_calls, original_time = run_original(server, connect_athlete("Original"), files)
        shutil.rmtree(folder, ignore_errors=True)

    n = len(files)
    print(f"{n} real activity files, each settled on the simulator (processing takes ~1.5 s, like Strava)")
    print(f"{'':34}{'stravasync':>14}{'original':>14}")
    print(f"{'API calls':34}{ours_calls:>14}{original_calls:>14}")
    print(f"{'calls per file':34}{ours_calls / n:>14.2f}{original_calls / n:>14.2f}")
    print(f"{'files per 15-min window (200 calls)':34}{STRAVA_WINDOW_LIMIT * n / ours_calls:>14.0f}"
          f"{STRAVA_WINDOW_LIMIT * n / original_calls:>14.0f}")
    print(f"{'wall time, s':34}{ours_time:>14.1f}{original_time:>14.1f}")
    print(f"stravasync spends {original_calls / ours_calls:.1f}x fewer calls per file")


if __name__ == "__main__":
    main()
