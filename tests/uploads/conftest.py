from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from tests.conftest import DATA_DIR

ACTIVITY_FIT = DATA_DIR / "dtcooper_python-fitparse__tests_files_2019-02-17-062644-ELEMNT-297E-195-0.fit"
OTHER_ACTIVITY_FIT = DATA_DIR / "GoldenCheetah_GoldenCheetah__test_rides_Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit"
SETTINGS_FIT = DATA_DIR / "dtcooper_python-fitparse__tests_files_Settings2.fit"
MONITORING_FIT = DATA_DIR / "rgmf_fit_data_whiz__tests_files_monitor1_with_all.fit"
GPX = DATA_DIR / "jimmykane_sports-lib__samples_gpx_garmin.gpx"
BROKEN = DATA_DIR / "broken"
MOCKED_API = "https://strava.test/api/v3"  # answered by `responses`, never reached


@pytest.fixture
def mocked_strava(settings) -> str:
    """The Strava client pointed at a host `responses` answers, with no confirmation delays."""
    settings.STRAVA_API_URL = MOCKED_API
    settings.UPLOADS_CONFIRM_DELAY = 0
    settings.UPLOADS_CONFIRM_FALLBACK = 0
    settings.UPLOADS_CONFIRM_MAX_WAIT = 0
    return MOCKED_API


@pytest.fixture
def batch(alice):
    from uploads.services import batch_create

    return batch_create(athlete=alice, source="folder", label="test")


@pytest.fixture
def ingest(batch):
    from uploads.services import upload_ingest

    def run(path: Path, name: str | None = None, target_batch=None):
        with open(path, "rb") as stream:
            return upload_ingest(batch=target_batch or batch, name=name or path.name, stream=stream)

    return run


@pytest.fixture
def bytes_of():
    return lambda path: io.BytesIO(Path(path).read_bytes())


@pytest.fixture
def copy_to(tmp_path):
    def copy(*paths: Path, folder: str = "in") -> Path:
        target = tmp_path / folder
        target.mkdir(exist_ok=True)
        for path in paths:
            shutil.copy(path, target / path.name)
        return target

    return copy
