"""File names never sink a request: unusable ones become rows with a reason, long ones are
shortened for the row with the full name kept, and tar archives are named as such (issue 12)."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from tests.uploads.conftest import ACTIVITY_FIT, SETTINGS_FIT
from uploads.models import Upload, UploadEvent

pytestmark = pytest.mark.django_db

BOUNDARY = b"namesboundary"


def multipart(*parts: tuple[bytes, bytes]) -> bytes:
    """A multipart body as a hostile client may send it: raw file names, no escaping."""
    body = b""
    for name, data in parts:
        body += (b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="files"; filename="' + name
                 + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + data + b"\r\n")
    return body + b"--" + BOUNDARY + b"--\r\n"


@pytest.fixture
def post_files(client, alice):
    client.force_login(alice.user)

    def post(*parts: tuple[bytes, bytes]):
        batch = client.post("/uploads/batches/").json()
        return client.generic("POST", f"/uploads/batches/{batch['id']}/files/", multipart(*parts),
                              content_type=f"multipart/form-data; boundary={BOUNDARY.decode()}")

    return post


def test_a_5000_character_name_is_shortened_for_the_row_and_kept_whole_in_its_history(post_files):
    name = "a" * 4996 + ".fit"
    response = post_files((name.encode(), ACTIVITY_FIT.read_bytes()), (b"ok.fit", SETTINGS_FIT.read_bytes()))

    assert response.status_code == 200
    rows = response.json()["files"]
    assert [row["status"] for row in rows] == ["queued", "junk"]
    upload = Upload.objects.get(status="queued")
    assert len(upload.original_name) == 1000 and "…" in upload.original_name
    assert upload.original_name.endswith("a.fit")
    received = UploadEvent.objects.get(upload=upload, to_status="received")
    assert received.reason == f"full name: {name}"


@pytest.mark.parametrize(("name", "reason"), [
    (b"..", "refused: no usable file name ('..')"),
    (b"\x00", "refused: the file name contains a NUL byte ('\\x00')"),
    (b"ride\x00.exe.fit", "refused: the file name contains a NUL byte ('ride\\x00.exe.fit')"),
    (b"../..", "refused: no usable file name ('../..')"),
])
def test_unusable_names_get_a_row_with_a_reason_and_the_other_files_go_on(post_files, name, reason):
    response = post_files((name, ACTIVITY_FIT.read_bytes()), (b"settings.fit", SETTINGS_FIT.read_bytes()))

    assert response.status_code == 200
    rows = response.json()["files"]
    assert [(row["status"], row["reason"]) for row in rows] == [("failed", reason), ("junk", rows[1]["reason"])]
    refused = Upload.objects.get(status="failed")
    assert not refused.file and "\x00" not in refused.original_name


def test_a_file_sent_without_a_name_gets_a_row(post_files):
    response = post_files((b"", ACTIVITY_FIT.read_bytes()[:2000]), (b"settings.fit", SETTINGS_FIT.read_bytes()))

    assert response.status_code == 200
    assert [(row["status"], row["reason"]) for row in response.json()["files"]] == [
        ("junk", "junk: settings file"), ("failed", "refused: no usable file name ('')"),
    ]


def zip_with_member_named(name: bytes, data: bytes) -> bytes:
    """A zip whose member is called `name` (NUL bytes included, which zipfile cannot write)."""
    placeholder = b"X" * len(name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(placeholder.decode(), data)
        archive.writestr("good.fit", ACTIVITY_FIT.read_bytes())
    return buffer.getvalue().replace(placeholder, name)


def test_a_member_name_with_a_nul_byte_is_refused_by_name_with_a_row(ingest, tmp_path):
    path = tmp_path / "nul.zip"
    path.write_bytes(zip_with_member_named(b"evil.fit\x00.txt", ACTIVITY_FIT.read_bytes()))
    rows = {(u.original_name, u.status, u.reason) for u in ingest(path)}

    assert rows == {
        ("nul.zip/evil.fit\ufffd.txt", "failed", "refused: the name contains a NUL byte ('evil.fit\\x00.txt')"),
        ("nul.zip/good.fit", "queued", ""),
    }


def tar_gz(*, compress: bool = True) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if compress else "w") as archive:
        info = tarfile.TarInfo("ride.fit")
        data = ACTIVITY_FIT.read_bytes()
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "compress"), [("rides.tar.gz", True), ("rides.tgz", True), ("rides.tar", False)])
def test_tar_archives_are_refused_as_tar_not_as_unreadable_gzip(ingest, tmp_path, name, compress):
    path = tmp_path / name
    path.write_bytes(tar_gz(compress=compress))
    (upload,) = ingest(path)
    assert upload.status == "failed"
    assert upload.reason == "unsupported: tar archives are not supported (upload the files themselves, or a zip)"
    assert not upload.file


def test_a_tar_inside_a_zip_is_named_as_tar_too(ingest, tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("old/rides.tgz", tar_gz())
    (upload,) = ingest(path)
    assert upload.original_name == "export.zip/old/rides.tgz"
    assert upload.reason.startswith("unsupported: tar archives are not supported")
