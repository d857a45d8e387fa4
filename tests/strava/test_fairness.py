"""Fair share: an athlete with five files is not queued behind another athlete's thousand.

The real uploads pipeline (`uploads_dispatch(inline=True)`: permits for priority UPLOAD, then
`fair_pick`) posts to a mocked Strava; the quota decides how many files go per window.
"""

from __future__ import annotations

import itertools
import json
import re

import pytest
import responses
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from stravasync.strava import quota
from uploads import services
from uploads.models import Upload, UploadBatch

pytestmark = pytest.mark.django_db

API = "https://strava.test/api/v3"
WINDOW = 900
START = 1_700_000_100.0 - (1_700_000_100.0 % WINDOW) + 100  # 100 s into a window
EXTERNAL_ID = re.compile(rb'name="external_id"\r\n\r\nstravasync-(\d+)')


@pytest.fixture
def clock(monkeypatch, settings):
    """The quota's clock, moved by hand: a tick can be one window."""
    settings.QUOTA_WINDOW_SECONDS = WINDOW
    settings.QUOTA_DAY_SECONDS = 86400
    moment = {"ts": START}
    monkeypatch.setattr(quota, "now_ts", lambda: moment["ts"])
    return moment


@pytest.fixture(autouse=True)
def _strava(settings):
    settings.STRAVA_API_URL = API
    settings.QUOTA_LIMIT_DAILY = 100_000
    settings.QUOTA_READ_LIMIT_DAILY = 100_000
    settings.QUOTA_RESERVE_SHORT = [0, 0, 0, 0, 0, 0]
    settings.QUOTA_RESERVE_DAILY = [0, 0, 0, 0, 0, 0]
    settings.UPLOADS_DISPATCH_BATCH = 1_000  # the quota, not the batch size, decides how many go
    quota.reset_for_tests()


@pytest.fixture
def posted():
    """Mock Strava's POST /uploads; returns the upload pks in the order Strava received them."""
    order: list[int] = []
    counter = itertools.count(5000)

    def answer(request):
        order.append(int(EXTERNAL_ID.search(request.body).group(1)))
        upload_id = next(counter)
        body = {"id": upload_id, "id_str": str(upload_id), "external_id": f"stravasync-{order[-1]}",
                "status": "Your activity is still being processed.", "error": None, "activity_id": None}
        return 201, {"Content-Type": "application/json"}, json.dumps(body)

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, f"{API}/uploads", callback=answer)
        yield order


@pytest.fixture
def queue():
    """`queue(athlete, n)`: n uploads queued for the athlete, created in bulk with one small stored file."""
    stored = default_storage.save("uploads/fair.fit", ContentFile(b"\x0e\x10fair-share test file"))

    def make(athlete, count: int) -> list[int]:
        batch = UploadBatch.objects.create(athlete=athlete, source="folder", label="fairness", file_count=count)
        rows = [
            Upload(batch=batch, athlete=athlete, original_name=f"{athlete.firstname}-{i}.fit", file=stored,
                   size=22, sha256=f"{athlete.strava_id:08d}{i:056d}", data_type="fit", file_type="activity",
                   status=Upload.Status.QUEUED)
            for i in range(count)
        ]
        Upload.objects.bulk_create(rows, batch_size=500)
        return list(Upload.objects.filter(batch=batch).values_list("pk", flat=True))

    return make


def owners(pks: list[int]) -> list[int]:
    athlete_of = dict(Upload.objects.filter(pk__in=pks).values_list("pk", "athlete_id"))
    return [athlete_of[pk] for pk in pks]


def test_the_small_queue_is_served_in_the_first_window_beside_the_big_one(
    clock, settings, make_athlete, queue, posted
):
    settings.QUOTA_LIMIT_SHORT = 50
    settings.QUOTA_READ_LIMIT_SHORT = 50
    a = make_athlete(strava_id=2001, firstname="A")
    b = make_athlete(strava_id=2002, firstname="B")
    queue(a, 1000)
    b_uploads = queue(b, 5)

    assert services.uploads_dispatch(inline=True) == 50  # one window's worth of permits

    assert set(b_uploads) <= set(posted)
    assert Upload.objects.filter(athlete=b, status="processing").count() == 5
    assert Upload.objects.filter(athlete=a, status="processing").count() == 45  # A had the rest
    assert Upload.objects.filter(athlete=a, status="queued").count() == 955
    # Round-robin: B's files went out among the first ten posts, not after A's.
    assert sorted(owners(posted[:10])) == sorted([a.pk] * 5 + [b.pk] * 5)
    # The window is spent: nothing more goes until it resets.
    assert services.uploads_dispatch(inline=True) == 0
    assert len(posted) == 50


def test_with_fewer_permits_than_athletes_each_is_served_in_turn(clock, settings, make_athlete, queue, posted):
    settings.QUOTA_LIMIT_SHORT = 1  # one permit per window: fewer than the three athletes
    settings.QUOTA_READ_LIMIT_SHORT = 1
    a = make_athlete(strava_id=3001, firstname="A")
    b = make_athlete(strava_id=3002, firstname="B")
    c = make_athlete(strava_id=3003, firstname="C")
    queue(a, 1000)
    queue(b, 5)
    queue(c, 2)

    served = []
    for _ in range(12):
        assert services.uploads_dispatch(inline=True) == 1
        assert services.uploads_dispatch(inline=True) == 0  # one permit per window, and it is spent
        served.append(owners(posted[-1:])[0])
        clock["ts"] += WINDOW

    # Round-robin over whoever still has work: C leaves after two turns, B after five.
    assert served == [a.pk, b.pk, c.pk, a.pk, b.pk, c.pk, a.pk, b.pk, a.pk, b.pk, a.pk, b.pk]
    assert Upload.objects.filter(athlete=b, status="processing").count() == 5  # all of B's by the 12th window, not the 1,000th
    assert Upload.objects.filter(athlete=c, status="processing").count() == 2
    assert Upload.objects.filter(athlete=a, status="processing").count() == 5


def test_the_rotation_lives_in_the_database_so_a_second_dispatcher_continues_it(make_athlete):
    """Two dispatcher processes share no cache: the turn order is the database's, not a process's."""
    from django.core.cache import cache

    from stravasync.strava.fair import fair_pick
    from stravasync.strava.models import FairShareTurn

    athletes = [make_athlete(strava_id=7000 + i, firstname=f"A{i}") for i in range(3)]
    batch = {a.pk: UploadBatch.objects.create(athlete=a, source="folder") for a in athletes}
    Upload.objects.bulk_create([
        Upload(batch=batch[a.pk], athlete=a, original_name=f"{i}.fit", sha256=f"{a.pk:04d}{i:060d}", status="queued")
        for a in athletes for i in range(3)
    ])
    ready = Upload.objects.filter(status="queued")
    served = []
    for _ in range(3):
        cache.clear()  # as if each call came from another process
        (pk,) = fair_pick(ready, 1, key="uploads-db")
        served.append(Upload.objects.get(pk=pk).athlete_id)
    assert sorted(served) == sorted(a.pk for a in athletes)  # each athlete once: the turn moved on
    assert FairShareTurn.objects.get(key="uploads-db").last_athlete_id == served[-1]
