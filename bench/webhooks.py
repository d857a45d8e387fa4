"""The webhook callback under Strava's traffic: the handshake and event POSTs at a sustained 50 per second.

    .venv/bin/python bench/webhooks.py [--rate 50 --seconds 10 --duplicates 0.1]

Starts the app (gunicorn, 1 worker × 8 threads, throwaway SQLite under var/bench/) and sends, open loop
(each request leaves at its own fixed time whether or not earlier ones were answered), first the GET
handshake for `--handshake-seconds`, then events for `--seconds`. A share of the events is delivered a
second time, as Strava retries an event it thinks unacknowledged. A latency runs from a request's planned
send time to its answer, so a server that falls behind shows it. Target: < 100 ms median for both (issue 13),
every answer 200, one stored row per event, duplicates recognised.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._server import BenchServer

TOKEN = "bench-verify-token"
TARGET_MS = 100.0


@dataclass
class Phase:
    """What one open-loop run measured."""

    name: str
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    late_starts: int = 0  # requests the sender itself could not start on time (> 10 ms late)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, latency_ms: float, status: int) -> None:
        with self.lock:
            self.latencies_ms.append(latency_ms)
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def median(self) -> float:
        return statistics.median(self.latencies_ms)

    def p95(self) -> float:
        return statistics.quantiles(self.latencies_ms, n=20)[-1]


def open_loop(phase: Phase, requests_: list[tuple[str, str, dict]], rate: float) -> float:
    """Send request i at start + i/rate from a pool; returns the achieved rate (requests per second)."""
    interval = 1.0 / rate

    def send(planned: float, method: str, url: str, kwargs: dict) -> None:
        try:
            # A new connection each time, as Strava's deliveries come.
            status = requests.request(method, url, timeout=5, **kwargs).status_code
        except requests.RequestException:
            status = 0
        phase.record((time.perf_counter() - planned) * 1000, status)

    with ThreadPoolExecutor(max_workers=64) as pool:
        start = time.perf_counter() + 0.05
        for i, (method, url, kwargs) in enumerate(requests_):
            planned = start + i * interval
            delay = planned - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.010:
                phase.late_starts += 1
            pool.submit(send, planned, method, url, kwargs)
    elapsed = time.perf_counter() - start
    return len(requests_) / elapsed


def handshakes(url: str, count: int) -> list[tuple[str, str, dict]]:
    return [("GET", url, {"params": {"hub.mode": "subscribe", "hub.challenge": f"c{i}", "hub.verify_token": TOKEN}})
            for i in range(count)]


def events(url: str, count: int, duplicates: float, rng: random.Random) -> tuple[list[tuple[str, str, dict]], int]:
    """`count` deliveries of which about `duplicates` are second deliveries of an earlier event; (deliveries, events)."""
    now = int(time.time())
    sent: list[dict] = []
    deliveries = []
    for i in range(count):
        if sent and rng.random() < duplicates:
            body = rng.choice(sent[-50:])  # a retry comes soon after the first attempt
        else:
            kind = rng.choices(["create", "update", "delete"], weights=[70, 20, 10])[0]
            body = {"aspect_type": kind, "event_time": now + i // 10, "object_id": 10**10 + i, "object_type": "activity",
                    "owner_id": 7_000_000 + i % 40, "subscription_id": 1,
                    "updates": {"title": f"Ride {i}"} if kind == "update" else {}}
            sent.append(body)
        deliveries.append(("POST", url, {"json": body}))
    return deliveries, len(sent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second, sustained")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long events are sent")
    parser.add_argument("--handshake-seconds", type=float, default=4.0, help="how long handshakes are sent")
    parser.add_argument("--duplicates", type=float, default=0.1, help="share of deliveries that repeat an event")
    args = parser.parse_args()

    with BenchServer("webhooks", {"STRAVA_WEBHOOK_VERIFY_TOKEN": TOKEN}) as server:
        url = f"{server.url}/strava/webhook/"
        wrong = requests.get(url, params={"hub.mode": "subscribe", "hub.challenge": "x", "hub.verify_token": "nope"},
                             timeout=5)
        for _ in range(20):  # warm-up: imports, the first database connection
            requests.get(url, params={"hub.challenge": "w", "hub.verify_token": TOKEN}, timeout=5)

        handshake = Phase("GET handshake")
        handshake_rate = open_loop(handshake, handshakes(url, int(args.rate * args.handshake_seconds)), args.rate)
        posted = Phase("event POST")
        deliveries, distinct = events(url, int(args.rate * args.seconds), args.duplicates, random.Random(13))
        posted_rate = open_loop(posted, deliveries, args.rate)
        stored = int(server.manage("shell", "-v", "0", "-c", "from webhooks.models import WebhookEvent;"
                                   "print(WebhookEvent.objects.count())").split()[-1])

    print(f"Webhook callback, open loop at {args.rate:g}/s (gunicorn 1 worker × 8 threads, SQLite):")
    print(f"  wrong verify token → {wrong.status_code} (expected 403)")
    print(f"  {'':<15} {'sent':>6} {'rate/s':>7} {'median':>9} {'p95':>9} {'target':>12}  answers")
    for phase, rate in ((handshake, handshake_rate), (posted, posted_rate)):
        answers = ", ".join(f"{n}×{status or 'no answer'}" for status, n in sorted(phase.statuses.items()))
        print(f"  {phase.name:<15} {len(phase.latencies_ms):>6} {rate:>7.1f} {phase.median():>7.1f}ms"
              f" {phase.p95():>7.1f}ms {'< 100 ms med':>12}  {answers}"
              + (f" ({phase.late_starts} sent late by the bench)" if phase.late_starts else ""))
    print(f"  events: {len(deliveries)} deliveries of {distinct} events → {stored} rows stored "
          f"(expected {distinct}: {len(deliveries) - distinct} duplicates recognised)")
    ok = (wrong.status_code == 403 and stored == distinct and handshake.median() < TARGET_MS
          and posted.median() < TARGET_MS and set(handshake.statuses) == {200} and set(posted.statuses) == {200})
    print("  within target" if ok else "  NOT within target")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
