"""Peak memory of the web process while ONE request uploads 1 GB, against its idle figure.

Usage: .venv/bin/python bench/upload_web.py [--megabytes 1024]
The file is streamed from a generator (never built in memory here either) as one multipart
request; the server's worker must spool it to disk rather than hold it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._server import BenchServer, memory_kb

CHUNK = 1024 * 1024
BOUNDARY = "stravasyncbenchboundary"


class MultipartBody:
    """A multipart body of `size` bytes of file content, produced chunk by chunk."""

    def __init__(self, size: int) -> None:
        self.head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.fit\"\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n").encode()
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.size = size
        self.length = len(self.head) + size + len(self.tail)

    def __len__(self) -> int:
        return self.length

    def __iter__(self):
        yield self.head
        block = bytes(range(256)) * (CHUNK // 256)
        sent = 0
        while sent < self.size:
            piece = block[: min(CHUNK, self.size - sent)]
            sent += len(piece)
            yield piece
        yield self.tail


def login(server: BenchServer) -> requests.Session:
    server.manage("shell", "-c", (
        "from django.contrib.auth import get_user_model; from accounts.models import Athlete;"
        "u = get_user_model().objects.create_user('bench', password='bench-pass-123');"
        "Athlete.objects.create(user=u, strava_id=424242, firstname='Bench', scopes='read,activity:write')"
    ))
    session = requests.Session()
    session.get(server.url + "/admin/login/")
    # A plain session login through Django's auth view (admin login needs staff: use the test client route).
    server.manage("shell", "-c", "from django.contrib.auth import get_user_model;"
                  "u=get_user_model().objects.get(username='bench'); u.is_staff=True; u.save()")
    session.post(server.url + "/admin/login/", data={
        "username": "bench", "password": "bench-pass-123", "csrfmiddlewaretoken": session.cookies["csrftoken"],
        "next": "/admin/"}, headers={"Referer": server.url + "/admin/login/"})
    return session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=1024)
    args = parser.parse_args()
    with BenchServer("upload_web", {"UPLOADS_WEB_MAX_REQUEST_BYTES": str(4 * 1024**3)}, workers=1, threads=2) as server:
        session = login(server)
        csrf = session.cookies["csrftoken"]
        headers = {"X-CSRFToken": csrf, "Referer": server.url + "/uploads/new/"}
        for _ in range(3):  # warm up: imports, templates, a small upload
            session.get(server.url + "/uploads/new/")
        batch = session.post(server.url + "/uploads/batches/", headers=headers).json()
        (worker,) = server.worker_pids()
        idle = memory_kb(worker, "VmRSS")
        body = MultipartBody(args.megabytes * CHUNK)
        started = time.monotonic()
        answer = session.post(
            f"{server.url}/uploads/batches/{batch['id']}/files/", data=body, headers={
                **headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            timeout=1200,
        )
        elapsed = time.monotonic() - started
        peak = memory_kb(worker, "VmHWM")
        answer.raise_for_status()
        verdict = answer.json()["files"][0]
    print(f"one request of {args.megabytes} MB to /uploads/batches/<id>/files/ in {elapsed:.1f} s "
          f"({args.megabytes / elapsed:.0f} MB/s); the file's verdict: {verdict['status']} ({verdict['reason']})")
    print(f"{'web worker memory':28} {'MB':>8}")
    print(f"{'idle (after warm-up)':28} {idle / 1024:8.1f}")
    print(f"{'peak during the upload':28} {peak / 1024:8.1f}")
    print(f"{'growth':28} {(peak - idle) / 1024:8.1f}   (goal: within 100 MB)")


if __name__ == "__main__":
    main()
