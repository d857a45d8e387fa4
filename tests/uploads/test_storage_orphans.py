"""storage_orphans: stored files that no row references are listed, and with --delete removed; the rest stay."""

from __future__ import annotations

import os
import time
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from .conftest import ACTIVITY_FIT

pytestmark = pytest.mark.django_db


def aged(name: str, *, hours: float) -> str:
    path = default_storage.path(name)
    then = time.time() - hours * 3600
    os.utime(path, (then, then))
    return name


@pytest.fixture
def files(alice, bob, ingest, batch):
    from stravasync.storage import storage_files
    from uploads.services import batch_report_store

    (kept,) = ingest(ACTIVITY_FIT)
    assert kept.file.name
    reports = batch_report_store(batch=batch)
    live = {
        aged(kept.file.name, hours=48),
        *(aged(name, hours=48) for name in reports),
        default_storage.save(f"imports/{alice.pk}/fresh.zip", ContentFile(b"zip")),  # its task is on its way
    }
    orphans = {
        aged(default_storage.save(f"uploads/{alice.pk}/aa/crashed.fit", ContentFile(b"x")), hours=2),
        aged(default_storage.save("reports/batch-99999.json", ContentFile(b"{}")), hours=2),
        aged(default_storage.save(f"imports/{bob.pk}/stale.zip", ContentFile(b"zip")), hours=25),
        default_storage.save("imports/424242/of-someone-gone.zip", ContentFile(b"zip")),
    }
    young = {default_storage.save(f"uploads/{alice.pk}/bb/being-ingested.fit", ContentFile(b"x"))}
    everything = {n for f in ("uploads", "imports", "reports") for n in storage_files(default_storage, f)}
    assert everything == live | orphans | young
    return live, orphans, young


def stored() -> set[str]:
    from stravasync.storage import storage_files

    return {n for f in ("uploads", "imports", "reports") for n in storage_files(default_storage, f)}


def test_orphans_are_listed_and_nothing_is_deleted_without_asking(files):
    live, orphans, young = files
    out = StringIO()
    call_command("storage_orphans", stdout=out)

    listed = {line.split()[1] for line in out.getvalue().splitlines() if line.startswith("orphan")}
    assert listed == orphans
    assert "4 orphaned file(s) found" in out.getvalue() and "its athlete is gone" in out.getvalue()
    assert stored() == live | orphans | young


def test_delete_removes_only_the_orphans(files):
    live, orphans, young = files
    out = StringIO()
    call_command("storage_orphans", "--delete", stdout=out)

    assert stored() == live | young
    assert "4 orphaned file(s) deleted" in out.getvalue()
