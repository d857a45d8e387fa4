"""Stored files through the storage API only: with a store that is not the local disk, the whole
upload path (ingest, post to Strava, download, report, delete) works and nothing lands under MEDIA_ROOT."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.uploads.conftest import ACTIVITY_FIT, SETTINGS_FIT
from uploads import services
from uploads.models import Upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quick_confirm(settings):
    settings.UPLOADS_CONFIRM_DELAY = 0
    settings.UPLOADS_CONFIRM_FALLBACK = 0
    settings.UPLOADS_CONFIRM_MAX_WAIT = 0


def files_under(folder: str | Path) -> list[Path]:
    return [p for p in Path(folder).rglob("*") if p.is_file()] if Path(folder).exists() else []


def settle(upload: Upload, *, rounds: int = 50) -> Upload:
    """Work the queue (post, confirm) until the upload settles; bounded, never by the clock."""
    for _ in range(rounds):
        services.uploads_dispatch(inline=True)
        services.uploads_confirm()
        upload.refresh_from_db()
        if upload.is_final:
            return upload
    raise AssertionError(f"{upload} did not settle")


def test_a_file_stored_off_disk_is_posted_to_strava_and_downloaded_from_the_store(
    sim_connected_athlete, off_disk_storage, quick_confirm, client, settings
):
    from sandbox.models import SimActivity

    athlete = sim_connected_athlete(firstname="Bucket")
    client.force_login(athlete.user)
    batch = client.post("/uploads/batches/").json()
    with open(ACTIVITY_FIT, "rb") as fh:
        answer = client.post(f"/uploads/batches/{batch['id']}/files/", {"files": [fh]}).json()
    assert [row["status"] for row in answer["files"]] == ["queued"]
    upload = Upload.objects.get(athlete=athlete)
    assert off_disk_storage.exists(upload.file.name)

    upload = settle(upload)

    assert upload.status == "done", upload.reason
    assert SimActivity.objects.filter(pk=upload.activity_id, athlete_id=athlete.strava_id).exists()
    response = client.get(f"/uploads/files/{upload.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == ACTIVITY_FIT.read_bytes()
    assert response["Content-Disposition"].startswith("attachment")


def test_nothing_lands_under_media_root_and_no_spool_is_left_behind(
    sim_connected_athlete, off_disk_storage, quick_confirm, settings, tmp_path
):
    athlete = sim_connected_athlete(firstname="Tidy")
    batch = services.batch_create(athlete=athlete, source="folder", label="off disk")
    for path in (ACTIVITY_FIT, SETTINGS_FIT):
        with open(path, "rb") as stream:
            services.upload_ingest(batch=batch, name=path.name, stream=stream)
    ride = Upload.objects.get(batch=batch, original_name=ACTIVITY_FIT.name)
    settle(ride)
    services.upload_reclassify(upload=Upload.objects.get(batch=batch, original_name=SETTINGS_FIT.name))
    stored = services.batch_report_store(batch=batch)

    assert stored == [f"reports/batch-{batch.pk}.json", f"reports/batch-{batch.pk}.csv"]
    assert ACTIVITY_FIT.name in off_disk_storage.open(stored[1]).read().decode()
    assert files_under(settings.MEDIA_ROOT) == []
    assert files_under(tmp_path / "spool") == []


def test_a_deleted_upload_takes_its_stored_file_along_unless_a_copy_shares_it(off_disk_storage, ingest, alice):
    (first,) = ingest(ACTIVITY_FIT)
    Upload.objects.filter(pk=first.pk).update(status="done", activity_id=1)
    (copy,) = ingest(ACTIVITY_FIT, name="copy.fit")
    name = first.file.name
    assert copy.file.name == name

    assert services.upload_delete(upload=copy)
    assert off_disk_storage.exists(name)  # the first row still needs the bytes
    assert services.upload_delete(upload=Upload.objects.get(pk=first.pk))
    assert not off_disk_storage.exists(name)


def test_a_purged_athlete_leaves_no_stored_file(off_disk_storage, ingest, alice):
    from accounts.services import athlete_purge_or_keep

    (upload,) = ingest(ACTIVITY_FIT)
    name = upload.file.name
    athlete_purge_or_keep(athlete=alice, delete_data=True)
    assert not off_disk_storage.exists(name)


def test_a_file_missing_from_the_store_fails_with_a_reason_and_costs_no_call(off_disk_storage, ingest, alice):
    (upload,) = ingest(ACTIVITY_FIT)
    off_disk_storage.delete(upload.file.name)
    services.uploads_dispatch(inline=True)
    upload.refresh_from_db()
    assert upload.status == "failed" and upload.reason == "the stored file is missing"
    assert upload.api_calls == 0
