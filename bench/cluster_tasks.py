"""bench/cluster.py's helper: the steps that need Django, run in a host's environment (app or simulator).

    python bench/cluster_tasks.py sim-seed ATHLETES HISTORY      (simulator's env) -> JSON: athletes' ids and codes
    python bench/cluster_tasks.py connect < codes.json           (app's env) -> JSON: app athlete ids by Strava id
    python bench/cluster_tasks.py files FOLDER ATHLETES PER_ATHLETE   (app's env) -> the files to upload
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def sim_seed(athletes: int, history: int) -> list[dict]:
    """Simulated athletes with `history` activities each (efforts on shared segments) and an auth code each."""
    from django.conf import settings

    from sandbox import services as sim
    from sandbox.services.seeding import sim_activities_seed, sim_segments_seed

    rng = random.Random(16)
    segments = sim_segments_seed(count=20, rng=rng)
    out = []
    for i in range(athletes):
        athlete = sim.sim_athlete_create(firstname=f"Drill{i}", lastname="Rider", rng=rng)
        sim_activities_seed(athlete, history, segments=segments, rng=rng, years=1.0)
        code = sim.auth_code_issue(athlete=athlete, client_id=settings.STRAVA_CLIENT_ID,
                                   scopes=["read", "activity:read_all", "activity:write"])
        out.append({"strava_id": athlete.pk, "code": code.code})
    return out


def connect(codes: list[dict]) -> dict[str, int]:
    """Each code exchanged over HTTP at the simulator and the athlete connected, as a login does."""
    from django.contrib.auth import get_user_model

    from accounts.services import athlete_connect
    from stravasync.strava import oauth

    scopes = "read,activity:read_all,activity:write"
    connected = {}
    for item in codes:
        payload = oauth.exchange_code(item["code"])
        user = get_user_model().objects.create_user(username=f"strava-{payload['athlete']['id']}")
        athlete = athlete_connect(user=user, athlete_data=payload["athlete"], token_payload=payload, scopes=scopes)
        connected[str(athlete.strava_id)] = athlete.pk
    return connected


def build_files(folder: Path, athletes: int, per_athlete: int) -> None:
    """Distinct real activities per athlete: each tests/data FIT activity once (another time_created:
    other bytes, the same recorded start, which differs between files), then shifted real GPX tracks."""
    from activityfiles import classify_file
    from tests.fitedit import with_time_created
    from tests.uploads.test_soak import SOURCES, ShiftedGpx

    data = ROOT / "tests" / "data"
    fits = []
    for path in sorted(data.glob("*.fit")):
        verdict = classify_file(path)
        if verdict.status == "eligible" and verdict.start_time is not None:
            try:
                with_time_created(path.read_bytes(), 1)
            except ValueError:
                continue  # no editable file_id: cannot be made distinct this way
            fits.append((path, verdict.start_time))
    starts = Counter(start for _, start in fits)
    fits = [path for path, start in fits if starts[start] == 1]  # the simulator: same start = duplicate
    gpx = [ShiftedGpx(path) for path in SOURCES]
    for a in range(athletes):
        own = folder / f"athlete{a}"
        own.mkdir(parents=True)
        for i in range(per_athlete):
            if i < len(fits):
                (own / f"{i:03d}-{fits[i].name}").write_bytes(with_time_created(fits[i].read_bytes(), 10**9 + a))
            else:
                offset = timedelta(days=400 * a + i, hours=a)
                (own / f"{i:03d}.gpx").write_bytes(gpx[i % len(gpx)].shifted(offset))


def main() -> None:
    import django

    django.setup()
    if sys.argv[1] == "sim-seed":
        print(json.dumps(sim_seed(int(sys.argv[2]), int(sys.argv[3]))))
    elif sys.argv[1] == "files":
        build_files(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "connect":
        print(json.dumps(connect(json.load(sys.stdin))))
    else:
        raise SystemExit(f"unknown step {sys.argv[1]!r}")


if __name__ == "__main__":
    main()
