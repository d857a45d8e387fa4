"""'Keep here only': files fill the warehouse and settle as kept here, with no call and nothing sent."""

from __future__ import annotations

from io import StringIO

import pytest
import responses
from django.core.management import call_command
from django.urls import reverse

from tests.uploads.conftest import GPX, SETTINGS_FIT
from uploads.models import Upload
from warehouse.models import Activity

pytestmark = pytest.mark.django_db


@responses.activate(assert_all_requests_are_fired=False)
def test_upload_folder_local_only_reads_the_files_into_the_warehouse_and_calls_nothing(alice, copy_to, mocked_strava):
    folder = copy_to(GPX, SETTINGS_FIT)
    out = StringIO()

    call_command("upload_folder", str(folder), "--athlete", str(alice.strava_id), "--local-only", stdout=out)

    assert dict(Upload.objects.values_list("original_name", "status")) == {GPX.name: "local", SETTINGS_FIT.name: "junk"}
    assert len(responses.calls) == 0
    row = Activity.objects.get(athlete=alice)
    assert row.strava_id is None and row.upload_pk == Upload.objects.get(status="local").pk
    assert (folder / "_kept" / GPX.name).exists() and (folder / "_junk" / SETTINGS_FIT.name).exists()
    assert "1 activity files read" in out.getvalue()


def test_the_upload_page_offers_keep_here_only_and_the_batch_remembers_it(client, alice):
    client.force_login(alice.user)
    assert 'value="no"' in client.get(reverse("uploads:new")).content.decode()
    answer = client.post(reverse("uploads:batch-create"), {"send": "no"})
    assert answer.status_code == 201
    batch = alice.upload_batches.get(pk=answer.json()["id"])
    assert batch.local_only
    assert not alice.upload_batches.get(pk=client.post(reverse("uploads:batch-create")).json()["id"]).local_only


def test_a_file_activity_has_its_own_page_until_strava_has_it(client, alice, ingest, batch):
    from uploads.services import uploads_warehouse_dispatch
    from warehouse.services.files import activity_file_on_strava

    client.force_login(alice.user)
    [upload] = ingest(GPX)
    uploads_warehouse_dispatch(inline=True)
    row = Activity.objects.get(athlete=alice)
    listing = client.get(reverse("warehouse:list")).content.decode()
    assert row.get_absolute_url() in listing
    page = client.get(row.get_absolute_url())
    assert page.status_code == 200 and 'id="from-file"' in page.content.decode()

    activity_file_on_strava(athlete_id=alice.pk, upload_pk=upload.pk, strava_id=9_100_000_001)
    moved = client.get(reverse("warehouse:file-activity", args=[row.pk]))
    assert moved.status_code == 302 and moved["Location"] == reverse("warehouse:activity", args=[9_100_000_001])
