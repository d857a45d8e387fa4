"""`manage.py sweep`: a verdict per file with the recorded start and sport, no call, no write."""

from __future__ import annotations

import json
import shutil
from io import StringIO

from django.core.management import call_command

from activityfiles import classify_file
from tests.uploads.conftest import ACTIVITY_FIT, GPX, SETTINGS_FIT


def test_sweep_json_gives_each_file_its_recorded_start_in_utc_and_its_sport(tmp_path):
    for path in (ACTIVITY_FIT, GPX, SETTINGS_FIT):
        shutil.copy(path, tmp_path / path.name)
    out = StringIO()

    call_command("sweep", str(tmp_path), "--json", stdout=out)

    rows = {row["file"]: row for row in json.loads(out.getvalue())}
    ride = rows[ACTIVITY_FIT.name]
    truth = classify_file(ACTIVITY_FIT)
    # The ELEMNT ride's session starts at 06:26:44; its file_id.time_created says 08:48:09.
    assert (ride["verdict"], ride["start_time"], ride["sport"]) == ("eligible", "2019-02-17T06:26:44+00:00", "Ride")
    assert truth.created_time is not None and truth.created_time.isoformat() != ride["start_time"]
    assert rows[GPX.name]["sport"] == "Run" and rows[GPX.name]["start_time"].endswith("+00:00")
    assert (rows[SETTINGS_FIT.name]["verdict"], rows[SETTINGS_FIT.name]["start_time"]) == ("junk", None)


def test_sweep_prints_the_sport_and_start_beside_each_eligible_file(tmp_path):
    shutil.copy(ACTIVITY_FIT, tmp_path / ACTIVITY_FIT.name)
    out = StringIO()

    call_command("sweep", str(tmp_path), stdout=out)

    assert f"eligible  {ACTIVITY_FIT.name}  Ride 2019-02-17T06:26:44+00:00" in out.getvalue()
