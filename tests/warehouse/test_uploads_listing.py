"""The uploads confirmer lists activities anyway: the warehouse keeps those pages, at no extra call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .conftest import summary_json

pytestmark = pytest.mark.django_db


class ListingClient:
    def __init__(self, athlete_id: int, pages: list[list[dict]]) -> None:
        self.athlete_id = athlete_id
        self.pages = pages
        self.calls = 0

    def list_activities(self, **params) -> list[dict]:
        self.calls += 1
        return self.pages[params["page"] - 1] if params["page"] <= len(self.pages) else []


def test_confirming_uploads_by_listing_stores_every_listed_activity_in_the_warehouse(alice):
    from uploads.models import Upload
    from uploads.services import batch_create
    from uploads.services.confirm import _confirm_by_listing
    from warehouse.models import Activity

    batch = batch_create(athlete=alice, source="folder", label="t")
    start = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    uploads = [Upload.objects.create(batch=batch, athlete=alice, original_name=f"{i}.fit", sha256=str(i),
                                     status=Upload.Status.PROCESSING, strava_upload_id=500 + i,
                                     start_time=start + timedelta(days=i)) for i in range(2)]
    listed = [summary_json(start=start + timedelta(days=i), upload_id=500 + i) for i in range(2)]
    listed.append(summary_json(start=start + timedelta(hours=5), name="an older ride, not ours to confirm"))
    client = ListingClient(alice.pk, [listed])

    _confirm_by_listing(client, uploads)

    assert client.calls == 1
    assert set(Activity.objects.filter(athlete=alice).values_list("strava_id", flat=True)) == {s["id"] for s in listed}
    assert Upload.objects.filter(status=Upload.Status.DONE).count() == 2
