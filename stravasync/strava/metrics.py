"""Prometheus counters the one Strava client increments (gauges are computed at scrape time, in ops)."""

from __future__ import annotations

import re

from prometheus_client import Counter

CALLS = Counter("stravasync_strava_calls", "Strava API requests sent, by endpoint and HTTP status",
                ["method", "endpoint", "status"])
RATE_LIMITED = Counter("stravasync_strava_rate_limited", "Strava answers 429 (Too Many Requests)")

_ID = re.compile(r"/\d+(?=/|$)")


def endpoint_label(path: str) -> str:
    """`activities/123` -> `/activities/{id}`: one time series per endpoint, not per activity."""
    return _ID.sub("/{id}", "/" + path.strip("/"))


def call_count(*, method: str, path: str, status: int | str) -> None:
    CALLS.labels(method=method, endpoint=endpoint_label(path), status=str(status)).inc()
    if status == 429:
        RATE_LIMITED.inc()
