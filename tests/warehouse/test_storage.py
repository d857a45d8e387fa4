"""The export import through the storage API: the page stores the zip, the task reads it from the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_export_uploaded_with_files_off_disk_is_imported_and_removed_from_the_store(
    client, alice, export_zip, off_disk_storage, settings, django_capture_on_commit_callbacks
):
    from warehouse.models import Activity, SyncRun

    client.force_login(alice.user)
    with open(export_zip(), "rb") as fh, django_capture_on_commit_callbacks(execute=True) as queued:
        response = client.post(reverse("warehouse:import"), {"archive": fh})
    assert len(queued) == 1  # the import task, queued once the request's transaction committed

    assert response.status_code == 302
    assert Activity.objects.filter(athlete=alice).count() == 84  # tasks run inline in tests
    run = SyncRun.objects.get(kind="import", athlete=alice)
    assert run.trigger == "web" and run.created == 84 and not run.error
    assert off_disk_storage.listdir(f"imports/{alice.pk}")[1] == []
    assert not Path(settings.MEDIA_ROOT).exists() or not any(Path(settings.MEDIA_ROOT).rglob("*.zip"))


def test_an_import_task_whose_stored_export_is_gone_reports_it(alice, off_disk_storage):
    from warehouse.tasks import import_export

    assert import_export(alice.pk, f"imports/{alice.pk}/gone.zip") == {
        "error": f"the stored export imports/{alice.pk}/gone.zip is missing"
    }


def test_an_import_task_queued_with_a_local_path_by_an_older_version_fails_cleanly(alice, tmp_path):
    from warehouse.tasks import import_export

    answer = import_export(alice.pk, str(tmp_path / "old.zip"))
    assert answer["error"].endswith("is missing")
