"""Nothing a user sends can hurt the server: members stream within their limits, refusals are one
row and no bytes, ingest is linear and has a deadline, and leftover spools are cleaned (issue 12)."""

from __future__ import annotations

import io
import os
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.uploads.conftest import ACTIVITY_FIT
from uploads.archives import ArchiveLimits, iter_zip_members
from uploads.models import Upload, UploadEvent
from uploads.spool import PREFIX, Spool, spool_clean

MIB = 1024 * 1024
TINY = Path(__file__).resolve().parents[1] / "data" / "muktihari_fit__testdata_valid_only_contain_fileid.fit"


def zip_bytes(*entries: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_of_zeros(path: Path, mib: int) -> Path:
    """One member of `mib` MiB of zeros, written in chunks (never whole in memory here either)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("zeros.fit", "w") as member:
        for _ in range(mib):
            member.write(bytes(MIB))
    return path


def noise(n: int) -> bytes:
    """Incompressible, deterministic bytes."""
    import hashlib

    blocks = (hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(n // 32 + 1))
    return b"".join(blocks)[:n]


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_a_member_larger_than_the_limit_is_refused_while_streaming_in_little_memory(tmp_path: Path) -> None:
    path = zip_of_zeros(tmp_path / "big.zip", 48)
    limits = ArchiveLimits(max_member_bytes=4 * MIB, max_ratio=1e9)

    tracemalloc.start()
    try:
        found = [(member.name, member.refusal) for member in iter_zip_members(path, limits=limits, spool_dir=str(tmp_path))]
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert found == [("zeros.fit", f"refused: larger than {4 * MIB} bytes")]
    assert peak < 6 * MIB  # a chunk or two, far below the member's 48 MiB
    assert [p for p in tmp_path.iterdir() if p.name.startswith(PREFIX)] == []


def test_a_bomb_in_an_upload_is_refused_with_bounded_memory_and_nothing_is_stored(ingest, tmp_path, settings) -> None:
    settings.UPLOADS_MAX_FILE_BYTES = 2 * MIB
    path = zip_of_zeros(tmp_path / "bomb.zip", 64)

    tracemalloc.start()
    try:
        (upload,) = ingest(path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert upload.status == "failed" and upload.original_name == "bomb.zip/zeros.fit"
    assert upload.reason == f"refused: larger than {2 * MIB} bytes"
    assert not upload.file
    assert peak < 8 * MIB
    assert files_under(Path(settings.MEDIA_ROOT)) == []


def test_a_file_refused_as_too_large_is_never_written_to_storage(ingest, tmp_path, settings) -> None:
    settings.UPLOADS_MAX_FILE_BYTES = 64 * 1024
    path = tmp_path / "huge.fit"
    path.write_bytes(ACTIVITY_FIT.read_bytes() + noise(128 * 1024))
    (upload,) = ingest(path)

    assert upload.status == "failed" and upload.reason == f"refused: larger than {64 * 1024} bytes"
    assert not upload.file and upload.size > 64 * 1024
    assert files_under(Path(settings.MEDIA_ROOT)) == []


def test_a_refused_member_leaves_no_bytes_but_its_accepted_neighbours_are_stored(ingest, tmp_path, settings) -> None:
    settings.UPLOADS_MAX_FILE_BYTES = MIB  # the ride is 0.7 MiB
    path = tmp_path / "mixed.zip"
    path.write_bytes(zip_bytes(("big.fit", noise(2 * MIB)), ("ride.fit", ACTIVITY_FIT.read_bytes())))
    rows = {upload.display_name: upload for upload in ingest(path)}

    assert rows["big.fit"].status == "failed" and "larger than" in rows["big.fit"].reason
    assert rows["ride.fit"].status == "queued"
    assert [p.name for p in files_under(Path(settings.MEDIA_ROOT))] == [Path(rows["ride.fit"].file.name).name]


def test_bytes_are_counted_across_the_whole_nesting_tree(tmp_path: Path) -> None:
    inner = zip_bytes(*((f"part{i}.fit", noise(300 * 1024)) for i in range(4)))
    path = tmp_path / "outer.zip"
    path.write_bytes(zip_bytes(("a.fit", noise(300 * 1024)), ("inner.zip", inner), ("z.fit", TINY.read_bytes())))

    found = [(m.name, m.refusal) for m in iter_zip_members(path, prefix="outer.zip/",
                                                          limits=ArchiveLimits(max_total_bytes=2 * MIB))]

    # a.fit (0.3) + inner.zip itself (1.2) + part0 (0.3) fit in 2 MiB; part1 does not.
    assert found == [
        ("outer.zip/a.fit", None),
        ("outer.zip/inner.zip/part0.fit", None),
        ("outer.zip/inner.zip/part1.fit",
         f"refused: archive expands beyond {2 * MIB} bytes in total; the rest of outer.zip was not read"),
    ]


def test_entries_are_counted_across_the_whole_nesting_tree() -> None:
    inner = zip_bytes(*((f"{i}.fit", b"x") for i in range(6)))
    outer = zip_bytes(("one.fit", b"x"), ("inner.zip", inner), ("two.fit", b"x"))
    found = [(m.name, m.refusal) for m in iter_zip_members(io.BytesIO(outer), limits=ArchiveLimits(max_entries=8))]
    assert found == [
        ("one.fit", None),
        ("inner.zip", "refused: 6 entries exceed the limit of 8 per archive tree"),
        ("two.fit", None),
    ]


def nested_42(levels: int, fan_out: int) -> bytes:
    data = zip_bytes(*((f"{i}.fit", bytes(1024)) for i in range(fan_out)))
    for level in range(levels, 0, -1):
        data = zip_bytes(*((f"l{level}-{i}.zip", data) for i in range(fan_out)))
    return data


def test_a_42_zip_style_tree_is_refused_in_a_couple_of_rows(ingest, tmp_path) -> None:
    path = tmp_path / "42.zip"
    path.write_bytes(nested_42(levels=6, fan_out=6))  # 6**6 zips at the bottom: ~47,000 entries

    rows = ingest(path)

    assert [(u.original_name, u.status, u.reason) for u in rows] == [
        ("42.zip/l1-0.zip/l2-0.zip/l3-0.zip/l4-0.zip", "failed", "refused: nested zip deeper than 3 levels"),
        ("42.zip", "failed", "refused: 20 more nested zip(s) not expanded (this archive nests zips deeper than 3 levels)"),
    ]


def test_past_the_deadline_the_rest_of_an_archive_is_refused_in_one_row(batch, tmp_path) -> None:
    from uploads.services import upload_ingest

    archive = zip_bytes(*((f"ride{i}.fit", TINY.read_bytes() + bytes([i])) for i in range(5)))
    rows = upload_ingest(batch=batch, name="late.zip", stream=io.BytesIO(archive), deadline=time.monotonic() - 1)

    assert [(u.original_name, u.reason) for u in rows] == [
        ("late.zip", "refused: the time allowed for one upload ran out; the rest of late.zip was not read"),
    ]


def queries_to_ingest(batch, entries: int) -> int:
    from uploads.services import upload_ingest

    archive = zip_bytes(*((f"r{entries}-{i}.fit", noise(64 + i % 7) + i.to_bytes(4, "little")) for i in range(entries)))
    with CaptureQueriesContext(connection) as queries:
        upload_ingest(batch=batch, name=f"{entries}.zip", stream=io.BytesIO(archive))
    assert Upload.objects.filter(original_name__startswith=f"{entries}.zip/").count() == entries
    return len(queries)


@pytest.mark.django_db(transaction=True)
def test_ingest_spends_no_query_per_entry_and_counts_the_batch_once(batch) -> None:
    small, large = queries_to_ingest(batch, 20), queries_to_ingest(batch, 180)
    assert large - small <= (180 - 20) // 20  # rows go in by the batch (SQLite caps a statement's parameters)
    batch.refresh_from_db()
    assert batch.file_count == 200 and batch.counts == {"failed": 200}


def test_every_row_records_both_steps_of_its_history(ingest, tmp_path) -> None:
    path = tmp_path / "two.zip"
    path.write_bytes(zip_bytes(("ride.fit", ACTIVITY_FIT.read_bytes()), ("bad.fit", b"nope")))
    rows = ingest(path)
    for upload in rows:
        steps = list(UploadEvent.objects.filter(upload=upload).values_list("from_status", "to_status"))
        assert steps == [("", "received"), ("received", upload.status)]


def test_spools_no_live_request_holds_are_cleaned_and_held_ones_kept(tmp_path: Path) -> None:
    stale = tmp_path / f"{PREFIX}killed-request"
    stale.write_bytes(b"left behind")
    fresh = tmp_path / f"{PREFIX}just-made"
    fresh.write_bytes(b"being made")
    other = tmp_path / "someone-elses-file"
    other.write_bytes(b"not ours")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    with Spool(tmp_path) as held:
        held.fill(io.BytesIO(b"in use"), cap=100)
        held_path = held.path
        os.utime(held_path, (old, old))

        assert spool_clean(tmp_path, min_age=60) == 1

        assert not stale.exists()
        assert fresh.exists() and other.exists() and held_path.exists()
    assert not held_path.exists()


def test_the_clean_spools_command_reports_what_it_removed(settings, tmp_path: Path) -> None:
    from django.core.management import call_command

    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    stale = tmp_path / f"{PREFIX}killed"
    stale.write_bytes(b"x")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    out = io.StringIO()
    call_command("clean_spools", stdout=out)
    assert not stale.exists()
    assert out.getvalue().strip() == "removed 1 spool file(s) that no live request held"
