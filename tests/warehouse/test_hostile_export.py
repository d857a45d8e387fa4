"""A hostile Strava export is refused while it is read, with a reason on the import page; memory stays bounded."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from .conftest import EXPORT_ZIP, export_csv

pytestmark = pytest.mark.django_db

HEADER = export_csv().split(b"\n", 1)[0] + b"\n"


def zip_with(tmp_path, members: dict[str, bytes], name: str = "hostile.zip", compression: int = zipfile.ZIP_DEFLATED):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", compression) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def import_refused(alice, path, match: str):
    from warehouse.models import Activity, SyncRun
    from warehouse.services import strava_export_import
    from warehouse.strava_export import ExportError

    started = time.monotonic()
    with pytest.raises(ExportError, match=match) as caught:
        strava_export_import(athlete_id=alice.pk, path=path)
    assert time.monotonic() - started < 5
    run = SyncRun.objects.get(kind="import", athlete=alice)
    assert run.finished_at is not None and run.error == str(caught.value)
    assert not Activity.objects.filter(athlete=alice).exists()
    return run


def test_a_csv_that_expands_past_its_limit_is_refused_before_it_is_read(alice, tmp_path, settings):
    settings.WAREHOUSE_EXPORT_CSV_MAX_BYTES = 2 * 1024 * 1024
    path = zip_with(tmp_path, {"activities.csv": HEADER + b"\x00" * (3 * 1024 * 1024)})

    import_refused(alice, path, r"activities.csv expands to 3.0 MiB, more than the 2.0 MiB allowed")


def test_a_csv_that_is_a_compression_bomb_is_refused_for_its_ratio(alice, tmp_path):
    path = zip_with(tmp_path, {"activities.csv": HEADER + b"\x00" * (8 * 1024 * 1024)})

    import_refused(alice, path, r"refused as a compression bomb")


def test_nul_bytes_in_the_csv_are_refused_as_binary(alice, tmp_path):
    path = zip_with(tmp_path, {"activities.csv": HEADER + b"\x00" * 200_000})

    import_refused(alice, path, r"line 2 holds NUL bytes: binary content")


def test_binary_content_without_nul_is_refused(alice, tmp_path):
    junk = bytes(c for c in range(1, 32) if c not in (9, 10, 13)) * 200  # control characters, no NUL, no newline
    path = zip_with(tmp_path, {"activities.csv": HEADER + junk})

    import_refused(alice, path, r"line 2 is binary content")


def test_an_endless_line_is_refused_without_being_held(alice, tmp_path):
    path = zip_with(tmp_path, {"activities.csv": HEADER + b"a" * (1024 * 1024 + 10)}, compression=zipfile.ZIP_STORED)

    import_refused(alice, path, r"line 2 is longer than 1,048,576 characters")


def test_a_field_past_the_csv_field_limit_is_a_reason_not_a_crash(alice, tmp_path):
    path = zip_with(tmp_path, {"activities.csv": HEADER + b'1,"' + b"x\n" * 100_000 + b'"\n'})

    run = import_refused(alice, path, r"field larger than field limit")
    assert "not Strava's CSV" in run.error


def test_the_whole_import_reads_no_more_than_its_budget(alice, tmp_path, settings):
    rows = export_csv()
    settings.UPLOADS_ARCHIVE_MAX_BYTES = len(rows) // 2

    import_refused(alice, zip_with(tmp_path, {"activities.csv": rows}), r"expands to more than .* in total")


def test_an_activity_file_past_its_limit_is_skipped_and_reported_and_the_rest_imported(alice, settings):
    from warehouse.models import Activity, SyncRun
    from warehouse.services import strava_export_import

    with zipfile.ZipFile(EXPORT_ZIP) as archive:
        sizes = {i.filename: i.file_size for i in archive.infolist() if i.filename.startswith("activities/")}
    biggest = max(sizes, key=lambda name: sizes[name])
    settings.WAREHOUSE_EXPORT_FILE_MAX_BYTES = sizes[biggest] - 1

    result = strava_export_import(athlete_id=alice.pk, path=EXPORT_ZIP)

    assert result.created == 84
    assert len(result.files_refused) == 1 and result.files_refused[0].startswith(f"{biggest} expands to")
    assert result.files_refused[0].endswith("its route is not read")
    assert Activity.objects.get(athlete=alice, export_file=biggest).summary_polyline == ""
    run = SyncRun.objects.get(kind="import")
    assert run.error == "" and run.notes["files_refused"] == result.files_refused


def test_a_refused_export_s_reason_is_on_the_import_page(client, alice, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(alice.user)
    with io.BytesIO() as buffer:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("activities.csv", HEADER + b"\x00" * 100_000)
        upload = ContentFile(buffer.getvalue(), name="export_1.zip")
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("warehouse:import"), {"archive": upload})

    page = client.get(reverse("warehouse:import")).content.decode()

    assert "holds NUL bytes: binary content, not Strava&#x27;s CSV" in page
    assert "running…" not in page and "not imported" in page
    assert default_storage.listdir(f"imports/{alice.pk}")[1] == []


def test_an_unexpected_error_in_the_import_task_finishes_its_run_with_the_error(
    client, alice, export_zip, monkeypatch
):
    from warehouse.models import SyncRun
    from warehouse.services import export_import
    from warehouse.tasks import import_export

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(export_import, "_import_chunk", broken)
    name = default_storage.save(f"imports/{alice.pk}/export.zip", ContentFile(export_zip().read_bytes()))

    with pytest.raises(RuntimeError, match="disk on fire"):  # raised again: django-q2 records the failure
        import_export(alice.pk, name)

    run = SyncRun.objects.get(kind="import", athlete=alice)
    assert run.finished_at is not None and run.error == "RuntimeError: disk on fire"
    assert not default_storage.exists(name)
    client.force_login(alice.user)
    page = client.get(reverse("warehouse:import")).content.decode()
    assert "RuntimeError: disk on fire" in page and "running…" not in page


def test_a_damaged_or_encrypted_csv_is_refused_with_a_reason_not_a_crash(alice, tmp_path):
    path = zip_with(tmp_path, {"activities.csv": export_csv()})
    data = bytearray(path.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 64] = bytes(64)  # the deflate stream, damaged
    path.write_bytes(bytes(data))
    run = import_refused(alice, path, r".")
    assert run.error.startswith(("not a zip file", "the zip cannot be read")), run.error

    from warehouse.models import SyncRun

    SyncRun.objects.all().delete()
    encrypted = zip_with(tmp_path, {"activities.csv": HEADER}, name="encrypted.zip")
    data = bytearray(encrypted.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set the "encrypted" flag bit in both headers
        at = data.find(signature)
        data[at + offset] |= 0x1
    encrypted.write_bytes(bytes(data))
    import_refused(alice, encrypted, r"activities.csv is encrypted")
