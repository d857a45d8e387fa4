"""'Disconnect and delete my data' deletes the athlete's stored files too, and nobody else's (Strava's agreement)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from tests.uploads.conftest import ACTIVITY_FIT, GPX, OTHER_ACTIVITY_FIT, SETTINGS_FIT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_strava(monkeypatch):
    from accounts import services

    monkeypatch.setattr(services.strava, "deauthorize", lambda token: None)


def stored_files() -> set[str]:
    from stravasync.storage import storage_files

    return {name for folder in ("uploads", "imports", "reports") for name in storage_files(default_storage, folder)}


def give_files(athlete) -> set[str]:
    """Everything an athlete can leave in the storage: uploads (kept, failed, junk), a report, a waiting export zip."""
    from uploads.services import batch_create, batch_report_store, upload_ingest

    batch = batch_create(athlete=athlete, source="web", label="files")
    for path in (ACTIVITY_FIT, OTHER_ACTIVITY_FIT, GPX, SETTINGS_FIT):
        with open(path, "rb") as stream:
            upload_ingest(batch=batch, name=path.name, stream=stream)
    reports = batch_report_store(batch=batch)
    waiting = default_storage.save(f"imports/{athlete.pk}/20260101-abcdef12.zip", ContentFile(b"PK\x05\x06" + b"\0" * 18))
    stray = default_storage.save(f"uploads/{athlete.pk}/ff/stray.fit", ContentFile(b"bytes no row points at"))
    names = {*reports, waiting, stray} | {n for n in stored_files() if n.startswith(f"uploads/{athlete.pk}/")}
    return names


@pytest.mark.parametrize("storage", ["disk", "bucket"])
def test_disconnect_and_delete_leaves_no_file_of_the_athlete_and_every_file_of_the_others(
    storage, request, client, alice, bob, django_capture_on_commit_callbacks
):
    if storage == "bucket":
        request.getfixturevalue("off_disk_storage")
    alices, bobs = give_files(alice), give_files(bob)
    assert len(alices) >= 6 and alices <= stored_files() and bobs <= stored_files()

    client.force_login(alice.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("disconnect"), {"data": "delete"})

    assert response.status_code == 302
    left = stored_files()
    assert left & alices == set()  # counted: none of hers remains
    assert left == bobs  # and every one of bob's is there


def test_disconnect_keeping_data_keeps_the_files(client, alice, django_capture_on_commit_callbacks):
    files = give_files(alice)
    client.force_login(alice.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("disconnect"), {"data": "keep"})
    assert files <= stored_files()


def test_a_purge_rolled_back_keeps_the_files(alice):
    from django.db import transaction

    from accounts.services import athlete_purge_or_keep

    files = give_files(alice)
    with pytest.raises(RuntimeError), transaction.atomic():
        athlete_purge_or_keep(athlete=alice, delete_data=True)
        raise RuntimeError("the request failed after the purge")
    assert files <= stored_files()


@pytest.mark.parametrize("method", ["get", "post"])
def test_social_auth_s_own_disconnect_route_is_gone(client, alice, method):
    from accounts.models import Athlete

    client.force_login(alice.user)
    response = getattr(client, method)("/disconnect/strava/")

    assert response.status_code == 404
    assert Athlete.objects.filter(pk=alice.pk, disconnected_at__isnull=True).exists()
    assert client.post(reverse("social:begin", args=["strava"])).status_code == 302  # login still mounted
