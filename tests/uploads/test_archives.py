"""Expanding uploaded zips: nested exports, hostile names, bombs and damage, entry by entry.

The archives come from tests/data/make_broken.py; their members are real files from tests/data.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from activityfiles import classify_bytes
from uploads.archives import ArchiveLimits, iter_zip_members

DATA = Path(__file__).resolve().parents[1] / "data"
BROKEN = DATA / "broken"

ACTIVITY = DATA / "GoldenCheetah_GoldenCheetah__test_aerolab_helmet_testing_2018-10-03-08-36-06.fit"
TINY_ACTIVITY = DATA / "muktihari_fit__testdata_valid_only_contain_fileid.fit"
UPLOADED = "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip"


@dataclass
class Seen:
    """A member as the consumer saw it (its spool is gone once the next one is asked for)."""

    name: str
    data: bytes | None
    refusal: str | None


def walk(source: Any, **options: Any) -> list[Seen]:
    return [Seen(m.name, m.read() if m.spool else None, m.refusal) for m in iter_zip_members(source, **options)]


def members(path: Path, **limits: int | float) -> dict[str, Seen]:
    return {seen.name: seen for seen in walk(path, limits=ArchiveLimits(**limits))}


def zip_of(*entries: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_garmin_export_expands_its_nested_zip_of_uploaded_files() -> None:
    found = members(BROKEN / "garmin_export.zip")

    fits = {name: member for name, member in found.items() if name.endswith(".fit")}
    assert sorted(fits) == [
        f"{UPLOADED}/athlete@example.com_100001.fit",
        f"{UPLOADED}/athlete@example.com_100002.fit",
        f"{UPLOADED}/athlete@example.com_100003_sleep.fit",
    ]
    assert fits[f"{UPLOADED}/athlete@example.com_100001.fit"].data == ACTIVITY.read_bytes()
    verdicts = [classify_bytes(member.data or b"").reason for member in fits.values()]
    assert verdicts == ["", "junk: monitoring_b file", "junk: 49 file"]
    assert all(seen.refusal is None for seen in found.values())


def test_directories_and_macos_resource_forks_are_skipped() -> None:
    names = set(members(BROKEN / "garmin_export.zip"))
    assert not any(name.endswith("/") or "__MACOSX" in name or "/._" in name for name in names)
    assert "DI_CONNECT/DI-Connect-Fitness/athlete@example.com_0_summarizedActivities.json" in names
    assert UPLOADED not in names  # expanded, not passed on


def test_the_prefix_names_the_outer_archive() -> None:
    names = [member.name for member in walk(BROKEN / "garmin_export.zip", prefix="export.zip/")]
    assert f"export.zip/{UPLOADED}/athlete@example.com_100001.fit" in names


def test_paths_that_escape_the_archive_are_refused_and_the_good_entry_survives() -> None:
    found = members(BROKEN / "evil_paths.zip")

    assert found["../evil.fit"].refusal == "refused: path escapes the archive (../evil.fit)"
    assert found["/abs/evil.fit"].refusal == "refused: absolute path (/abs/evil.fit)"
    assert found["C:/evil.fit"].refusal == "refused: drive letter in path (C:/evil.fit)"
    assert found["D:evil.fit"].refusal == "refused: drive letter in path (D:evil.fit)"
    assert found["sub/../../evil.fit"].refusal == "refused: path escapes the archive (sub/../../evil.fit)"
    refused = [member for member in walk(BROKEN / "evil_paths.zip") if member.refusal]
    assert len(refused) == 6  # the backslash spelling too
    assert all(member.data is None for member in refused)
    assert found["good.fit"].data == TINY_ACTIVITY.read_bytes()


def test_a_zip_bomb_entry_is_refused_and_its_neighbours_are_kept() -> None:
    found = members(BROKEN / "zip_bomb.zip")

    assert found["bomb.fit"].data is None
    assert (found["bomb.fit"].refusal or "").startswith("refused: compression ratio 1026:1 exceeds 200:1")
    assert found["first.fit"].data == found["after.fit"].data == TINY_ACTIVITY.read_bytes()


def test_the_total_size_limit_counts_the_bytes_actually_read_and_refuses_the_rest_in_one_member() -> None:
    found = walk(BROKEN / "zip_bomb.zip", prefix="bomb.zip/", limits=ArchiveLimits(max_ratio=1e9, max_total_bytes=1024**2))

    assert [(seen.name, seen.refusal) for seen in found] == [
        ("bomb.zip/first.fit", None),
        ("bomb.zip/bomb.fit", "refused: archive expands beyond 1048576 bytes in total; the rest of bomb.zip was not read"),
    ]  # after.fit is never read: the tree's budget is spent


def claim_size(archive: bytes, name: bytes, size: int) -> bytes:
    """The archive with `name`'s uncompressed size rewritten in its local header and central directory."""
    data = bytearray(archive)
    for signature, size_at, name_length_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = data.find(signature)
        while at != -1:
            length = int.from_bytes(data[at + name_length_at : at + name_length_at + 2], "little")
            if data[at + name_at : at + name_at + length] == name:
                data[at + size_at : at + size_at + 4] = size.to_bytes(4, "little")
            at = data.find(signature, at + 4)
    return bytes(data)


def test_header_sizes_are_not_trusted() -> None:
    archive = (BROKEN / "zip_bomb.zip").read_bytes()
    archive = claim_size(claim_size(archive, b"bomb.fit", 100), b"first.fit", 4_000_000_000)
    found = {member.name: member for member in walk(io.BytesIO(archive))}

    assert found["bomb.fit"].data is None  # claims 100 bytes: neither trusted nor read to its real 32 MiB
    assert found["first.fit"].data == TINY_ACTIVITY.read_bytes()  # claims 4 GB: read for what it is
    assert found["after.fit"].data == TINY_ACTIVITY.read_bytes()


def test_too_many_entries_refuse_the_archive_as_a_whole() -> None:
    found = list(walk(BROKEN / "too_many_entries.zip", limits=ArchiveLimits(max_entries=100)))
    assert [(member.data, member.refusal) for member in found] == [
        (None, "refused: 150 entries exceed the limit of 100 per archive tree")
    ]
    assert len(list(walk(BROKEN / "too_many_entries.zip"))) == 150


def test_the_entry_limit_covers_nested_archives_too() -> None:
    found = members(BROKEN / "garmin_export.zip", max_entries=8)  # 7 outer entries + 3 inner ones
    assert found[UPLOADED].refusal == "refused: 3 entries exceed the limit of 8 per archive tree"


def test_nesting_deeper_than_max_depth_is_refused_but_shallower_levels_expand() -> None:
    found = members(BROKEN / "deep_nested.zip")

    assert sorted(name for name, member in found.items() if member.data) == [
        "level0_sibling.fit",
        "level1.zip/level1_sibling.fit",
        "level1.zip/level2.zip/level2_sibling.fit",
        "level1.zip/level2.zip/level3.zip/level3_sibling.fit",
    ]
    deepest = found["level1.zip/level2.zip/level3.zip/level4.zip"]
    assert deepest.refusal == "refused: nested zip deeper than 3 levels"
    assert len(members(BROKEN / "deep_nested.zip", max_depth=0)) == 2  # the sibling, and level1.zip refused


def test_nested_zips_are_found_by_content_not_name() -> None:
    archive = zip_of(
        ("export.bin", zip_of(("inner.fit", TINY_ACTIVITY.read_bytes()))),
        ("fake.zip", b"just text, whatever the name says"),
    )
    found = {member.name: member for member in walk(io.BytesIO(archive))}
    assert set(found) == {"export.bin/inner.fit", "fake.zip"}
    assert found["fake.zip"].data == b"just text, whatever the name says"


def test_gzip_members_are_passed_on_compressed() -> None:
    gz = (BROKEN / "activity.fit.gz").read_bytes()
    found = list(walk(io.BytesIO(zip_of(("activities/1.fit.gz", gz)))))
    assert [(member.name, member.data) for member in found] == [("activities/1.fit.gz", gz)]


def test_a_corrupt_zip_yields_one_refusal() -> None:
    found = list(walk(BROKEN / "truncated.zip", prefix="upload.zip/"))
    assert len(found) == 1
    assert found[0].name == "upload.zip"
    assert found[0].data is None
    assert found[0].refusal == "unreadable: not a readable zip archive (File is not a zip file)"


def test_a_corrupt_nested_zip_is_refused_under_its_own_name() -> None:
    broken_inner = (BROKEN / "truncated.zip").read_bytes()
    archive = zip_of(("a.fit", TINY_ACTIVITY.read_bytes()), ("inner.zip", broken_inner))
    found = {member.name: member for member in walk(io.BytesIO(archive))}
    assert found["inner.zip"].refusal == "unreadable: not a readable zip archive (File is not a zip file)"
    assert found["a.fit"].data == TINY_ACTIVITY.read_bytes()


def test_a_member_with_a_bad_crc_is_refused_and_the_others_continue() -> None:
    found = members(BROKEN / "bad_member_crc.zip")

    assert found["damaged.fit"].data is None
    assert found["damaged.fit"].refusal == "unreadable: BadZipFile: Bad CRC-32 for file 'damaged.fit'"
    assert found["intact.fit"].data == TINY_ACTIVITY.read_bytes()


def test_a_missing_archive_is_a_refusal_not_an_exception(tmp_path: Path) -> None:
    found = list(walk(tmp_path / "gone.zip"))
    assert len(found) == 1
    assert (found[0].refusal or "").startswith("unreadable: not a readable zip archive")
